package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// While a release starts and fails its health check, status keeps to
// short states and names the release being deployed; --wide and --json
// carry the health check's error.
func TestStatusShortStatesAndWide(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "start_delay=3s")
	if out, code := runCLI(t, in, "deploy", "v2", "--detach"); code != 0 {
		t.Fatalf("deploy --detach = %d %q", code, out)
	}
	var out string
	waitFor(t, 10*time.Second, "v2 running but not healthy yet", func() bool {
		st, err := in.cl.Status(context.Background())
		if err != nil || st.Deployment == nil || st.Deployment.State == store.StateQueued {
			return false
		}
		for _, cs := range st.Colors {
			if cs.Color == "green" && cs.Running && !cs.Healthy {
				out, _ = runCLI(t, in, "status")
				return strings.Contains(out, "unhealthy")
			}
		}
		return false
	})
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 100 {
			t.Errorf("status line is %d characters wide: %q", len(line), line)
		}
	}
	if !strings.Contains(out, "green  idle  v2") || !strings.Contains(out, "bascule status --wide") {
		t.Errorf("status during the deployment of v2:\n%s\nwant v2 on green, unhealthy, and where to see why", out)
	}
	wide, _ := runCLI(t, in, "status", "--wide")
	if !strings.Contains(wide, "HEALTH DETAIL") || !strings.Contains(wide, "refused") {
		t.Errorf("status --wide:\n%s\nwant the health check's error", wide)
	}
	if js, _ := runCLI(t, in, "status", "--json"); !strings.Contains(js, `"health_error"`) {
		t.Errorf("status --json lacks health_error:\n%s", js)
	}
}

// A CLI following a deployment when bascule dies says so, and how to
// find out how the deployment ended.
func TestDeployFollowSaysServerWentAway(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "start_delay=10s")
	out := &syncBuffer{}
	var code int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		env := map[string]string{"BASCULE_URL": "http://" + in.control, "BASCULE_TOKEN": adminToken}
		code = run(context.Background(), []string{"deploy", "v2"}, out, out, func(k string) string { return env[k] })
	}()
	waitFor(t, 10*time.Second, "the CLI following the deployment", func() bool {
		return strings.Contains(out.String(), "✓ start")
	})
	in.kill()
	wg.Wait()
	got := out.String()
	if code != 1 || !strings.Contains(got, "bascule went away while deployment #2 of v2") ||
		!strings.Contains(got, "'bascule status'") || strings.Contains(got, "unexpected EOF") {
		t.Errorf("deploy when bascule dies = %d\n%s\nwant it to say bascule went away and how to check", code, got)
	}
	if out, code := runCLI(t, in, "status"); code != 1 || !strings.Contains(out, "no bascule answers at") {
		t.Errorf("status with bascule gone = %d %q, want it to say no bascule answers", code, out)
	}
	in.start() // adopts the apps the kill left running; its cleanup stops them
	if out, _ := runCLI(t, in, "history"); !strings.Contains(out, "failed") {
		t.Errorf("history after the restart:\n%s\nwant the interrupted deployment failed, as the CLI said", out)
	}
}
