package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// mapResolver is a Resolver over a map the test changes, standing in for
// the EndpointSlice watch (internal/endpoints, tested against a real API
// server there): the router's side of references does not depend on where
// the addresses come from.
type mapResolver struct {
	mu        sync.Mutex
	namespace string
	addrs     map[Ref][]string
}

func (m *mapResolver) Resolve(ref Ref) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ref.Namespace != m.namespace {
		return nil, fmt.Errorf("namespace %s is not watched (only %s)", ref.Namespace, m.namespace)
	}
	return slices.Clone(m.addrs[ref]), nil
}

func (m *mapResolver) set(ref Ref, addrs ...string) {
	m.mu.Lock()
	m.addrs[ref] = addrs
	m.mu.Unlock()
}

var (
	blueRef  = Ref{Namespace: "shop", Service: "shop-blue", Port: "http"}
	greenRef = Ref{Namespace: "shop", Service: "shop-green", Port: "http"}
)

func newResolver() *mapResolver {
	return &mapResolver{namespace: "shop", addrs: map[Ref][]string{}}
}

// hold keeps the requests that reach an upstream until released, and is
// released when the test ends whatever happened, so that no server's Close
// waits for ever on a request a failed test left held.
type hold struct {
	started  chan struct{}
	released chan struct{}
	first    sync.Once
	once     sync.Once
}

// holdingUpstream starts an upstream named name that holds every request.
func holdingUpstream(t *testing.T, name string) (*hold, string) {
	h := &hold{started: make(chan struct{}), released: make(chan struct{})}
	addr := startUpstream(t, Color(name), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.enter(r)
		_, _ = io.WriteString(w, "done")
	})).addr
	t.Cleanup(h.release) // before the server's Close, which waits for it
	return h, addr
}

// enter marks a request arrived and waits for release (or its client).
func (h *hold) enter(r *http.Request) {
	h.first.Do(func() { close(h.started) })
	select {
	case <-h.released:
	case <-r.Context().Done():
	}
}

func (h *hold) release() { h.once.Do(func() { close(h.released) }) }

// answeredBy fetches base and returns which upstream answered (its body).
func answeredBy(t *testing.T, base string) string {
	t.Helper()
	status, _, body := get(t, newClient(false), mustRequest(t, "GET", base+"/"))
	if status != http.StatusOK {
		t.Fatalf("GET / = %d %q, want 200", status, body)
	}
	return body
}

// namedUpstream answers every request with its name.
func namedUpstream(t *testing.T, name string) string {
	t.Helper()
	return startUpstream(t, Color(name), nil).addr
}

func TestRefFollowsItsInstancesWithoutNewTable(t *testing.T) {
	res := newResolver()
	a, b := namedUpstream(t, "pod-a"), namedUpstream(t, "pod-b")
	res.set(blueRef, a)
	r := New(Options{Resolver: res})
	table := Table{Generation: 7, Live: Blue, Upstreams: map[Color]string{Blue: blueRef.String()}}
	if err := r.CheckTable(table); err != nil {
		t.Fatalf("CheckTable(%v) = %v, want nil", table, err)
	}
	r.Install(table)
	base := serve(t, r)
	if got := answeredBy(t, base); got != "pod-a" {
		t.Fatalf("before any change, answered by %s, want pod-a", got)
	}

	// The pod restarts with a new address: only the resolver knows.
	res.set(blueRef, b)
	r.Refresh()
	for range 5 {
		if got := answeredBy(t, base); got != "pod-b" {
			t.Fatalf("after the pod moved to %s, answered by %s, want pod-b", b, got)
		}
	}
	if got := r.Addrs(blueRef.String()); !slices.Equal(got, []string{b}) {
		t.Errorf("Addrs(%s) = %v, want [%s]", blueRef, got, b)
	}
	// Scale-up: both share the traffic.
	res.set(blueRef, a, b)
	r.Refresh()
	seen := map[string]bool{}
	for i := 0; i < 200 && len(seen) < 2; i++ {
		seen[answeredBy(t, base)] = true
	}
	if !seen["pod-a"] || !seen["pod-b"] {
		t.Errorf("after a scale-up to two pods, answered by %v, want both", seen)
	}
	// The table is the control plane's and did not change.
	if got := r.Table(); got.Generation != 7 || got.Upstreams[Blue] != blueRef.String() {
		t.Errorf("Table() = %+v, want generation 7 with blue = %s", got, blueRef)
	}
	// No ready pod: the color has nowhere to go, and says so.
	res.set(blueRef)
	r.Refresh()
	if status, _, _ := get(t, newClient(false), mustRequest(t, "GET", base+"/")); status != http.StatusBadGateway {
		t.Errorf("with no ready pod, GET / = %d, want 502", status)
	}
}

