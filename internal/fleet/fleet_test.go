package fleet

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/router"
)

// TestSwitchReturnsOnlyOnceNoRouterSendsToTheOldColor is the guarantee:
// under steady load through three routers, once Switch returns without
// error no request reaches the color switched away from, and no request
// fails, through go-live and rollback cycles.
func TestSwitchReturnsOnlyOnceNoRouterSendsToTheOldColor(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	cp := startControlPlane(t, blue, green, 100*time.Millisecond)
	var addrs []string
	for _, id := range []string{"r1", "r2", "r3"} {
		rm := startRemote(t, id, cp.url, 100*time.Millisecond, filepath.Join(t.TempDir(), "routing.json"))
		addrs = append(addrs, rm.addr)
	}
	gen := cp.hub.Table().Generation
	waitFor(t, 5*time.Second, "three routers to install the first table", func() bool {
		return cp.confirmedBy("r1", gen) && cp.confirmedBy("r2", gen) && cp.confirmedBy("r3", gen)
	})
	l := startLoad(t, 600, addrs...)
	apps := map[router.Color]*app{router.Blue: blue, router.Green: green}
	for i := range 6 {
		to := []router.Color{router.Green, router.Blue}[i%2]
		from := apps[to.Other()]
		before := from.count.Load()
		waitFor(t, 5*time.Second, "requests on the live color before switching", func() bool { return from.count.Load() > before+20 })
		start := time.Now()
		if err := switchTo(cp.hub, to); err != nil {
			t.Fatalf("cycle %d: Switch(%s) = %v, want complete", i, to, err)
		}
		returned := time.Now()
		// Drained everywhere: nothing is still being answered by the old
		// color, so whoever stops it now cuts nothing.
		if n := from.active.Load(); n != 0 {
			t.Errorf("cycle %d: %d requests still running on %s when Switch(%s) returned", i, n, from.color, to)
		}
		t.Logf("cycle %d: switch to %s confirmed by 4 routers in %s", i, to, returned.Sub(start))
		target := apps[to]
		n := target.count.Load()
		waitFor(t, 5*time.Second, "requests on the new color", func() bool { return target.count.Load() > n+50 })
		if last := from.lastArrival(); last.After(returned) {
			t.Fatalf("cycle %d: a request reached %s %s after Switch(%s) returned", i, from.color, last.Sub(returned), to)
		}
	}
	l.end()
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during the switches; first: %v", n, l.sent.Load(), l.firstErr.Load())
	}
}

// TestPartitionedRouterIsNamedAndConverges: a router that cannot reach
// the control plane during a go-live makes the switch incomplete, named
// with the reason, and serves the newest table as soon as it can reach the
// control plane again.
func TestPartitionedRouterIsNamedAndConverges(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	cp := startControlPlane(t, blue, green, 100*time.Millisecond)
	px := startCutter(t, cp.url)
	path := filepath.Join(t.TempDir(), "routing.json")
	ok := startRemote(t, "r1", cp.url, 100*time.Millisecond, filepath.Join(t.TempDir(), "routing.json"))
	cut := startRemote(t, "r2", px.url(), 100*time.Millisecond, path)
	gen := cp.hub.Table().Generation
	waitFor(t, 5*time.Second, "both routers to install the first table", func() bool {
		return cp.confirmedBy("r1", gen) && cp.confirmedBy("r2", gen)
	})
	px.cut()
	start := time.Now()
	err := switchTo(cp.hub, router.Green)
	var ie *IncompleteSwitchError
	if !errors.As(err, &ie) {
		t.Fatalf("Switch(green) with r2 cut off = %v, want *IncompleteSwitchError", err)
	}
	t.Logf("answer after %s: %v", time.Since(start).Round(time.Millisecond), err)
	if len(ie.Lagging) != 1 || ie.Lagging[0].ID != "r2" {
		t.Fatalf("lagging routers = %+v, want r2 only", ie.Lagging)
	}
	if got := get(t, cut.addr); got != "blue" {
		t.Errorf("the cut-off router answers from %q, want blue: it keeps serving its last table", got)
	}
	if got := get(t, ok.addr); got != "green" {
		t.Errorf("the connected router answers from %q, want green", got)
	}
	px.restore()
	waitFor(t, 20*time.Second, "r2 to install the newest generation", func() bool { return cp.confirmedBy("r2", ie.Generation) })
	if got := get(t, cut.addr); got != "green" {
		t.Errorf("r2 after reconnecting answers from %q, want green", got)
	}
	persisted, err := router.LoadTable(path)
	if err != nil || persisted.Live != router.Green || persisted.Generation != ie.Generation {
		t.Errorf("r2's persisted table = %+v, %v; want green live at generation %d", persisted, err, ie.Generation)
	}
	f, err := cp.hub.Routers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Routers {
		if r.Stale || r.Lagging {
			t.Errorf("router %s after convergence: stale %v lagging %v, want neither", r.ID, r.Stale, r.Lagging)
		}
	}
}

