package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/store"
)

func TestDeployPreviewGoLiveRollback(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	prod := "http://" + in.listen + "/"
	c := &http.Client{}

	d := in.deploy("v2")
	if d.State != store.StateReady || d.Color != "green" {
		t.Fatalf("deploy v2 = %s on %s (%s), want ready on green", d.State, d.Color, d.Error)
	}
	var names []string
	for _, s := range d.Steps {
		names = append(names, s.Name+":"+s.State)
	}
	if got := strings.Join(names, " "); got != "fetch:done finalize:done migrate:skipped replace:done start:done health:done smoke:skipped" {
		t.Errorf("steps = %s", got)
	}
	if rel, _ := get(t, c, prod); rel != "v1" {
		t.Errorf("production while v2 is ready = %s, want v1", rel)
	}
	if rel, _ := get(t, c, prod, "X-Bascule-Preview", previewToken); rel != "v2" {
		t.Errorf("preview header with token = %s, want v2", rel)
	}
	if rel, _ := get(t, c, prod, "X-Bascule-Preview", "guess"); rel != "v1" {
		t.Errorf("preview header with a wrong token = %s, want v1 (the public never sees unreleased code)", rel)
	}
	if rel, _ := get(t, c, prod, "Cookie", "bascule_preview="+previewToken); rel != "v2" {
		t.Errorf("preview cookie with token = %s, want v2", rel)
	}

	ctx := context.Background()
	if _, err := in.cl.GoLive(ctx, "ship it"); err != nil {
		t.Fatal(err)
	}
	if rel, _ := get(t, c, prod); rel != "v2" {
		t.Errorf("production after go-live = %s, want v2", rel)
	}
	st, err := in.cl.Rollback(ctx, "oops", false)
	if err != nil {
		t.Fatal(err)
	}
	if rel, _ := get(t, c, prod); rel != "v1" || st.Live != "blue" {
		t.Errorf("production after rollback = %s (live %s), want v1 on blue", rel, st.Live)
	}
	hist, err := in.cl.Deployments(ctx, 10)
	if err != nil || len(hist) != 2 || hist[0].State != store.StateRolledBack || hist[0].RequestedBy != "token:admin" {
		t.Fatalf("history = %+v, %v; want v2 rolled_back first, asked by token:admin", hist, err)
	}
	// Rollback and go-live alternate while both colors run.
	if _, err := in.cl.GoLive(ctx, "again"); err != nil {
		t.Fatal(err)
	}
	if rel, _ := get(t, c, prod); rel != "v2" {
		t.Errorf("production after the second go-live = %s, want v2", rel)
	}
}

func TestFailedDeploymentsLeaveProductionUntouched(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	prod := "http://" + in.listen + "/"
	cases := []struct {
		version, extra, wantErr, wantLog string
	}{
		{"v2-crash", "crash=cannot reach the database", "exited", "cannot reach the database"},
		{"v3-unhealthy", "unhealthy=true", "500", ""},
	}
	for _, tc := range cases {
		t.Run(tc.version, func(t *testing.T) {
			in.addRelease(tc.version, tc.extra+"\n")
			d := in.deploy(tc.version)
			if d.State != store.StateFailed || !strings.Contains(d.Error, tc.wantErr) {
				t.Fatalf("deploy %s = %s %q, want failed with %q", tc.version, d.State, d.Error, tc.wantErr)
			}
			if tc.wantLog != "" && !strings.Contains(strings.Join(d.LogTail, "\n"), tc.wantLog) {
				t.Errorf("log tail = %q, want it to hold %q", d.LogTail, tc.wantLog)
			}
			if rel, code := get(t, http.DefaultClient, prod); rel != "v1" || code != 200 {
				t.Errorf("production after a failed deploy = %s %d, want v1 200", rel, code)
			}
			st, err := in.cl.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if g := st.Colors[1]; g.Running || g.Version != "" {
				t.Errorf("green after a failed deploy = %+v, want stopped and empty", g)
			}
			_, err = in.cl.GoLive(context.Background(), "")
			var ae *client.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
				t.Errorf("go-live after a failed deploy = %v, want 409", err)
			}
		})
	}
}

