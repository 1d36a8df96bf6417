package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// trafficHub is a hub over a real SQLite registry whose Traffic reads
// local as the embedded router's counters.
func trafficHub(t testing.TB, local Counter, interval time.Duration) (*Hub, *Traffic) {
	t.Helper()
	return trafficHubCounting(t, local, interval, nil)
}

// trafficHubCounting is trafficHub whose local router also has
// LocalCounts, as a bascule serve sharing its store has.
func trafficHubCounting(t testing.TB, local Counter, interval time.Duration, localCounts Counter) (*Hub, *Traffic) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tr := NewTraffic(TrafficOptions{Local: local, Keep: time.Minute, Every: time.Second})
	r := router.New(router.Options{})
	r.Install(router.Table{Live: router.Blue, Upstreams: map[router.Color]string{router.Blue: "127.0.0.1:1"}})
	hub, err := NewHub(t.Context(), HubOptions{Local: r, LocalID: "embedded", Store: st, Interval: interval, Traffic: tr,
		LocalCounts: localCounts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close)
	return hub, tr
}

// counts are a color's counters as a router reads them: n requests, e of
// them errors, every one under 250 µs.
func counts(n, e int64) ColorCounts {
	c := ColorCounts{Requests: n, Errors: e, Latency: make([]int64, guard.NumBuckets)}
	c.Latency[0] = n
	return c
}

// report is a heartbeat of router id, process boot, up for uptime, with
// blue's and green's counters.
func report(id, boot string, uptime time.Duration, blue, green ColorCounts) Heartbeat {
	return Heartbeat{ID: id, Traffic: &TrafficReport{Boot: boot, UptimeMS: uptime.Milliseconds(),
		Colors: map[router.Color]ColorCounts{router.Blue: blue, router.Green: green}}}
}

func beat(t *testing.T, h *Hub, hb Heartbeat) {
	t.Helper()
	if err := h.Heartbeat(t.Context(), hb); err != nil {
		t.Fatalf("Heartbeat(%s) = %v", hb.ID, err)
	}
}

func wantCounts(t *testing.T, tr *Traffic, color string, requests, errs uint64, why string) {
	t.Helper()
	got := tr.Read(color)
	if got.Requests != requests || got.Errors != errs {
		t.Errorf("%s: Read(%s) = %d requests, %d errors; want %d, %d", why, color, got.Requests, got.Errors, requests, errs)
	}
	var hist uint64
	for _, v := range got.Latency {
		hist += v
	}
	if hist != got.Requests {
		t.Errorf("%s: Read(%s)'s histogram holds %d requests, want %d", why, color, hist, got.Requests)
	}
}

// TestTrafficSumsTheFleet: the guard sees the embedded router's requests
// (live) and each other router's (from its heartbeats), counted from
// their reports' increments.
func TestTrafficSumsTheFleet(t *testing.T) {
	local := guard.NewMeter(0, time.Second)
	hub, tr := trafficHub(t, local, time.Second)
	for range 3 {
		local.Observe("green", 500, time.Millisecond)
	}
	beat(t, hub, report("r1", "a", 0, counts(100, 1), counts(40, 10)))
	beat(t, hub, report("r2", "b", 0, counts(50, 0), counts(0, 0)))
	wantCounts(t, tr, "blue", 150, 1, "r1 and r2")
	wantCounts(t, tr, "green", 43, 13, "r1 and the embedded router")
	beat(t, hub, report("r1", "a", 0, counts(130, 2), counts(40, 10)))
	wantCounts(t, tr, "blue", 180, 2, "r1's second report")
	if got := tr.Read("purple"); got.Requests != 0 {
		t.Errorf("Read(purple) = %d requests, want 0", got.Requests)
	}
	// A router that keeps no counters (an older one) counts nothing and is
	// still heard.
	beat(t, hub, Heartbeat{ID: "old"})
	wantCounts(t, tr, "blue", 180, 2, "a router without counters")
}

