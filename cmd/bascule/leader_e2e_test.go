package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/pgtest"
	"github.com/bascule/bascule/internal/store"
)

// leaderView is GET /api/v1/leader as the test reads it.
type leaderView struct {
	Instance string       `json:"instance"`
	Leading  bool         `json:"leading"`
	Leader   *store.Lease `json:"leader"`
}

func (in *instance) leader(t *testing.T) (leaderView, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+in.control+"/api/v1/leader", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return leaderView{}, err
	}
	defer resp.Body.Close()
	var v leaderView
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("GET /api/v1/leader = %s", resp.Status)
	}
	return v, json.NewDecoder(resp.Body).Decode(&v)
}

// TestLeaderKilledMidDeployment: two `bascule serve` processes share one
// PostgreSQL store. A deployment asked through the follower runs on the
// leader, whose smoke test blocks. The leader is killed with SIGKILL: the
// follower takes over within the lease's TTL, fails the interrupted
// deployment cleanly, as a restart would, and no step runs twice.
func TestLeaderKilledMidDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two bascule processes and PostgreSQL")
	}
	pgURL := pgtest.Start(t).NewDatabase(t)
	blue, green := newStaticApp(t, "blue"), newStaticApp(t, "green")
	gate := t.TempDir()
	runs, goAhead := filepath.Join(gate, "smoke-runs"), filepath.Join(gate, "go")
	// The smoke test counts its runs, then waits for the test's go-ahead
	// (a minute at most, so that an orphan never outlives the test long).
	script := fmt.Sprintf(`echo run >> %s; i=0; while [ ! -e %s ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done; echo smoke passed`, runs, goAhead)
	const ttl = 3 * time.Second
	extra := fmt.Sprintf(`store:
  driver: postgres
  url: %q
control_lease_ttl: %s
smoke_test:
  command: ["sh", "-c", %q]
  timeout: 60s
`, pgURL, ttl, script)
	t.Cleanup(func() { os.WriteFile(goAhead, nil, 0o644) }) // let an orphaned smoke test end

	a := newStaticInstance(t, blue, green, extra)
	a.start()
	b := newStaticInstance(t, blue, green, extra)
	b.start()
	la, err := a.leader(t)
	if err != nil || !la.Leading {
		t.Fatalf("first instance: %+v, %v; want it leading", la, err)
	}
	lb, err := b.leader(t)
	if err != nil || lb.Leading || lb.Leader == nil || lb.Leader.Holder != la.Instance {
		t.Fatalf("second instance: %+v, %v; want it following %s", lb, err, la.Instance)
	}

	// CI talks to the follower.
	b.addRelease("v1", "")
	ctx := context.Background()
	d, err := b.cl.Deploy(ctx, "v1", "ci")
	if err != nil {
		t.Fatalf("Deploy through the follower = %v", err)
	}
	waitFor(t, 20*time.Second, "the smoke test to start on the leader", func() bool {
		b, _ := os.ReadFile(runs)
		return len(b) > 0
	})

	a.kill()
	killed := time.Now()
	var took time.Duration
	waitFor(t, 3*ttl, "the follower to take over", func() bool {
		v, err := b.leader(t)
		if err == nil && v.Leading {
			took = time.Since(killed)
			lb = v
			return true
		}
		return false
	})
	t.Logf("takeover %s after kill -9 of the leader (lease TTL %s)", took.Round(time.Millisecond), ttl)
	if took > ttl+time.Second {
		t.Errorf("takeover took %s, want within the lease TTL %s (and a retry)", took, ttl)
	}
	if lb.Leader == nil || lb.Leader.Token <= la.Leader.Token {
		t.Errorf("new leader's lease %+v, want a token above %d", lb.Leader, la.Leader.Token)
	}

	// The new leader's recovery, which follows its taking the lease, fails
	// the deployment cleanly.
	var got store.Deployment
	waitFor(t, 10*time.Second, "the new leader to recover", func() bool {
		got, err = b.cl.Deployment(ctx, d.ID)
		return err == nil && !store.Active(got.State)
	})
	t.Logf("deployment ended %s after kill -9", time.Since(killed).Round(time.Millisecond))
	if got.State != store.StateFailed || !strings.Contains(got.Error, `interrupted`) || !strings.Contains(got.Error, `"smoke"`) {
		t.Errorf("deployment after the takeover = %s %q; want failed, interrupted during smoke", got.State, got.Error)
	}
	st, err := b.cl.Status(ctx)
	if err != nil || st.Deployment != nil {
		t.Errorf("status after the takeover = %+v, %v; want no deployment in progress", st.Deployment, err)
	}

	// Nothing ran the smoke test again: not the new leader's recovery,
	// nor the old leader's orphaned smoke test once it ends.
	os.WriteFile(goAhead, nil, 0o644)
	deadline := time.Now().Add(2 * ttl)
	for time.Now().Before(deadline) {
		if n := strings.Count(readFile(t, runs), "run"); n != 1 {
			t.Fatalf("the smoke test ran %d times, want once", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, _ = b.cl.Deployment(ctx, d.ID)
	if got.State != store.StateFailed {
		t.Errorf("deployment after the old leader's smoke test ended = %s, want still failed", got.State)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
