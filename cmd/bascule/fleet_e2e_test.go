package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/store"
)

// timedApp is a color's app that records when the last request of users
// (not the control plane's health checks) reached it.
type timedApp struct {
	*staticApp
	mu   sync.Mutex
	last time.Time
}

func newTimedApp(t *testing.T, name string) *timedApp {
	a := &timedApp{staticApp: &staticApp{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Release", name)
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "ok\n")
			return
		}
		now := time.Now()
		a.mu.Lock()
		if now.After(a.last) {
			a.last = now
		}
		a.mu.Unlock()
		io.WriteString(w, name+"\n")
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *timedApp) lastUser() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// routerProc is one `bascule router` process.
type routerProc struct {
	t               testing.TB
	id, listen, dir string
	control, token  string
	extra           []string // more flags of `bascule router`
	cmd             *exec.Cmd
	out             *syncBuffer
	exited          chan struct{}
}

// startRouterProc starts `bascule router` with the flags every router
// needs, then extra ones.
func startRouterProc(t *testing.T, id, control, token, dir string, extra ...string) *routerProc {
	t.Helper()
	p := &routerProc{t: t, id: id, listen: freeAddr(t), dir: dir, control: control, token: token, extra: extra}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *routerProc) start() {
	self, _ := os.Executable()
	args := append([]string{"router", "--control", p.control, "--listen", p.listen, "--data", p.dir, "--id", p.id}, p.extra...)
	p.cmd = exec.Command(self, args...)
	p.cmd.Env = append(os.Environ(), "BASCULE_E2E_EXEC=1", "BASCULE_TOKEN="+p.token)
	p.out = &syncBuffer{}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.exited = make(chan struct{})
	cmd, exited := p.cmd, p.exited
	go func() { cmd.Wait(); close(exited) }()
	waitFor(p.t, 20*time.Second, "router "+p.id+" to listen", func() bool {
		c, err := net.DialTimeout("tcp", p.listen, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func (p *routerProc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *routerProc) kill9() {
	p.cmd.Process.Kill()
	<-p.exited
}

// confirmed reports whether every router in ids serves and drained the
// fleet's generation.
func confirmed(t *testing.T, cl *client.Client, ids ...string) bool {
	f, err := cl.Routers(context.Background())
	if err != nil {
		return false
	}
	ok := map[string]bool{}
	for _, r := range f.Routers {
		ok[r.ID] = r.Installed == f.Generation && r.Drained == f.Generation && !r.Stale
	}
	for _, id := range ids {
		if !ok[id] {
			return false
		}
	}
	return true
}

// fleetLoad sends about perSecond requests a second, spread over the
// routers, and records per router when it first answered from a release,
// and per release when it last served a request.
type fleetLoad struct {
	stop          chan struct{}
	wg            sync.WaitGroup
	total, failed atomic.Int64
	firstErr      atomic.Value
	mu            sync.Mutex
	first         map[string]map[string]time.Time // router addr → release → first answer
	last          map[string]time.Time            // release → latest request it served
}

func startFleetLoad(t *testing.T, perSecond int, addrs []string) *fleetLoad {
	l := &fleetLoad{stop: make(chan struct{}), first: map[string]map[string]time.Time{}, last: map[string]time.Time{}}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const workers = 24
	every := time.Duration(workers) * time.Second / time.Duration(perSecond)
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for i := w; ; i++ {
				select {
				case <-l.stop:
					return
				case <-tick.C:
				}
				addr := addrs[i%len(addrs)]
				l.total.Add(1)
				sent := time.Now()
				resp, err := c.Get("http://" + addr + "/")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = errors.New(resp.Status)
					}
				}
				if err != nil {
					l.failed.Add(1)
					l.firstErr.CompareAndSwap(nil, fmt.Sprintf("via %s: %v", addr, err))
					continue
				}
				l.saw(addr, resp.Header.Get("X-Release"), servedAt(resp, sent))
			}
		}()
	}
	t.Cleanup(l.end)
	return l
}