// TestRouterStartsOnItsPersistedTableWithoutControlPlane: a router that
// restarts while the control plane is unreachable serves the table it
// installed last, at once.
func TestRouterStartsOnItsPersistedTableWithoutControlPlane(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	cp := startControlPlane(t, blue, green, 100*time.Millisecond)
	path := filepath.Join(t.TempDir(), "routing.json")
	rm := startRemote(t, "r1", cp.url, 100*time.Millisecond, path)
	gen := cp.hub.Table().Generation
	waitFor(t, 5*time.Second, "r1 to install", func() bool { return cp.confirmedBy("r1", gen) })
	if err := switchTo(cp.hub, router.Green); err != nil {
		t.Fatalf("Switch(green) = %v", err)
	}
	rm.stop()
	again := startRemote(t, "r1", "http://127.0.0.1:1", 100*time.Millisecond, path)
	if got := get(t, again.addr); got != "green" {
		t.Errorf("restarted router without a control plane answers from %q, want green (its persisted table)", got)
	}
}

// TestStaleRouterIsNamedWithoutWaiting: a router gone silent before the
// go-live is not waited for, but the answer names it: the switch is not
// complete while a registered router may still serve the old color.
func TestStaleRouterIsNamedWithoutWaiting(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	cp := startControlPlane(t, blue, green, 100*time.Millisecond)
	rm := startRemote(t, "r1", cp.url, 100*time.Millisecond, filepath.Join(t.TempDir(), "routing.json"))
	gen := cp.hub.Table().Generation
	waitFor(t, 5*time.Second, "r1 to install", func() bool { return cp.confirmedBy("r1", gen) })
	rm.stop()
	waitFor(t, 5*time.Second, "r1 to turn stale", func() bool {
		f, _ := cp.hub.Routers(t.Context())
		for _, r := range f.Routers {
			if r.ID == "r1" {
				return r.Stale
			}
		}
		return false
	})
	start := time.Now()
	err := switchTo(cp.hub, router.Green)
	var ie *IncompleteSwitchError
	if !errors.As(err, &ie) || len(ie.Lagging) != 1 || ie.Lagging[0].ID != "r1" {
		t.Fatalf("Switch(green) with r1 stale = %v, want an incomplete switch naming r1", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Switch waited %s for a router already stale, want no wait", d)
	}
	if err := cp.hub.Forget(t.Context(), "r1"); err != nil {
		t.Fatal(err)
	}
	if err := switchTo(cp.hub, router.Blue); err != nil {
		t.Errorf("Switch(blue) after forgetting r1 = %v, want complete", err)
	}
}

// TestHeartbeatRefusesBadIDs: a router's id is shown in lists and typed
// to forget it; an empty, long or unprintable one is refused and nothing
// is registered.
func TestHeartbeatRefusesBadIDs(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	cp := startControlPlane(t, blue, green, time.Second)
	for _, id := range []string{"", "a b", "x/y", "bell\a", string(make([]byte, 129))} {
		var ie *InputError
		if err := cp.hub.Heartbeat(t.Context(), Heartbeat{ID: id}); !errors.As(err, &ie) {
			t.Errorf("Heartbeat(id %q) = %v, want an *InputError", id, err)
		}
	}
	f, err := cp.hub.Routers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Routers {
		if !r.Embedded {
			t.Errorf("router %q registered by a refused heartbeat", r.ID)
		}
	}
}

// TestAgentRefusesATableItCannotServe: a control plane that sends a table
// with an unknown color or a split the router cannot apply (a bug, a
// corrupted stream) gets an error; the router persists nothing, keeps
// serving its last table, and does not acknowledge the generation.
func TestAgentRefusesATableItCannotServe(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	r := router.New(router.Options{})
	good := router.Table{Generation: 1, Live: router.Blue, Upstreams: map[router.Color]string{router.Blue: blue.addr(), router.Green: green.addr()}}
	path := filepath.Join(t.TempDir(), "routing.json")
	a := NewAgent(AgentOptions{ID: "r1", Router: r, Path: path})
	if err := a.Apply(Update{Table: good}); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]router.Table{
		"unknown live color": {Generation: 2, Live: "purple", Upstreams: good.Upstreams},
		"unknown upstream color": {Generation: 3, Live: router.Blue,
			Upstreams: map[router.Color]string{router.Blue: blue.addr(), "purple": green.addr()}},
		"split to the live color": {Generation: 4, Live: router.Blue, Upstreams: good.Upstreams,
			Split: &router.Split{To: router.Blue, Weight: router.Buckets / 2, Salt: "x"}},
	} {
		if err := a.Apply(Update{Table: bad}); err == nil {
			t.Errorf("%s: Apply = nil, want an error", name)
		}
		if got := r.Table(); got.Generation != 1 || got.Live != router.Blue {
			t.Errorf("%s: the router serves generation %d live %s, want 1 and blue", name, got.Generation, got.Live)
		}
		if saved, err := router.LoadTable(path); err != nil || saved.Generation != 1 {
			t.Errorf("%s: persisted generation %d (%v), want 1", name, saved.Generation, err)
		}
		if hb := a.State(); hb.Installed != 1 {
			t.Errorf("%s: acknowledges generation %d, want 1", name, hb.Installed)
		}
	}
}

