package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/store"
)

// TestAuditIsAppendOnly tampers with the audit log below the store, as
// someone with a SQL prompt would: the database refuses.
func TestAuditIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pg.NewDatabase(t)
	db := open(t, url)
	if err := db.AppendAudit(ctx, &store.AuditEntry{Actor: "alice", Action: "deploy", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, url)
	for _, sql := range []string{
		`UPDATE audit SET actor = 'mallory'`,
		`DELETE FROM audit`,
		`TRUNCATE audit`,
	} {
		_, err := conn.Exec(ctx, sql)
		if err == nil || !strings.Contains(err.Error(), "append only") {
			t.Errorf("%s = %v, want the append-only error", sql, err)
		}
	}
	got, err := db.ListAudit(ctx, 10)
	if err != nil || len(got) != 1 || got[0].Actor != "alice" {
		t.Errorf("ListAudit after tampering = %+v, %v; want alice's entry unchanged", got, err)
	}
}
