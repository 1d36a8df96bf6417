package router

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/feature"
)

// splitOptions are a router's options for progressive go-lives: the flags'
// bucketing function, as bascule serve wires it.
func splitOptions() Options {
	return Options{Bucket: feature.Bucket, PreviewToken: "tok", CohortKeyHeader: "X-User", CohortKeyCookie: "uid"}
}

// fronts are the router's two ways in: its own fast path, and net/http
// (which takes what the fast path hands over).
func fronts(t *testing.T, r *Router) map[string]string {
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return map[string]string{"fast path": serve(t, r), "net/http": srv.URL}
}

// colorFor sends one request carrying header (name, value pairs) and
// returns the color that answered and the Set-Cookie it got.
func colorFor(t *testing.T, c *http.Client, url string, header ...string) (Color, string) {
	t.Helper()
	req := mustRequest(t, "GET", url+"/")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	return Color(resp.Header.Get("X-Color")), resp.Header.Get("Set-Cookie")
}

// TestSplitIsStickyAndGrows: at each weight, each of many users sees one
// color on every request, the share of users on green is the weight, and
// a user on green at 10 % is still on green at 50 %; the users are keyed
// by the app's header, the app's cookie, or bascule's cohort cookie.
func TestSplitIsStickyAndGrows(t *testing.T) {
	r, _, _ := newPair(t, splitOptions(), nil, nil)
	const users = 400
	// Each way of keying a user: the header a request carries, and the key
	// it holds.
	keys := []func(i int) (header []string, key string){
		func(i int) ([]string, string) {
			return []string{"X-User", fmt.Sprint("user-", i)}, fmt.Sprint("user-", i)
		},
		func(i int) ([]string, string) {
			return []string{"Cookie", fmt.Sprintf("theme=dark; uid=user-%d", i)}, fmt.Sprint("user-", i)
		},
		func(i int) ([]string, string) {
			return []string{"Cookie", fmt.Sprint("bascule_cohort=c", i)}, fmt.Sprint("c", i)
		},
	}
	for name, url := range fronts(t, r) {
		c := newClient(true)
		for k, key := range keys {
			wasGreen := map[int]bool{}
			for _, pct := range []uint32{10, 50, 100} {
				if err := r.SetSplit(&Split{To: Green, Weight: pct * 1000, Salt: "deploy-7"}); err != nil {
					t.Fatal(err)
				}
				green := 0
				for i := range users {
					header, userKey := key(i)
					first, _ := colorFor(t, c, url, header...)
					if again, _ := colorFor(t, c, url, header...); again != first {
						t.Fatalf("%s, key %d, %d%%: user %d got %s then %s", name, k, pct, i, first, again)
					}
					// The color is the flags' bucket of the key, nothing else.
					want := Blue
					if feature.Bucket(cohortFlagKey, "deploy-7", userKey) < pct*1000 {
						want = Green
					}
					if first != want {
						t.Fatalf("%s, key %d, %d%%: user %d on %s, want %s (feature.Bucket of the key)", name, k, pct, i, first, want)
					}
					if first == Green {
						green++
						wasGreen[i] = true
					} else if wasGreen[i] {
						t.Fatalf("%s, key %d: user %d left green when the share grew to %d%%", name, k, i, pct)
					}
				}
				if share := 100 * green / users; share < int(pct)-7 || share > int(pct)+7 {
					t.Errorf("%s, key %d, %d%%: %d%% of users on green", name, k, pct, share)
				}
			}
		}
	}
}

// TestSplitGivesNewUsersACohort: a request without any key gets a cohort
// cookie, and with it stays on one color; requests that keep no cookie are
// spread over both.
func TestSplitGivesNewUsersACohort(t *testing.T) {
	r, _, _ := newPair(t, splitOptions(), nil, nil)
	if err := r.SetSplit(&Split{To: Green, Weight: 50_000, Salt: "s"}); err != nil {
		t.Fatal(err)
	}
	for name, url := range fronts(t, r) {
		c := newClient(true)
		seen := map[Color]int{}
		for range 100 {
			color, set := colorFor(t, c, url)
			seen[color]++
			id, ok := strings.CutPrefix(set, "bascule_cohort=")
			if !ok || !strings.Contains(set, "; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax") {
				t.Fatalf("%s: Set-Cookie %q, want a bascule_cohort cookie", name, set)
			}
			id, _, _ = strings.Cut(id, ";")
			for range 3 {
				if again, set := colorFor(t, c, url, "Cookie", "bascule_cohort="+id); again != color || set != "" {
					t.Fatalf("%s: with its cohort cookie, a user moved from %s to %s (Set-Cookie %q)", name, color, again, set)
				}
			}
		}
		if seen[Blue] < 20 || seen[Green] < 20 {
			t.Errorf("%s: new users at 50%% went %v, want both colors", name, seen)
		}
	}
	// Without a split, no cookie is set.
	if err := r.SetSplit(nil); err != nil {
		t.Fatal(err)
	}
	for name, url := range fronts(t, r) {
		if color, set := colorFor(t, newClient(true), url); color != Blue || set != "" {
			t.Errorf("%s without a split: %s, Set-Cookie %q; want blue, no cookie", name, color, set)
		}
	}
}

