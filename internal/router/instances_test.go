package router

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// instance is one real upstream of a color of several: it counts what it
// gets and can hold requests to /slow until released.
type instance struct {
	srv     *httptest.Server
	addr    string
	name    string
	hits    atomic.Int64
	slow    atomic.Int64 // /slow requests arrived
	release chan struct{}
	status  atomic.Int32 // answer of / (200 if zero)
}

func startInstance(t *testing.T, name string) *instance {
	t.Helper()
	in := &instance{name: name, release: make(chan struct{})}
	in.srv = httptest.NewServer(in.handler())
	t.Cleanup(in.srv.Close)
	in.addr = in.srv.Listener.Addr().String()
	return in
}

func (in *instance) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.hits.Add(1)
		w.Header().Set("X-Instance", in.name)
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/slow" {
			in.slow.Add(1)
			<-in.release
		}
		if s := in.status.Load(); s != 0 {
			w.WriteHeader(int(s))
		}
		_, _ = io.WriteString(w, in.name)
	})
}

// kill stops the instance: its port refuses connections.
func (in *instance) kill() {
	in.srv.CloseClientConnections()
	in.srv.Close()
}

// revive serves the instance again on its old address.
func (in *instance) revive(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	waitFor(t, "the old port to be free", 5*time.Second, func() bool {
		ln, err = net.Listen("tcp", in.addr)
		return err == nil
	})
	srv := &http.Server{Handler: in.handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func TestInstancesBothGetTraffic(t *testing.T) {
	a, b := startInstance(t, "a"), startInstance(t, "b")
	r := New(Options{})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: JoinAddrs([]string{a.addr, b.addr})}})
	for name, url := range fronts(t, r) {
		a.hits.Store(0)
		b.hits.Store(0)
		c := newClient(true)
		for range 200 {
			if st, _, body := get(t, c, mustRequest(t, "GET", url+"/")); st != 200 {
				t.Fatalf("%s: GET / = %d %q, want 200", name, st, body)
			}
		}
		if a.hits.Load() < 40 || b.hits.Load() < 40 {
			t.Errorf("%s: 200 requests went %d to a and %d to b, want both a fair share", name, a.hits.Load(), b.hits.Load())
		}
	}
}

// Requests that stay in flight are spread so that the two instances never
// differ by more than one: each new request goes to the less loaded one.
func TestInstancesLeastLoadedPreferred(t *testing.T) {
	a, b := startInstance(t, "a"), startInstance(t, "b")
	r := New(Options{})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: a.addr + "," + b.addr}})
	url := serve(t, r)
	var wg sync.WaitGroup
	t.Cleanup(func() { close(a.release); close(b.release); wg.Wait() })
	for i := 1; i <= 8; i++ {
		wg.Go(func() {
			resp, err := newClient(false).Get(url + "/slow")
			if err == nil {
				resp.Body.Close()
			}
		})
		waitFor(t, "the slow request to arrive", 5*time.Second, func() bool { return a.slow.Load()+b.slow.Load() == int64(i) })
		if d := a.slow.Load() - b.slow.Load(); d > 1 || d < -1 {
			t.Fatalf("after %d held requests: %d at a, %d at b; want the less loaded to get each", i, a.slow.Load(), b.slow.Load())
		}
	}
	if n := r.InFlight(JoinAddrs([]string{a.addr, b.addr})); n != 8 {
		t.Errorf("InFlight(color) = %d, want 8 (the instances' sum)", n)
	}
}

// A killed instance costs the clients nothing: requests that could not be
// sent go to the other instance (any method), the instance is ejected, and
// it gets traffic again once it serves again.
func TestInstanceKilledEjectedAndBack(t *testing.T) {
	for _, front := range []string{"fast path", "net/http"} {
		t.Run(front, func(t *testing.T) {
			a, b := startInstance(t, "a"), startInstance(t, "b")
			r := New(Options{EjectFor: 50 * time.Millisecond, EjectMax: 50 * time.Millisecond})
			key := JoinAddrs([]string{a.addr, b.addr})
			r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: key}})
			url := fronts(t, r)[front]
			c := newClient(true)
			for range 20 { // warm both instances' pools
				get(t, c, mustRequest(t, "GET", url+"/"))
			}
			a.kill()
			for i := range 60 {
				method := "GET"
				if i%3 == 2 && front == "fast path" {
					method = "DELETE" // not safe to repeat: retried only when it was never sent
				}
				st, _, body := get(t, c, mustRequest(t, method, url+"/"))
				if st != 200 || body != "b" {
					t.Fatalf("request %d (%s) after a died: %d %q, want 200 from b", i, method, st, body)
				}
			}
			if a.hits.Load() == 0 {
				t.Fatal("a got no request before it died")
			}
			u := r.lookup(a.addr)[0]
			if u.health.ejections.Load() == 0 {
				t.Errorf("a was never ejected")
			}
			a.revive(t)
			before := a.hits.Load()
			waitFor(t, "a to get traffic again", 5*time.Second, func() bool {
				get(t, c, mustRequest(t, "GET", url+"/"))
				return a.hits.Load() > before
			})
		})
	}
}