// TestFollowerMovesToTheNextControlPlaneInstance: a router given several
// control-plane instances follows the next one when the one it talks to
// goes away, and confirms the switches made there.
func TestFollowerMovesToTheNextControlPlaneInstance(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	a := startControlPlane(t, blue, green, 100*time.Millisecond)
	b := startControlPlane(t, blue, green, 100*time.Millisecond)
	path := filepath.Join(t.TempDir(), "routing.json")
	// The first URL answers nothing: the router must not get stuck on it.
	rm := startRemoteOf(t, "r1", []string{"http://127.0.0.1:1", a.url, b.url}, 100*time.Millisecond, path)
	gen := a.hub.Table().Generation
	waitFor(t, 10*time.Second, "r1 to follow instance a", func() bool { return a.confirmedBy("r1", gen) })

	a.srv.CloseClientConnections()
	a.srv.Close()
	if err := switchTo(b.hub, router.Green); err != nil {
		t.Fatal(err)
	}
	gen = b.hub.Table().Generation
	waitFor(t, 10*time.Second, "r1 to move to instance b and confirm its switch", func() bool { return b.confirmedBy("r1", gen) })
	if got := get(t, rm.addr); got != "green" {
		t.Errorf("r1 answers from %q after following instance b's switch, want green", got)
	}
}

// TestRouterTakesTheControlPlanesSettings: a router started without
// settings serves previews as the control plane's own router does once it
// follows the stream, and after a restart without the control plane,
// from the settings it persisted.
func TestRouterTakesTheControlPlanesSettings(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	cp := startControlPlane(t, blue, green, 100*time.Millisecond)
	cp.local.Configure(router.Settings{PreviewToken: "tok", PreviewHeader: "X-Preview"})
	cp.hub.Install(cp.hub.Table()) // a control plane's settings are set before its hub starts; republish
	preview := func(addr string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
		req.Header.Set("X-Preview", "tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET through %s: %v", addr, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	path := filepath.Join(t.TempDir(), "routing.json")
	rm := startRemote(t, "r1", cp.url, 100*time.Millisecond, path)
	gen := cp.hub.Table().Generation
	waitFor(t, 5*time.Second, "r1 to install", func() bool { return cp.confirmedBy("r1", gen) })
	if got := preview(rm.addr); got != "green" {
		t.Errorf("a preview through r1 answered by %q, want green, as through the control plane's router", got)
	}
	if got := get(t, rm.addr); got != "blue" {
		t.Errorf("production through r1 answered by %q, want blue", got)
	}
	rm.stop()
	again := startRemote(t, "r1", "http://127.0.0.1:1", 100*time.Millisecond, path)
	if got := preview(again.addr); got != "green" {
		t.Errorf("a preview through r1 restarted without its control plane answered by %q, want green (persisted settings)", got)
	}
}

// TestLeavingRouterIsForgotten: a router that stops cleanly says so, and
// the next switch neither waits for it nor names it (a router pod
// replaced in a rolling update); a control plane's own router leaves
// with its hub. A router killed without a word is still named.
func TestLeavingRouterIsForgotten(t *testing.T) {
	blue, green := startApp(t, router.Blue), startApp(t, router.Green)
	cp := startControlPlane(t, blue, green, 100*time.Millisecond)
	dir := t.TempDir()
	r1 := startRemote(t, "r1", cp.url, 100*time.Millisecond, filepath.Join(dir, "r1.json"))
	r2 := startRemote(t, "r2", cp.url, 100*time.Millisecond, filepath.Join(dir, "r2.json"))
	gen := cp.hub.Table().Generation
	waitFor(t, 5*time.Second, "r1 and r2 to install", func() bool { return cp.confirmedBy("r1", gen) && cp.confirmedBy("r2", gen) })

	r1.stop()
	if err := r1.f.Leave(context.Background()); err != nil {
		t.Fatalf("Leave = %v", err)
	}
	r2.stop() // killed: no word
	waitFor(t, 5*time.Second, "r2 to go stale", func() bool {
		cp.hub.mu.Lock()
		defer cp.hub.mu.Unlock()
		return cp.hub.staleAt(cp.hub.routers["r2"].at)
	})
	err := switchTo(cp.hub, router.Green)
	var inc *IncompleteSwitchError
	if !errors.As(err, &inc) || !strings.Contains(err.Error(), "r2") || strings.Contains(err.Error(), "r1") {
		t.Errorf("switch after r1 left and r2 died = %v, want incomplete naming r2 only", err)
	}
	list, err := cp.hub.opts.Store.ListRouters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list {
		if r.ID == "r1" {
			t.Errorf("r1 left but is still in the registry: %+v", r)
		}
	}

	cp.hub.Close()
	list, _ = cp.hub.opts.Store.ListRouters(context.Background())
	for _, r := range list {
		if r.ID == "embedded" {
			t.Errorf("the control plane's own router is still registered after its hub closed: %+v", r)
		}
	}
}
