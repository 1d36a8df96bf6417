package pgtest

import "testing"

// BenchmarkNewDatabase is what every test that needs PostgreSQL pays before
// its first query.
func BenchmarkNewDatabase(b *testing.B) {
	srv := pg.Server(b)
	b.ReportAllocs()
	for b.Loop() {
		srv.NewDatabase(b)
	}
}
