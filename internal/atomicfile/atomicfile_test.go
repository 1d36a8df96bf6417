package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bascule/bascule/internal/atomicfile"
)

// A write replaces the whole file and leaves no temporary file behind.
func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "routing.json")
	for _, content := range []string{`{"live":"blue"}`, `{"live":"green"}`} {
		if err := atomicfile.Write(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read back %q, %v; want %q", got, err, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want only routing.json", len(entries))
	}
}

// A write that cannot happen says where, and leaves the old file as it was.
func TestWriteFailureKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := atomicfile.Write(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A directory in the way of the rename.
	if err := atomicfile.Write(dir, []byte("new")); err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("old file = %q after a failed write elsewhere, want old", got)
	}
	if err := atomicfile.Write(filepath.Join(dir, "missing", "x.json"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
