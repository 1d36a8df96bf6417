package config

import (
	"os"
	"testing"
)

// BenchmarkParseFull measures loading the full example: start-up cost only,
// but it bounds what a config reload would cost.
func BenchmarkParseFull(b *testing.B) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	lookup := env(map[string]string{"BASCULE_PREVIEW_TOKEN": "t", "DATABASE_URL": "postgres://127.0.0.1/x"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse("full.yaml", data, lookup); err != nil {
			b.Fatal(err)
		}
	}
}