// TestTrafficRouterRestart: a router's counters start over when its
// process restarts. Summing raw reports would make the fleet's counts go
// backwards (and a guard reading them see nothing new); the increments
// carry on from where the old process stopped. A report of the old
// process delivered late changes nothing.
func TestTrafficRouterRestart(t *testing.T) {
	hub, tr := trafficHub(t, nil, time.Second)
	beat(t, hub, report("r1", "first", 0, counts(100, 10), counts(0, 0)))
	beat(t, hub, report("r1", "first", 0, counts(150, 15), counts(0, 0)))
	before := tr.Read("blue")
	beat(t, hub, report("r1", "second", 0, counts(20, 20), counts(0, 0)))
	wantCounts(t, tr, "blue", 170, 35, "after r1 restarted")
	if got := tr.Read("blue"); got.Requests < before.Requests {
		t.Errorf("blue went backwards across a restart: %d requests, then %d", before.Requests, got.Requests)
	}
	beat(t, hub, report("r1", "first", 0, counts(160, 16), counts(0, 0)))
	wantCounts(t, tr, "blue", 170, 35, "a late report of the old process")
	beat(t, hub, report("r1", "second", 0, counts(30, 25), counts(0, 0)))
	wantCounts(t, tr, "blue", 180, 40, "the new process's next report")
	// A report overtaken by a newer one (a slow request) moves nothing back
	// and counts nothing twice.
	beat(t, hub, report("r1", "second", 0, counts(25, 22), counts(0, 0)))
	beat(t, hub, report("r1", "second", 0, counts(31, 25), counts(0, 0)))
	wantCounts(t, tr, "blue", 181, 40, "an overtaken report, then a newer one")
}

// TestTrafficStaleAndForgottenRoutersStillCount: what a router reported
// before it went silent, and before it was forgotten, still counts: the
// requests it served are not undone, and a baseline read across that
// moment must not shrink.
func TestTrafficStaleAndForgottenRoutersStillCount(t *testing.T) {
	hub, tr := trafficHub(t, nil, 20*time.Millisecond)
	t0 := time.Now()
	tr.Record(t0)
	beat(t, hub, report("r1", "a", 0, counts(100, 1), counts(0, 0)))
	beat(t, hub, report("r2", "b", 0, counts(50, 0), counts(0, 0)))
	tr.Record(t0.Add(time.Second))
	waitFor(t, 5*time.Second, "r1 and r2 to turn stale", func() bool {
		f, err := hub.Routers(t.Context())
		if err != nil {
			return false
		}
		stale := 0
		for _, r := range f.Routers {
			if r.Stale && (r.ID == "r1" || r.ID == "r2") {
				stale++
			}
		}
		return stale == 2
	})
	wantCounts(t, tr, "blue", 150, 1, "r1 and r2 stale")
	if err := hub.Forget(t.Context(), "r1"); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, tr, "blue", 150, 1, "r1 forgotten")
	tr.Record(t0.Add(2 * time.Second))
	for i, want := range []uint64{0, 150, 150} {
		if got := tr.At("blue", t0.Add(time.Duration(i)*time.Second)); got.Requests != want {
			t.Errorf("At(blue, t0+%ds) = %d requests, want %d", i, got.Requests, want)
		}
	}
	// r1 comes back (it was only cut off): its increments carry on.
	beat(t, hub, report("r1", "a", 0, counts(120, 1), counts(0, 0)))
	wantCounts(t, tr, "blue", 170, 1, "r1 back after being forgotten")
}

// TestTrafficCountsFromBeforeItStartedAreNotNews: a router that was
// counting before this control plane started (the control plane
// restarted) does not land its whole past at once, as if just served:
// its first report is its baseline.
func TestTrafficCountsFromBeforeItStartedAreNotNews(t *testing.T) {
	hub, tr := trafficHub(t, nil, time.Second)
	beat(t, hub, report("r1", "a", time.Hour, counts(100000, 5000), counts(0, 0)))
	wantCounts(t, tr, "blue", 0, 0, "the first report of a router up for an hour")
	beat(t, hub, report("r1", "a", time.Hour+time.Second, counts(100010, 5001), counts(0, 0)))
	wantCounts(t, tr, "blue", 10, 1, "its next report")
}

// TestTrafficAtAnswersAsTheMeter: At answers as guard.Meter does: the latest reading at or before t,
// else the oldest, else zero.
func TestTrafficAtAnswersAsTheMeter(t *testing.T) {
	hub, tr := trafficHub(t, nil, time.Second)
	m := guard.NewMeter(time.Minute, time.Second)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, want := tr.At("blue", t0), m.At("blue", t0); got != want {
		t.Errorf("At without readings = %+v, want %+v", got.Requests, want.Requests)
	}
	for i := range 5 {
		n := int64(10 * (i + 1))
		beat(t, hub, report("r1", "a", 0, counts(n, 0), counts(0, 0)))
		for range 10 {
			m.Observe("blue", 200, 0)
		}
		tr.Record(t0.Add(time.Duration(i) * time.Second))
		m.Record(t0.Add(time.Duration(i) * time.Second))
	}
	for _, d := range []time.Duration{-time.Second, 0, 500 * time.Millisecond, 2 * time.Second, time.Minute} {
		if got, want := tr.At("blue", t0.Add(d)), m.At("blue", t0.Add(d)); got != want {
			t.Errorf("At(blue, t0%+v) = %d requests, the meter answers %d", d, got.Requests, want.Requests)
		}
	}
}