// servedAt is when the app served resp: its X-Served-At header (Unix
// nanoseconds; the apps run on this machine, on its clock), else when the
// request was sent, the latest it can have been routed.
func servedAt(resp *http.Response, sent time.Time) time.Time {
	if ns, err := strconv.ParseInt(resp.Header.Get("X-Served-At"), 10, 64); err == nil {
		return time.Unix(0, ns)
	}
	return sent
}

func (l *fleetLoad) saw(addr, release string, served time.Time) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if served.After(l.last[release]) {
		l.last[release] = served
	}
	m := l.first[addr]
	if m == nil {
		m = map[string]time.Time{}
		l.first[addr] = m
	}
	if _, ok := m[release]; !ok {
		m[release] = now
	}
}

// reset forgets the first answers, before a switch whose spread to
// measure.
func (l *fleetLoad) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.first = map[string]map[string]time.Time{}
}

// switched returns when each router first answered from release.
func (l *fleetLoad) switched(addrs []string, release string) (map[string]time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]time.Time{}
	for _, a := range addrs {
		at, ok := l.first[a][release]
		if !ok {
			return nil, false
		}
		out[a] = at
	}
	return out, true
}

// lastServed returns when release last served a request of the load.
func (l *fleetLoad) lastServed(release string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[release]
}

// servedClock is what the load saw of one release, as a userClock.
type servedClock struct {
	l       *fleetLoad
	release string
}

func (c servedClock) lastUser() time.Time { return c.l.lastServed(c.release) }

func (l *fleetLoad) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// fleetSetup is bascule serve with v1 live on blue and v2 ready on green,
// and three `bascule router` processes following it.
func fleetSetup(t *testing.T) (*instance, *timedApp, *timedApp, []*routerProc, string) {
	t.Helper()
	blue, green := newTimedApp(t, "v1"), newTimedApp(t, "v2")
	in := newStaticInstance(t, blue.staticApp, green.staticApp, "drain_timeout: 5s\n")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	if d := in.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s (%s)", d.State, d.Error)
	}
	_, token, err := in.cl.CreateToken(context.Background(), "edge", store.RoleRouter, "")
	if err != nil {
		t.Fatal(err)
	}
	var routers []*routerProc
	for _, id := range []string{"r1", "r2", "r3"} {
		routers = append(routers, startRouterProc(t, id, "http://"+in.control, token, t.TempDir()))
	}
	waitFor(t, 20*time.Second, "three routers in step", func() bool { return confirmed(t, in.cl, "r1", "r2", "r3") })
	return in, blue, green, routers, token
}

func addrsOf(rs []*routerProc) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.listen)
	}
	return out
}

// TestFleetSwitchesAsOne is issue 16's first test, with real processes:
// bascule serve and three bascule router processes under steady load
// (about 1,000 requests a second through the routers), 30 go-live and
// rollback cycles: no request fails, and once a call returns no request
// reaches the color it switched away from. It logs how long each call
// took and when each router first answered from the new release.
func TestFleetSwitchesAsOne(t *testing.T) {
	in, blue, green, routers, _ := fleetSetup(t)
	addrs := addrsOf(routers)
	l := startFleetLoad(t, 1000, addrs)
	apps := map[string]userClock{"v1": blue, "v2": green}
	began, sentBefore := time.Now(), l.total.Load()
	time.Sleep(time.Second) // steady load first; nothing to await
	calls, spreads := switchCycles(t, in, l, addrs, apps, 30, "fleet test")
	rate := float64(l.total.Load()-sentBefore) / time.Since(began).Seconds()
	l.end()
	t.Logf("load: %.0f requests a second through 3 routers; %d sent, %d failed", rate, l.total.Load(), l.failed.Load())
	t.Logf("switch call (all 4 routers installed and drained): %s", summary(calls))
	t.Logf("call to every router answering from the new release: %s", summary(spreads))
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d requests failed; first: %v", n, l.firstErr.Load())
	}
	out, code := runCLI(t, in, "status")
	if code != 0 || !strings.Contains(out, "routers (generation") {
		t.Errorf("status = %d:\n%s\nwant the routers listed", code, out)
	}
	for _, id := range []string{"r1", "r2", "r3"} {
		if !strings.Contains(out, id) {
			t.Errorf("status does not list router %s:\n%s", id, out)
		}
	}
	t.Logf("bascule status:\n%s", out)
}

