package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// BenchmarkTokenByHash is the lookup behind every API request.
func BenchmarkTokenByHash(b *testing.B) {
	ctx := context.Background()
	db := open(b, pg.NewDatabase(b))
	if err := db.CreateToken(ctx, &store.Token{Name: "ci", Hash: "h", Role: store.RoleDeployer}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.TokenByHash(ctx, "h"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSession is the lookup behind every web UI request.
func BenchmarkSession(b *testing.B) {
	ctx := context.Background()
	db := open(b, pg.NewDatabase(b))
	if err := db.CreateUser(ctx, &store.User{Name: "alice", Role: store.RoleAdmin, PasswordHash: "x"}); err != nil {
		b.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	if err := db.CreateSession(ctx, store.Session{IDHash: "h", User: "alice", ExpiresAt: exp}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Session(ctx, "h"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendAudit is the write every action makes.
func BenchmarkAppendAudit(b *testing.B) {
	ctx := context.Background()
	db := open(b, pg.NewDatabase(b))
	b.ReportAllocs()
	for b.Loop() {
		if err := db.AppendAudit(ctx, &store.AuditEntry{At: time.Now(), Actor: "alice", Action: "deploy", Outcome: "ok"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateDeployment is the write at every pipeline step.
func BenchmarkUpdateDeployment(b *testing.B) {
	ctx := context.Background()
	db := open(b, pg.NewDatabase(b))
	if err := db.CreateRelease(ctx, store.Release{Version: "v1"}); err != nil {
		b.Fatal(err)
	}
	d := &store.Deployment{App: "shop", Version: "v1", Color: "green", State: store.StateQueued, LogTail: []string{"listening on :8080"},
		Steps: []store.Step{{Name: "migrating", State: store.StepDone}, {Name: "starting", State: store.StepRunning}}}
	if err := db.CreateDeployment(ctx, d); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		d.UpdatedAt = time.Now()
		if err := db.UpdateDeployment(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
}
