//go:build linux

package process

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProcStat(t *testing.T) {
	// A command name may hold spaces and parentheses.
	line := "4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1000 200"
	got, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatalf("parseProcStat: %v", err)
	}
	want := procStat{state: 'S', pgrp: 4242, start: 987654}
	if got != want {
		t.Errorf("parseProcStat(%q) = %+v, want %+v", line, got, want)
	}
	for _, bad := range []string{"", "12 (x", "12 (x) S 1 2", "12 (x) S 1 x 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) = nil error, want one", bad)
		}
	}
}

func TestTail(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", tailChunk+100) // a line across chunk boundaries
	var many []string
	for i := range 3000 {
		many = append(many, fmt.Sprintf("line %d", i))
	}
	tests := []struct {
		name, content string
		n             int
		want          []string
	}{
		{"missing file", "", 3, nil},
		{"empty", "", 3, nil},
		{"fewer lines than asked", "a\nb\n", 5, []string{"a", "b"}},
		{"last lines", "a\nb\nc\nd\n", 2, []string{"c", "d"}},
		{"unterminated last line", "a\nb\nc", 2, []string{"b", "c"}},
		{"zero", "a\n", 0, nil},
		{"long line", "a\n" + long + "\nb\n", 2, []string{long, "b"}},
		{"many chunks", strings.Join(many, "\n") + "\n", 3, many[len(many)-3:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if tt.name != "missing file" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, tail(path, tt.n)); diff != "" {
				t.Errorf("tail(%d) mismatch (-want +got):\n%s", tt.n, diff)
			}
		})
	}
}

// BenchmarkLogs measures Logs(color, 50) on a 10 MB log: the UI asks for
// it on every deploy page refresh.
func BenchmarkLogs(b *testing.B) {
	dir := b.TempDir()
	d, err := New(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	line := strings.Repeat("request served in 1.2ms status=200 path=/api/things ", 2) + "\n"
	content := strings.Repeat(line, 10<<20/len(line))
	if err := os.WriteFile(filepath.Join(dir, "blue", logName), []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := d.Logs("blue", 50); len(got) != 50 {
			b.Fatalf("Logs = %d lines, want 50", len(got))
		}
	}
}

// BenchmarkAlive measures the liveness check adopted apps are polled with.
func BenchmarkAlive(b *testing.B) {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !alive(os.Getpid(), st.start) {
			b.Fatal("alive(self) = false")
		}
	}
}