// userClock is what knows when a release last served a user's request:
// the app itself (timedApp), or the answers the load received
// (servedClock).
type userClock interface{ lastUser() time.Time }

// switchCycles alternates go-live (to v2) and rollback (to v1) n times
// under the load l sends through the routers at addrs: each call must
// complete, every router must then answer from the new release, and no
// user's request may reach the release switched away from after the call
// returned. It returns how long each call took, and how long after it
// started every router answered from the new release.
func switchCycles(t *testing.T, in *instance, l *fleetLoad, addrs []string, apps map[string]userClock, n int, reason string) (calls, spreads []time.Duration) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		action, to, from := "go-live", "v2", "v1"
		if i%2 == 1 {
			action, to, from = "rollback", "v1", "v2"
		}
		l.reset()
		start := time.Now()
		var err error
		if action == "go-live" {
			_, err = in.cl.GoLive(ctx, reason)
		} else {
			_, err = in.cl.Rollback(ctx, reason, false)
		}
		returned := time.Now()
		if err != nil {
			t.Fatalf("cycle %d: %s = %v, want complete", i, action, err)
		}
		var at map[string]time.Time
		waitFor(t, 10*time.Second, "every router to answer from "+to, func() bool {
			var ok bool
			at, ok = l.switched(addrs, to)
			return ok
		})
		var last time.Time
		for _, a := range at {
			if a.After(last) {
				last = a
			}
		}
		calls, spreads = append(calls, returned.Sub(start)), append(spreads, last.Sub(start))
		t.Logf("cycle %d: %s to %s: the call returned after %s; every router answered from %s within %s of the call",
			i, action, to, returned.Sub(start).Round(time.Millisecond), to, last.Sub(start).Round(time.Millisecond))
		time.Sleep(300 * time.Millisecond) // users carry on; then look at the old color
		if late := apps[from].lastUser(); late.After(returned) {
			t.Errorf("cycle %d: a user's request reached %s %s after %s returned", i, from, late.Sub(returned), action)
		}
	}
	return calls, spreads
}

func summary(ds []time.Duration) string {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("median %s, max %s (%s)", s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond), strings.Join(parts, " "))
}

// TestFleetRouterKilledMidSwitch: kill -9 of one router while a go-live
// runs. What the user (the person going live) sees is logged; the other
// routers switch, users through them see no failure, and the killed
// router, started again on its data directory, serves its persisted table
// at once and then the newest generation.
func TestFleetRouterKilledMidSwitch(t *testing.T) {
	in, _, _, routers, _ := fleetSetup(t)
	r3 := routers[2]
	live := addrsOf(routers[:2])
	l := startFleetLoad(t, 300, live)
	time.Sleep(500 * time.Millisecond) // steady load first
	type answer struct {
		err  error
		took time.Duration
	}
	done := make(chan answer, 1)
	start := time.Now()
	go func() {
		_, err := in.cl.GoLive(context.Background(), "kill test")
		done <- answer{err, time.Since(start)}
	}()
	r3.kill9()
	killed := time.Since(start)
	a := <-done
	t.Logf("go-live with r3 killed %s after the call began: answered after %s: %v", killed.Round(time.Millisecond), a.took.Round(time.Millisecond), a.err)
	var ce *client.Error
	switch {
	case a.err == nil:
		t.Log("r3 acknowledged before it died: the switch is complete, and r3 persisted the table first")
	case errors.As(a.err, &ce) && ce.Status == http.StatusGatewayTimeout && ce.Code == "switch_incomplete":
		if !strings.Contains(ce.Message, "router r3") || strings.Contains(ce.Message, "router r1") || strings.Contains(ce.Message, "router r2") {
			t.Errorf("the incomplete switch's answer names %q, want r3 only", ce.Message)
		}
	default:
		t.Fatalf("go-live with r3 killed = %v, want complete or 504 switch_incomplete naming r3", a.err)
	}
	l.end()
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d requests through r1 and r2 failed; first: %v", n, l.firstErr.Load())
	}
	out, _ := runCLI(t, in, "router", "list")
	t.Logf("bascule router list after the kill:\n%s", out)
	r3.start()
	waitFor(t, 20*time.Second, "r3 to install the newest generation after its restart", func() bool { return confirmed(t, in.cl, "r1", "r2", "r3") })
	if rel, _ := get(t, http.DefaultClient, "http://"+r3.listen+"/"); rel != "v2" {
		t.Errorf("r3 after its restart answers from %s, want v2", rel)
	}
}