func TestOneDeploymentAtATime(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	ctx := context.Background()
	var ae *client.Error
	if _, err := in.cl.Rollback(ctx, "", false); !errors.As(err, &ae) || ae.Status != 409 || !strings.Contains(ae.Message, "nothing to roll back to") {
		t.Errorf("rollback with nothing = %v, want 409 nothing to roll back to", err)
	}
	if _, err := in.cl.GoLive(ctx, ""); !errors.As(err, &ae) || ae.Status != 409 {
		t.Errorf("go-live with nothing = %v, want 409", err)
	}
	in.addRelease("v1", "start_delay=1s\n")
	first, err := in.cl.Deploy(ctx, "v1", "first")
	if err != nil {
		t.Fatal(err)
	}
	_, err = in.cl.Deploy(ctx, "v1", "second")
	if !errors.As(err, &ae) || ae.Status != 409 || !strings.Contains(ae.Message, "deployment #1") || !strings.Contains(ae.Message, "token:admin") {
		t.Errorf("second deploy while one runs = %v, want 409 naming deployment #1 and who asked", err)
	}
	if _, err := in.cl.GoLive(ctx, ""); !errors.As(err, &ae) || ae.Status != 409 {
		t.Errorf("go-live during a deployment = %v, want 409", err)
	}
	var d store.Deployment
	in.cl.Follow(ctx, first.ID, func(u store.Deployment) { d = u })
	if d.State != store.StateReady {
		t.Fatalf("first deployment = %s (%s), want ready", d.State, d.Error)
	}
}

func TestSmokeTestFailureFailsTheDeployment(t *testing.T) {
	in := newInstance(t, `smoke_test:
  command: ["sh", "-c", "curl -fsS -H \"$BASCULE_PREVIEW_HEADER: $BASCULE_PREVIEW_TOKEN\" $BASCULE_PREVIEW_URL/ | grep -q v1 || { echo smoke: wrong release; exit 3; }"]
  timeout: 10s
`)
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	d := in.deploy("v2")
	if d.State != store.StateFailed || !strings.Contains(d.Error, "smoke: wrong release") {
		t.Fatalf("deploy v2 with a failing smoke test = %s %q, want failed naming the smoke output", d.State, d.Error)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+in.listen+"/"); rel != "v1" {
		t.Errorf("production = %s, want v1", rel)
	}
}

// TestZeroInterruption is the promise of the router: under continuous load,
// keep-alive and fresh connections mixed, 50 switches fail no request, and
// after each switch returns every new request is answered by the new color.
func TestZeroInterruption(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	if d := in.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s", d.State)
	}
	prod := "http://" + in.listen + "/"
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var served, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	load := func(c *http.Client) {
		defer wg.Done()
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, prod, nil)
			resp, err := c.Do(req)
			if ctx.Err() != nil {
				return
			}
			if err != nil || resp.StatusCode != 200 {
				failed.Add(1)
				if err == nil {
					err = errors.New(resp.Status)
				}
				firstErr.CompareAndSwap(nil, err.Error())
			} else {
				served.Add(1)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	}
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go load(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}})
		go load(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}})
	}
	probe := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get(t, probe, prod) // open the kept-alive connection the probe reuses

	// A slow request in flight across a switch completes on its color.
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + in.listen + "/sleep?ms=2000")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer resp.Body.Close()
		slow <- resp.Header.Get("X-Release")
	}()
	waitFor(t, 5*time.Second, "the slow request to be in flight", func() bool {
		st, _ := in.cl.Status(ctx)
		return len(st.Colors) == 2 && st.Colors[0].InFlight > 0
	})

	want := map[bool]string{true: "v2", false: "v1"}
	for i := 0; i < 50; i++ {
		var err error
		if i%2 == 0 {
			_, err = in.cl.GoLive(ctx, "load test")
		} else {
			_, err = in.cl.Rollback(ctx, "load test", false)
		}
		if err != nil {
			t.Fatalf("switch %d: %v", i, err)
		}
		if rel, _ := get(t, probe, prod); rel != want[i%2 == 0] {
			t.Fatalf("after switch %d the next request on a kept-alive connection got %s, want %s", i, rel, want[i%2 == 0])
		}
		if i == 0 {
			if rel := <-slow; rel != "v1" {
				t.Errorf("a 2s request in flight across the switch = %q, want it completed by v1", rel)
			}
		}
	}
	cancel()
	wg.Wait()
	t.Logf("%d requests served during 50 switches", served.Load())
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed across 50 switches (first: %v), want 0", n, firstErr.Load())
	}
	if served.Load() < 100 {
		t.Errorf("only %d requests served: the load did not run", served.Load())
	}
}
