package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// users are many distinct people, half known by the app's own cookie
// (progressive.sticky_cookie: uid), half by bascule's cohort cookie.
type users struct {
	n   int
	url string
	c   *http.Client
}

func (u users) header(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf("uid=user-%d; theme=dark", i)
	}
	return fmt.Sprintf("bascule_cohort=cohort-%d", i)
}

// releases returns the release each user gets.
func (u users) releases(t *testing.T) []string {
	t.Helper()
	out := make([]string, u.n)
	for i := range u.n {
		req, _ := http.NewRequest("GET", u.url, nil)
		req.Header.Set("Cookie", u.header(i))
		resp, err := u.c.Do(req)
		if err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out[i] = resp.Header.Get("X-Release")
	}
	return out
}

// percent is the share of users on v2 the go-live is at: 0 before it
// starts (no guard watches v2 yet), 100 once it has ended.
func percent(t *testing.T, in *instance) int {
	t.Helper()
	st, err := in.cl.GoLiveState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case st.Progressive != nil:
		return st.Progressive.Percent
	case st.Guard != nil && st.Guard.Version == "v2":
		return 100
	}
	return 0
}

// TestProgressiveGoLiveThroughTheBinary is the second "done when",
// healthy half: `bascule go-live --steps 10,50,100` through the binary;
// at each step each of many distinct users stays on one release, the share
// on v2 is the step's, no user on v2 goes back, and the go-live ends with
// everyone on v2 and --watch exiting 0.
func TestProgressiveGoLiveThroughTheBinary(t *testing.T) {
	blue, green := newStaticApp(t, "v1"), newStaticApp(t, "v2")
	in := newStaticInstance(t, blue, green, "guard:\n  window: 2s\nprogressive:\n  sticky_cookie: uid\n")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	in.deploy("v2")
	u := users{n: 300, url: "http://" + in.listen + "/", c: &http.Client{Timeout: 5 * time.Second}}
	done := make(chan [2]any, 1)
	go func() {
		out, code := runCLI(t, in, "go-live", "--steps", "10,50,100", "--interval", "4s", "--watch", "-m", "step by step")
		done <- [2]any{out, code}
	}()
	onV2 := map[int]bool{}
	checked := map[int]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(checked) < 3 && time.Now().Before(deadline) {
		pct := percent(t, in)
		if pct < 10 || checked[pct] {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		first, again := u.releases(t), u.releases(t)
		if percent(t, in) != pct {
			continue // the step changed during the round: look again at the next one
		}
		if pct == 10 {
			if out, _ := runCLI(t, in, "status"); !strings.Contains(out, "v2 is going live step by step: 10% of users on green, step 1 of 3") {
				t.Errorf("status at 10%% does not show the go-live:\n%s", out)
			}
		}
		checked[pct] = true
		n := 0
		for i := range first {
			if first[i] != again[i] {
				t.Fatalf("at %d%%: user %d got %s, then %s", pct, i, first[i], again[i])
			}
			switch {
			case first[i] == "v2":
				n++
				onV2[i] = true
			case onV2[i]:
				t.Fatalf("user %d went back to v1 at %d%%", i, pct)
			}
		}
		if share := 100 * n / u.n; share < pct-8 || share > pct+8 {
			t.Errorf("at %d%%: %d%% of %d users on v2", pct, share, u.n)
		}
		t.Logf("at %d%%: %d of %d users on v2", pct, n, u.n)
	}
	if len(checked) != 3 {
		t.Fatalf("saw the steps %v, want 10, 50 and 100", checked)
	}
	res := <-done
	out, code := res[0].(string), res[1].(int)
	t.Logf("bascule go-live --watch (exit %d):\n%s", code, out)
	for _, want := range []string{"v2 is going live progressively: 10% of users on green, step 1 of 3 (10,50,100)",
		"50% of users on green, step 2 of 3", "guard: v2 passed: "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("go-live --watch = exit %d, lacks %q:\n%s", code, want, out)
		}
	}
	hist, _ := in.cl.Deployments(context.Background(), 1)
	if len(hist) != 1 || hist[0].State != store.StateLive {
		t.Errorf("v2's record = %+v, want live", hist)
	}
}

// TestProgressiveBreachThroughTheBinary is its other half: v2 fails 30 %
// of its requests at the 10 % step, the guard rolls back, and every user
// is on v1 again; --watch exits 1 and the record says why.
func TestProgressiveBreachThroughTheBinary(t *testing.T) {
	blue, green := newStaticApp(t, "v1"), newStaticApp(t, "v2")
	green.fail.Store(300)
	in := newStaticInstance(t, blue, green, "guard:\n  window: 1m\nprogressive:\n  sticky_cookie: uid\n")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	in.deploy("v2")
	// Requests without cookies: each is a new user, a tenth of them on v2.
	l := startSteadyLoad(t, "http://"+in.listen+"/")
	l.waitRequests(t, 1000)
	out, code := runCLI(t, in, "go-live", "--steps", "10,50,100", "--interval", "1m", "--watch")
	t.Logf("bascule go-live --watch (exit %d):\n%s", code, out)
	l.end()
	if code != 1 || !strings.Contains(out, "10% of users on green") || !strings.Contains(out, "guard: rolled v2 back to blue: ") {
		t.Errorf("go-live --watch = exit %d:\n%s\nwant exit 1, the guard's rollback at 10%%", code, out)
	}
	u := users{n: 300, url: "http://" + in.listen + "/", c: &http.Client{Timeout: 5 * time.Second}}
	for i, rel := range u.releases(t) {
		if rel != "v1" {
			t.Fatalf("user %d on %s after the rollback, want v1", i, rel)
		}
	}
	hist, _ := in.cl.Deployments(context.Background(), 1)
	if len(hist) != 1 || hist[0].State != store.StateRolledBack || !strings.HasPrefix(hist[0].Error, "guard: ") {
		t.Errorf("v2's record = %+v, want rolled_back by the guard", hist)
	}
	st, _ := in.cl.GoLiveState(context.Background())
	if st.Progressive != nil {
		t.Errorf("a progressive go-live is still in progress: %+v", st.Progressive)
	}
}
