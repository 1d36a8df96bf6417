package config

import (
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestInvalidGolden shows, in one reviewable file, everything an operator
// is told about a config full of mistakes.
func TestInvalidGolden(t *testing.T) {
	const in, golden = "testdata/invalid.yaml", "testdata/invalid.golden"
	_, err := Load(in)
	if err == nil {
		t.Fatalf("Load(%s) = nil error, want errors", in)
	}
	got := err.Error() + "\n"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("Load(%s) errors differ from %s (-want +got):\n%s", in, golden, diff)
	}
}