// A burst of 5xx answers ejects an instance, but never the last one that
// takes traffic.
func TestInstance5xxBurst(t *testing.T) {
	a, b := startInstance(t, "a"), startInstance(t, "b")
	a.status.Store(500)
	r := New(Options{EjectFor: time.Minute})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: JoinAddrs([]string{a.addr, b.addr})}})
	url := serve(t, r)
	c := newClient(true)
	for range 100 {
		get(t, c, mustRequest(t, "GET", url+"/"))
	}
	got := a.hits.Load()
	if got > 2*DefaultEject5xx {
		t.Errorf("a answered 500 to %d requests; want it ejected after %d", got, DefaultEject5xx)
	}
	b.status.Store(503)
	for range 50 {
		get(t, c, mustRequest(t, "GET", url+"/"))
	}
	if u := r.lookup(b.addr)[0]; !u.available() {
		t.Errorf("b, the last instance taking traffic, was ejected for its 5xx burst")
	}
}

// Every instance ejected: the color is still served, by the instance that
// failed longest ago, not answered "no upstream".
func TestInstancesAllEjectedStillTried(t *testing.T) {
	a, b := startInstance(t, "a"), startInstance(t, "b")
	r := New(Options{EjectFor: time.Minute})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: JoinAddrs([]string{a.addr, b.addr})}})
	ua, ub := r.lookup(a.addr)[0], r.lookup(b.addr)[0]
	r.failed(ua, "test", false)
	r.failed(ub, "test", false)
	url := serve(t, r)
	st, _, body := get(t, newClient(true), mustRequest(t, "GET", url+"/"))
	if st != 200 || body != "a" {
		t.Errorf("all ejected: GET = %d %q, want 200 from a (failed longest ago)", st, body)
	}
	if !ua.available() {
		t.Errorf("a answered but is still ejected")
	}
	if n := r.Ejected(JoinAddrs([]string{a.addr, b.addr})); n != 1 {
		t.Errorf("Ejected(color) = %d, want 1 (b)", n)
	}
}

// Active health checks eject an instance whose check fails and bring it
// back when it passes.
func TestCheckInstances(t *testing.T) {
	a, b := startInstance(t, "a"), startInstance(t, "b")
	r := New(Options{EjectFor: time.Minute})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: JoinAddrs([]string{a.addr, b.addr})}})
	var sick atomic.Bool
	sick.Store(true)
	var probes atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.CheckInstances(ctx, 5*time.Millisecond, func(ctx context.Context, addr string) error {
			probes.Add(1)
			if addr == a.addr && sick.Load() {
				return errors.New("503 Service Unavailable")
			}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	ua := r.lookup(a.addr)[0]
	waitFor(t, "a to be ejected by its health check", 5*time.Second, func() bool { return !ua.available() })
	url := serve(t, r)
	c := newClient(true)
	for range 30 {
		if _, _, body := get(t, c, mustRequest(t, "GET", url+"/")); body != "b" {
			t.Fatalf("a failing its health check still got a request")
		}
	}
	sick.Store(false)
	waitFor(t, "a to be back after a passing check", 5*time.Second, ua.available)
}

// Drain of a color waits for every one of its instances.
func TestDrainWaitsForAllInstances(t *testing.T) {
	a, b := startInstance(t, "a"), startInstance(t, "b")
	green := startUpstream(t, Green, nil)
	r := New(Options{})
	key := JoinAddrs([]string{a.addr, b.addr})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: key, Green: green.addr}})
	url := serve(t, r)
	var wg sync.WaitGroup
	releaseA, releaseB := sync.OnceFunc(func() { close(a.release) }), sync.OnceFunc(func() { close(b.release) })
	t.Cleanup(func() { releaseA(); releaseB(); wg.Wait() })
	for range 2 {
		wg.Go(func() {
			resp, err := newClient(false).Get(url + "/slow")
			if err != nil {
				t.Errorf("held request: %v", err)
				return
			}
			resp.Body.Close()
		})
	}
	waitFor(t, "a held request at each instance", 5*time.Second, func() bool { return a.slow.Load() == 1 && b.slow.Load() == 1 })
	if err := r.Switch(Green); err != nil {
		t.Fatal(err)
	}
	drained := make(chan error, 1)
	go func() { drained <- r.Drain(context.Background(), key) }()
	releaseA()
	waitFor(t, "a's request to end", 5*time.Second, func() bool { return r.InFlight(a.addr) == 0 })
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) with a request still in flight at b", err)
	case <-time.After(20 * time.Millisecond):
	}
	releaseB()
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("Drain: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Drain did not return after both instances emptied")
	}
}