// TestHeartbeatRefusesMalformedCounts: a router is a network peer; a
// heartbeat it could not have sent is refused, saying what is wrong, and
// changes nothing: not the counts, not the registry.
func TestHeartbeatRefusesMalformedCounts(t *testing.T) {
	hub, tr := trafficHub(t, nil, time.Second)
	beat(t, hub, report("r1", "a", 0, counts(100, 1), counts(10, 0)))
	short := counts(5, 0)
	short.Latency = short.Latency[:10]
	slow := counts(5, 0)
	slow.Latency[3] = 1
	for _, tc := range []struct {
		name string
		hb   Heartbeat
		want string
	}{
		{"negative requests", report("r1", "a", 0, ColorCounts{Requests: -1, Latency: make([]int64, guard.NumBuckets)}, counts(10, 0)), "blue: requests -1: want 0 to"},
		{"negative errors", report("r1", "a", 0, ColorCounts{Requests: 200, Errors: -5, Latency: make([]int64, guard.NumBuckets)}, counts(10, 0)), "errors -5"},
		{"negative bucket", report("r1", "a", 0, func() ColorCounts { c := counts(200, 0); c.Latency[7] = -1; return c }(), counts(10, 0)), "latency[7] -1"},
		{"huge", report("r1", "a", 0, counts(1<<60, 0), counts(10, 0)), "requests 1152921504606846976: want 0 to 9007199254740992"},
		{"more errors than requests", report("r1", "a", 0, counts(200, 201), counts(10, 0)), "errors 201: more than its 200 requests"},
		{"short histogram", report("r1", "a", 0, counts(200, 0), short), "green: latency: 10 buckets, want 38"},
		{"histogram over requests", report("r1", "a", 0, counts(200, 0), slow), "latency: 6 requests in the histogram, more than its 5"},
		{"unknown color", Heartbeat{ID: "r1", Traffic: &TrafficReport{Boot: "a", Colors: map[router.Color]ColorCounts{"purple": counts(1, 0)}}}, `color "purple": want blue or green`},
		{"color in capitals", Heartbeat{ID: "r1", Traffic: &TrafficReport{Boot: "a", Colors: map[router.Color]ColorCounts{"Blue": counts(1, 0)}}}, `color "Blue"`},
		{"no boot", report("r1", "", 0, counts(200, 0), counts(10, 0)), "boot: want 1 to 64 characters"},
		{"boot with spaces", report("r1", "a b", 0, counts(200, 0), counts(10, 0)), `boot "a b"`},
		{"negative uptime", report("r1", "a", -time.Second, counts(200, 0), counts(10, 0)), "uptime_ms -1000"},
		{"unknown load color", Heartbeat{ID: "r1", Colors: map[router.Color]Load{"red": {}}}, `colors: "red"`},
	} {
		err := hub.Heartbeat(t.Context(), tc.hb)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "heartbeat from r1: ") {
			t.Errorf("%s: Heartbeat = %v, want an *InputError from r1 saying %q", tc.name, err, tc.want)
		}
	}
	wantCounts(t, tr, "blue", 100, 1, "after the refused heartbeats")
	wantCounts(t, tr, "green", 10, 0, "after the refused heartbeats")
	// The refused heartbeats did not touch r1's tally either: its next
	// report counts from its last good one.
	beat(t, hub, report("r1", "a", 0, counts(101, 1), counts(10, 0)))
	wantCounts(t, tr, "blue", 101, 1, "the next good report")
}

// TestDecodeHeartbeat: what the API reads from a router. Not JSON, or a
// value a router could not send, is an *InputError.
func TestDecodeHeartbeat(t *testing.T) {
	good := `{"id":"r1","installed":3,"traffic":{"boot":"x","uptime_ms":5,"colors":{"blue":` + countsJSON(4, 1) + `}}}`
	hb, err := DecodeHeartbeat(strings.NewReader(good))
	if err != nil || hb.Traffic == nil || hb.Traffic.Colors[router.Blue].Requests != 4 {
		t.Fatalf("DecodeHeartbeat(good) = %+v, %v", hb, err)
	}
	for _, bad := range []string{
		``, `[]`, `{"id":"r1","traffic":{"boot":"x","colors":{"blue":{"requests":1.5}}}}`,
		`{"id":"r1","traffic":{"boot":"x","colors":{"blue":{"requests":-3,"latency":[]}}}}`,
		`{"id":"r1","traffic":{"boot":"x","colors":{"blue":{"requests":1e30}}}}`,
	} {
		var ie *InputError
		if _, err := DecodeHeartbeat(strings.NewReader(bad)); !errors.As(err, &ie) {
			t.Errorf("DecodeHeartbeat(%s) = %v, want an *InputError", bad, err)
		}
	}
}

