package migrate

import (
	"context"
	"database/sql"
)

// RehearseForTest runs the shadow gate alone, for the benchmark: the lint
// and the apply on production are measured apart.
func RehearseForTest(ctx context.Context, m *Migrator, db *sql.DB, version, dir string, todo []*File, progress func(string)) error {
	return m.shadowGate(ctx, db, rehearsal{expand: &step{Expand, version, dir, todo}}, orDiscard(progress))
}
