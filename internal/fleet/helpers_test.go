package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// app is a real HTTP server standing in for one color's release. It
// records when each request arrived, so a test can tell whether any
// reached it after a switch returned.
type app struct {
	srv    *httptest.Server
	color  router.Color
	mu     sync.Mutex
	last   time.Time // arrival of the latest request
	count  atomic.Int64
	active atomic.Int64 // requests being answered now
}

func startApp(t *testing.T, c router.Color) *app {
	t.Helper()
	a := &app{color: c}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		a.mu.Lock()
		if now.After(a.last) {
			a.last = now
		}
		a.mu.Unlock()
		a.count.Add(1)
		a.active.Add(1)
		defer a.active.Add(-1)
		time.Sleep(5 * time.Millisecond) // a little work, so switches find requests in flight
		io.WriteString(w, string(c))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) addr() string { return a.srv.Listener.Addr().String() }

func (a *app) lastArrival() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// controlPlane is a Hub behind the two endpoints a router uses, served
// over real HTTP (the API adds authentication to the same calls).
type controlPlane struct {
	hub   *Hub
	local *router.Router
	url   string
	srv   *httptest.Server
}

func startControlPlane(t *testing.T, blue, green *app, interval time.Duration) *controlPlane {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bascule.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	local := router.New(router.Options{})
	local.Install(router.Table{Live: router.Blue, Upstreams: map[router.Color]string{router.Blue: blue.addr(), router.Green: green.addr()}})
	hub, err := NewHub(ctx, HubOptions{Local: local, LocalID: "embedded", LocalHost: "cp", Store: st,
		Interval: interval, DrainTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close)
	srv := serveHub(t, hub)
	return &controlPlane{hub: hub, local: local, url: srv.URL, srv: srv}
}

// serveHub serves hub's two endpoints over real HTTP.
func serveHub(t *testing.T, hub *Hub) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+StreamPath, func(w http.ResponseWriter, r *http.Request) { hub.Stream(r.Context(), w) })
	mux.HandleFunc("POST "+HeartbeatPath, func(w http.ResponseWriter, r *http.Request) {
		var hb Heartbeat
		if err := json.NewDecoder(r.Body).Decode(&hb); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := hub.Heartbeat(r.Context(), hb); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// remote is one router as `bascule router` runs it: its own router,
// listening, persisting to its own directory, following the control plane.
type remote struct {
	id     string
	r      *router.Router
	agent  *Agent
	addr   string
	path   string
	cancel context.CancelFunc
	done   chan struct{}
	f      *Follower
}

func startRemote(t *testing.T, id, controlURL string, interval time.Duration, path string) *remote {
	t.Helper()
	return startRemoteOf(t, id, []string{controlURL}, interval, path)
}

// startRemoteOf starts a router following the control-plane instances at
// urls.
func startRemoteOf(t *testing.T, id string, urls []string, interval time.Duration, path string) *remote {
	t.Helper()
	table, err := router.LoadTable(path)
	if err != nil {
		t.Fatal(err)
	}
	r := router.New(router.Options{})
	settings, found, err := LoadSettings(path + ".settings")
	if err != nil {
		t.Fatal(err)
	}
	if found {
		r.Configure(settings)
	}
	r.Install(table)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.NewServer(ln.Addr().String(), r)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	agent := NewAgent(AgentOptions{ID: id, Host: "host-" + id, Listen: ln.Addr().String(), Router: r, Path: path,
		SettingsPath: path + ".settings"})
	ctx, cancel := context.WithCancel(context.Background())
	rm := &remote{id: id, r: r, agent: agent, addr: ln.Addr().String(), path: path, cancel: cancel, done: make(chan struct{})}
	f := &Follower{URLs: urls, Token: "t", Agent: agent, Interval: interval}
	rm.f = f
	go func() {
		defer close(rm.done)
		f.Run(ctx)
	}()
	t.Cleanup(rm.stop)
	return rm
}

func (rm *remote) stop() {
	rm.cancel()
	<-rm.done
}

// load sends requests through every router at a steady rate until
// stopped, counting failures and the color of each answer.
type load struct {
	failed   atomic.Int64
	sent     atomic.Int64
	firstErr atomic.Value
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startLoad(t *testing.T, perSecond int, addrs ...string) *load {
	t.Helper()
	l := &load{stop: make(chan struct{})}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	const workers = 8
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
				l.sent.Add(1)
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
					l.firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	t.Cleanup(l.end)
	return l
}

func (l *load) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// confirmedBy reports whether the router id reported gen installed and drained.
func (cp *controlPlane) confirmedBy(id string, gen int64) bool {
	cp.hub.mu.Lock()
	defer cp.hub.mu.Unlock()
	s, ok := cp.hub.routers[id]
	return ok && confirmed(s.hb, gen, true)
}

// switchTo makes to live on every router as the pipeline's go-live does
// through the hub (deploy's route, then drainRequests): Install the table
// with to live and no split, then wait for the old color to drain on
// every live router, up to the drain timeout.
func switchTo(h *Hub, to router.Color) error {
	cur := h.Table()
	next := clone(cur)
	next.Live, next.Split = to, nil
	h.Install(next)
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.DrainTimeout)
	defer cancel()
	return h.DrainRequests(ctx, cur.Upstreams[cur.Live])
}