// TestSplitKeepsPreviewAndSwitch: during a split the preview still reaches
// the idle color, Switch to it ends the split with everyone there, and a
// Switch back (a rollback) returns everyone.
func TestSplitKeepsPreviewAndSwitch(t *testing.T) {
	r, _, _ := newPair(t, splitOptions(), nil, nil)
	if err := r.SetSplit(&Split{To: Green, Weight: 0, Salt: "s"}); err != nil {
		t.Fatal(err)
	}
	url := serve(t, r)
	c := newClient(true)
	if color, _ := colorFor(t, c, url, "X-Bascule-Preview", "tok"); color != Green {
		t.Errorf("preview during a split = %s, want green", color)
	}
	if err := r.SetSplit(&Split{To: Green, Weight: 100_000, Salt: "s"}); err != nil {
		t.Fatal(err)
	}
	if color, _ := colorFor(t, c, url, "X-User", "u1"); color != Green {
		t.Errorf("at 100%% = %s, want green", color)
	}
	if err := r.Switch(Blue); err != nil {
		t.Fatal(err)
	}
	if tb := r.Table(); tb.Split != nil || tb.Live != Blue {
		t.Errorf("table after Switch(blue) = %+v, want blue live and no split", tb)
	}
	if color, set := colorFor(t, c, url, "X-User", "u1"); color != Blue || set != "" {
		t.Errorf("after the rollback = %s (Set-Cookie %q), want blue", color, set)
	}
	if err := r.SetSplit(&Split{To: Blue, Weight: 1, Salt: "s"}); err == nil {
		t.Errorf("SetSplit to the live color = nil, want an error")
	}
	if err := r.SetSplit(&Split{To: Green, Weight: Buckets + 1, Salt: "s"}); err == nil {
		t.Errorf("SetSplit beyond 100%% = nil, want an error")
	}
	r.SetUpstream(Green, "")
	if err := r.SetSplit(&Split{To: Green, Weight: 1, Salt: "s"}); err == nil {
		t.Errorf("SetSplit to a color without upstream = nil, want an error")
	}
	if err := New(Options{}).SetSplit(&Split{To: Green, Weight: 1}); err == nil {
		t.Errorf("SetSplit without Options.Bucket = nil, want an error")
	}
}

// TestSplitSurvivesInstall: the table, split included, is what bascule
// persists and installs again after a restart: users stay where they were.
func TestSplitSurvivesInstall(t *testing.T) {
	r, blue, green := newPair(t, splitOptions(), nil, nil)
	if err := r.SetSplit(&Split{To: Green, Weight: 30_000, Salt: "restart"}); err != nil {
		t.Fatal(err)
	}
	url := serve(t, r)
	c := newClient(true)
	before := map[int]Color{}
	for i := range 100 {
		before[i], _ = colorFor(t, c, url, "X-User", fmt.Sprint(i))
	}
	r2 := New(splitOptions())
	r2.Install(r.Table())
	if tb := r2.Table(); tb.Split == nil || *tb.Split != (Split{To: Green, Weight: 30_000, Salt: "restart"}) ||
		tb.Upstreams[Blue] != blue.addr || tb.Upstreams[Green] != green.addr {
		t.Fatalf("installed table = %+v", tb)
	}
	url2 := serve(t, r2)
	for i := range 100 {
		if got, _ := colorFor(t, c, url2, "X-User", fmt.Sprint(i)); got != before[i] {
			t.Errorf("user %d: %s before the restart, %s after", i, before[i], got)
		}
	}
}

// TestSplitDrainWaitsForTheColorLeft: a request in flight on green when
// the split ends finishes there; Drain of green returns once it has, and
// no request after the split ended reaches green.
func TestSplitDrainWaitsForTheColorLeft(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(1)
	slow := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/slow" {
			started.Done()
			<-release
		}
		w.Write([]byte("green"))
	})
	r, _, green := newPair(t, splitOptions(), nil, slow)
	if err := r.SetSplit(&Split{To: Green, Weight: Buckets, Salt: "s"}); err != nil {
		t.Fatal(err)
	}
	url := serve(t, r)
	done := make(chan string, 1)
	go func() {
		_, color, body := get(t, newClient(false), mustRequest(t, "GET", url+"/slow"))
		done <- color + " " + body
	}()
	started.Wait()
	if err := r.SetSplit(nil); err != nil {
		t.Fatal(err)
	}
	if color, _ := colorFor(t, newClient(false), url, "X-User", "u"); color != Blue {
		t.Errorf("after the split ended = %s, want blue", color)
	}
	drained := make(chan error, 1)
	go func() { drained <- r.Drain(t.Context(), green.addr) }()
	select {
	case <-drained:
		t.Fatal("Drain returned while a request was in flight on green")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if got := <-done; got != "green green" {
		t.Errorf("the request in flight = %q, want it finished on green", got)
	}
	if err := <-drained; err != nil {
		t.Errorf("Drain = %v", err)
	}
}