func TestTableJSON(t *testing.T) {
	old := `{"live":"green","upstreams":{"blue":"127.0.0.1:1","green":"127.0.0.1:2"}}`
	var tb Table
	if err := json.Unmarshal([]byte(old), &tb); err != nil {
		t.Fatalf("load a table written before instances: %v", err)
	}
	if tb.Live != Green || tb.Upstreams[Blue] != "127.0.0.1:1" || tb.Upstreams[Green] != "127.0.0.1:2" {
		t.Fatalf("old table = %+v", tb)
	}
	tb.Upstreams[Green] = "127.0.0.1:2,127.0.0.1:3"
	b, err := json.Marshal(tb)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"blue":"127.0.0.1:1"`) || !strings.Contains(string(b), `"green":["127.0.0.1:2","127.0.0.1:3"]`) {
		t.Errorf("Marshal = %s; want one instance as a string, several as a list", b)
	}
	var back Table
	if err := json.Unmarshal(b, &back); err != nil || back.Upstreams[Green] != "127.0.0.1:2,127.0.0.1:3" {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"live":"blue","upstreams":{"blue":7}}`), &back); err == nil {
		t.Errorf("an upstream that is a number was accepted")
	}
	// As LoadRouting decodes: into a table with defaults, kept where the
	// file says nothing.
	def := Table{Live: Blue, Upstreams: map[Color]string{}}
	if err := json.Unmarshal([]byte(`{"upstreams":{"green":["127.0.0.1:5"]}}`), &def); err != nil ||
		def.Live != Blue || def.Upstreams[Green] != "127.0.0.1:5" {
		t.Errorf("decode over defaults = %+v, %v; want blue kept, green added", def, err)
	}
}

// Queued and InFlight of a color sum its instances; the concurrency limit
// holds at each instance.
func TestInstancesLimitPerInstance(t *testing.T) {
	a, b := startInstance(t, "a"), startInstance(t, "b")
	r := New(Options{Concurrency: 1})
	key := JoinAddrs([]string{a.addr, b.addr})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: key}})
	url := serve(t, r)
	var wg sync.WaitGroup
	t.Cleanup(func() { close(a.release); close(b.release); wg.Wait() })
	for range 4 {
		wg.Go(func() {
			resp, err := newClient(false).Get(url + "/slow")
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	waitFor(t, "one request at each instance and two in line", 5*time.Second, func() bool {
		return a.slow.Load() == 1 && b.slow.Load() == 1 && r.Queued(key) == 2
	})
	if n := r.InFlight(key); n != 4 {
		t.Errorf("InFlight(color) = %d, want 4", n)
	}
}

// A request that waited in vain for a slot at a busy instance is no
// failure of the instance: it is not ejected for it.
func TestInstanceBusyIsNotEjected(t *testing.T) {
	a, b := startInstance(t, "a"), startInstance(t, "b")
	r := New(Options{Concurrency: 1, QueueTimeout: time.Millisecond, EjectAfter: 1})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: JoinAddrs([]string{a.addr, b.addr})}})
	std := httptest.NewServer(r) // the net/http front, whose transport sees the queue timeout
	t.Cleanup(std.Close)
	var wg sync.WaitGroup
	t.Cleanup(func() { close(a.release); close(b.release); wg.Wait() })
	for range 2 {
		wg.Go(func() {
			resp, err := newClient(false).Get(std.URL + "/slow")
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	waitFor(t, "both instances busy", 5*time.Second, func() bool { return a.slow.Load() == 1 && b.slow.Load() == 1 })
	if st, _, _ := get(t, newClient(false), mustRequest(t, "GET", std.URL+"/")); st != http.StatusServiceUnavailable {
		t.Fatalf("GET with both instances busy = %d, want 503", st)
	}
	if n := r.Ejected(JoinAddrs([]string{a.addr, b.addr})); n != 0 {
		t.Errorf("Ejected = %d after a queue timeout, want 0", n)
	}
}