// TestFleetPartitionedRouterLagsThenConverges: a router that cannot reach
// the control plane during a go-live is named as lagging in the answer
// and in `bascule router list`; it keeps serving its last table; once it
// reaches the control plane again it installs the newest generation.
func TestFleetPartitionedRouterLagsThenConverges(t *testing.T) {
	blue, green := newTimedApp(t, "v1"), newTimedApp(t, "v2")
	in := newStaticInstance(t, blue.staticApp, green.staticApp, "drain_timeout: 5s\n")
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	if d := in.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s (%s)", d.State, d.Error)
	}
	_, token, err := in.cl.CreateToken(context.Background(), "edge", store.RoleRouter, "")
	if err != nil {
		t.Fatal(err)
	}
	px := startPartition(t, in.control)
	r1 := startRouterProc(t, "r1", "http://"+in.control, token, t.TempDir())
	r2 := startRouterProc(t, "r2", "http://"+px.addr(), token, t.TempDir())
	waitFor(t, 20*time.Second, "two routers in step", func() bool { return confirmed(t, in.cl, "r1", "r2") })
	px.cut()
	start := time.Now()
	_, err = in.cl.GoLive(context.Background(), "partition test")
	took := time.Since(start)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "switch_incomplete" || !strings.Contains(ce.Message, "router r2") {
		t.Fatalf("go-live with r2 cut off = %v, want 504 switch_incomplete naming r2", err)
	}
	t.Logf("go-live with r2 cut off answered after %s: %s", took.Round(time.Millisecond), ce.Message)
	// Production did switch where routers confirmed: v2 is recorded live.
	if st, err := in.cl.Status(context.Background()); err != nil || st.Live != "green" {
		t.Errorf("status after the incomplete go-live = live %q, %v; want green", st.Live, err)
	}
	if hist, err := in.cl.Deployments(context.Background(), 1); err != nil || len(hist) == 0 || hist[0].State != store.StateLive {
		t.Errorf("v2's deployment after the incomplete go-live = %+v, %v; want live", hist, err)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+r1.listen+"/"); rel != "v2" {
		t.Errorf("r1 answers from %s, want v2", rel)
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+r2.listen+"/"); rel != "v1" {
		t.Errorf("r2, cut off, answers from %s, want v1: it keeps serving its last table", rel)
	}
	out, _ := runCLI(t, in, "router", "list")
	if !strings.Contains(out, "STALE") {
		t.Errorf("router list with r2 cut off does not mark it:\n%s", out)
	}
	t.Logf("bascule router list with r2 cut off:\n%s", out)
	px.restore()
	converged := time.Now()
	waitFor(t, 30*time.Second, "r2 to install the newest generation", func() bool { return confirmed(t, in.cl, "r1", "r2") })
	t.Logf("r2 in step %s after the partition ended", time.Since(converged).Round(time.Millisecond))
	if rel, _ := get(t, http.DefaultClient, "http://"+r2.listen+"/"); rel != "v2" {
		t.Errorf("r2 after the partition answers from %s, want v2", rel)
	}
}

// partition is a TCP proxy to the control plane that the test can cut:
// open connections go silent, new ones are held unanswered, as behind a
// dead link.
type partition struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	isCut  bool
	conns  []net.Conn
}

func startPartition(t *testing.T, target string) *partition {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &partition{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.restore() })
	go p.accept()
	return p
}

func (p *partition) addr() string { return p.ln.Addr().String() }

func (p *partition) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, in)
		cut := p.isCut
		p.mu.Unlock()
		if cut {
			continue
		}
		out, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, out)
		p.mu.Unlock()
		go p.pipe(out, in)
		go p.pipe(in, out)
	}
}

func (p *partition) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		cut := p.isCut
		p.mu.Unlock()
		if n > 0 && !cut {
			dst.Write(buf[:n])
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (p *partition) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isCut = true
}

func (p *partition) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isCut = false
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