func countsJSON(n, e int) string {
	lat := make([]string, guard.NumBuckets)
	for i := range lat {
		lat[i] = "0"
	}
	lat[0] = fmt.Sprint(n)
	return fmt.Sprintf(`{"requests":%d,"errors":%d,"latency":[%s]}`, n, e, strings.Join(lat, ","))
}

// TestAgentReportsItsCounts: a router's agent reports what its router's
// Observe hook counted, in a form the hub accepts and sums.
func TestAgentReportsItsCounts(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(app.Close)
	meter := guard.NewMeter(0, time.Second)
	r := router.New(router.Options{Observe: func(c router.Color, status int, d time.Duration) { meter.Observe(string(c), status, d) }})
	r.Install(router.Table{Live: router.Green, Upstreams: map[router.Color]string{router.Green: app.Listener.Addr().String()}})
	front := httptest.NewServer(r)
	t.Cleanup(front.Close)
	for _, path := range []string{"/", "/", "/fail"} {
		resp, err := http.Get(front.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	agent := NewAgent(AgentOptions{ID: "r1", Router: r, Counts: meter})
	st := agent.State()
	if st.Traffic == nil || st.Traffic.Colors[router.Green].Requests != 3 || st.Traffic.Colors[router.Green].Errors != 1 {
		t.Fatalf("State().Traffic = %+v, want green's 3 requests, 1 error", st.Traffic)
	}
	hub, tr := trafficHub(t, nil, time.Second)
	beat(t, hub, st)
	wantCounts(t, tr, "green", 3, 1, "the agent's report")
	if again := NewAgent(AgentOptions{ID: "r1", Router: r, Counts: meter}).State(); again.Traffic.Boot == st.Traffic.Boot {
		t.Errorf("two agents (two process starts) report the same boot %q", st.Traffic.Boot)
	}
}

// TestFollowersRouterCountsReachTheLeadersGuard: the router inside an
// instance that does not lead reports its counters to the leader's hub,
// whose guard then counts what it serves; the leader's own router is
// counted once, live, not again through its own heartbeats.
func TestFollowersRouterCountsReachTheLeadersGuard(t *testing.T) {
	leaderMeter := guard.NewMeter(0, time.Second)
	leader, tr := trafficHubCounting(t, leaderMeter, 50*time.Millisecond, leaderMeter)
	followerMeter := guard.NewMeter(0, time.Second)
	r := router.New(router.Options{})
	r.Install(router.Table{Live: router.Blue, Upstreams: map[router.Color]string{router.Blue: "127.0.0.1:1"}})
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "follower.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	toLeader := func(context.Context) func(context.Context, Heartbeat) error { return leader.Heartbeat }
	follower, err := NewHub(t.Context(), HubOptions{Local: r, LocalID: "b", Store: st, Interval: 50 * time.Millisecond,
		Upstream: toLeader, LocalCounts: followerMeter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(follower.Close)

	// The follower's first report only sets where its counts start.
	waitFor(t, 5*time.Second, "the leader to hear from the follower's router", func() bool {
		return (&controlPlane{hub: leader}).confirmedBy("b", leader.Table().Generation)
	})
	for range 7 {
		followerMeter.Observe("blue", 200, time.Millisecond)
	}
	followerMeter.Observe("blue", 503, time.Millisecond)
	for range 5 {
		leaderMeter.Observe("blue", 200, time.Millisecond)
	}
	waitFor(t, 5*time.Second, "the leader's guard to count the follower's 8 requests", func() bool {
		return tr.Read("blue").Requests >= 13
	})
	// Heartbeats go on; nothing is counted twice.
	beats := func() int64 {
		leader.mu.Lock()
		defer leader.mu.Unlock()
		return leader.routers["embedded"].at.UnixNano()
	}
	last := beats()
	waitFor(t, 5*time.Second, "two more of the leader's own heartbeats", func() bool { return beats() > last })
	last = beats()
	waitFor(t, 5*time.Second, "another one", func() bool { return beats() > last })
	if got := tr.Read("blue"); got.Requests != 13 || got.Errors != 1 {
		t.Errorf("the leader's guard reads %d requests, %d errors; want 13 and 1 (5 through its router, 8 through the follower's)",
			got.Requests, got.Errors)
	}
}