func TestRefRefusedWhereItCannotBeResolved(t *testing.T) {
	bare := New(Options{})
	resolving := New(Options{Resolver: newResolver()})
	for _, tc := range []struct {
		name  string
		r     *Router
		up    string
		isErr error
	}{
		{"no resolver", bare, blueRef.String(), ErrNoResolver},
		{"another namespace", resolving, Ref{Namespace: "other", Service: "s", Port: "http"}.String(), nil},
		{"among addresses", resolving, blueRef.String() + ",10.0.0.1:8080", nil},
		{"malformed", resolving, "k8s:shop", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := Table{Live: Blue, Upstreams: map[Color]string{Blue: tc.up}}
			err := tc.r.CheckTable(table)
			if err == nil {
				t.Fatalf("CheckTable(blue=%q) = nil, want an error", tc.up)
			}
			if tc.isErr != nil && !errors.Is(err, tc.isErr) {
				t.Errorf("CheckTable(blue=%q) = %v, want it to wrap %v", tc.up, err, tc.isErr)
			}
		})
	}
	if err := bare.CheckTable(Table{Live: Blue, Upstreams: map[Color]string{Blue: "10.0.0.1:8080"}}); err != nil {
		t.Errorf("CheckTable of addresses on a router without resolver = %v, want nil", err)
	}
}

// A pod that leaves the endpoints (or changes address) while it works on a
// request still belongs to its color until that request ends: draining the
// color after a switch waits for it.
func TestRefDrainWaitsForAPodThatLeftTheEndpoints(t *testing.T) {
	hold, slow := holdingUpstream(t, "old-pod")
	fresh, green := namedUpstream(t, "new-pod"), namedUpstream(t, "green")
	res := newResolver()
	res.set(blueRef, slow)
	res.set(greenRef, green)
	r := New(Options{Resolver: res})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: blueRef.String(), Green: greenRef.String()}})
	base := serve(t, r)

	done := make(chan error, 1)
	go func() {
		resp, err := newClient(false).Get(base + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-hold.started
	res.set(blueRef, fresh) // the pod is replaced while it works
	r.Refresh()
	if n := r.InFlight(blueRef.String()); n != 1 {
		t.Errorf("InFlight(%s) = %d with a request on a pod that left, want 1", blueRef, n)
	}
	if err := r.Switch(Green); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.DrainRequests(ctx, blueRef.String()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DrainRequests(blue) with a request in flight on its old pod = %v, want the deadline", err)
	}
	hold.release()
	if err := <-done; err != nil {
		t.Fatalf("slow request: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := r.DrainRequests(ctx2, blueRef.String()); err != nil {
		t.Errorf("DrainRequests(blue) once the request ended = %v, want nil", err)
	}
	if got := answeredBy(t, base); got != "green" {
		t.Errorf("after the switch, answered by %s, want green", got)
	}
}

// DrainRequests of a color of several instances waits for every one of
// them (it once looked the joined string up as one address, found
// nothing, and returned at once).
func TestDrainRequestsWaitsForEveryInstance(t *testing.T) {
	hold, slow := holdingUpstream(t, "slow")
	key := JoinAddrs([]string{namedUpstream(t, "quick"), slow})
	r := New(Options{})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: key}})
	base := serve(t, r)
	done := make(chan struct{})
	go func() { // until a request lands on the slow instance
		defer close(done)
		for {
			resp, err := newClient(false).Get(base + "/")
			if err != nil {
				return
			}
			resp.Body.Close()
			select {
			case <-hold.started:
				return
			default:
			}
		}
	}()
	<-hold.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.DrainRequests(ctx, key); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DrainRequests(%s) with a request in flight on %s = %v, want the deadline", key, slow, err)
	}
	hold.release()
	<-done
}

func TestParseRef(t *testing.T) {
	ref, err := ParseRef(" k8s:shop/shop-blue:http ")
	if err != nil || ref != blueRef {
		t.Fatalf("ParseRef = %+v, %v; want %+v", ref, err, blueRef)
	}
	if ref.String() != "k8s:shop/shop-blue:http" {
		t.Errorf("String() = %q", ref.String())
	}
	for _, bad := range []string{"", "10.0.0.1:80", "k8s:", "k8s:shop", "k8s:shop/svc", "k8s:/svc:80", "k8s:shop/:80", "k8s:shop/svc:", "k8s:shop/a/b:80", "k8s:shop/svc:80:81", "k8s:a,b/svc:http", "k8s:shop/svc:h p", "k8s:Shop/svc:http"} {
		if _, err := ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) = nil error, want one", bad)
		}
	}
	if IsRef("10.0.0.1:8080") || !IsRef("k8s:shop/x:http") {
		t.Error("IsRef misjudges an address or a reference")
	}
}

func FuzzParseRef(f *testing.F) {
	f.Add("k8s:shop/shop-blue:http")
	f.Add("k8s:a/b:8080")
	f.Add("127.0.0.1:80")
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseRef(s)
		if err != nil {
			return
		}
		again, err := ParseRef(ref.String())
		if err != nil || again != ref {
			t.Fatalf("ParseRef(%q) = %+v, and its String %q parses to %+v, %v", s, ref, ref.String(), again, err)
		}
		if !IsRef(ref.String()) || len(SplitAddrs(ref.String())) != 1 {
			t.Fatalf("%q is not one reference in a table", ref.String())
		}
	})
}
