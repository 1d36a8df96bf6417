package router

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

func TestProxyForwardsHeadersAndStripsHopByHop(t *testing.T) {
	hop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Resp-Hop")
		w.Header().Set("X-Resp-Hop", "secret")
		w.Header().Set("X-App", "kept")
		_, _ = io.WriteString(w, "hello")
	})
	r, blue, _ := newPair(t, Options{}, hop, nil)
	base := serve(t, r)
	c := newClient(true)
	direct, err := c.Get(blue.URL + "/other")
	if err != nil {
		t.Fatalf("GET upstream directly: %v", err)
	}
	direct.Body.Close()
	if direct.Header.Get("X-Resp-Hop") == "" {
		t.Fatalf("upstream does not send X-Resp-Hop; the stripping check below would prove nothing")
	}

	req := mustRequest(t, "GET", base+"/echo?q=1")
	req.Host = "shop.example.com"
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "dropped")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("X-Forwarded-For", "6.6.6.6") // a client must not spoof its address
	req.Header.Set("X-Custom", "kept")
	status, color, body := get(t, c, req)
	if status != http.StatusOK || color != "blue" {
		t.Fatalf("GET /echo = %d from %q, want 200 from blue", status, color)
	}
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("decode echo %q: %v", body, err)
	}
	got := map[string]string{
		"Host":              s.Host,
		"X-Forwarded-For":   s.Header.Get("X-Forwarded-For"),
		"X-Forwarded-Proto": s.Header.Get("X-Forwarded-Proto"),
		"X-Forwarded-Host":  s.Header.Get("X-Forwarded-Host"),
		"X-Custom":          s.Header.Get("X-Custom"),
		"X-Hop":             s.Header.Get("X-Hop"),
		"Keep-Alive":        s.Header.Get("Keep-Alive"),
	}
	want := map[string]string{
		"Host":              "shop.example.com",
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-Host":  "shop.example.com",
		"X-Custom":          "kept",
		"X-Hop":             "",
		"Keep-Alive":        "",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("upstream saw wrong request headers (-want +got):\n%s", d)
	}

	resp, err := c.Get(base + "/other")
	if err != nil {
		t.Fatalf("GET /other: %v", err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("X-Resp-Hop"); v != "" {
		t.Errorf("client got hop-by-hop response header X-Resp-Hop=%q, want it stripped", v)
	}
	if v := resp.Header.Get("X-App"); v != "kept" {
		t.Errorf("client got X-App=%q, want kept", v)
	}
}

func TestUnreachableLiveAnswers502(t *testing.T) { bothFronts(t, testUnreachableLiveAnswers502) }

func testUnreachableLiveAnswers502(t *testing.T, serve front) {
	c := newClient(true)
	// want502 checks the page a user gets: which release is down, as plain
	// text that no browser sniffs or caches.
	want502 := func(t *testing.T, req *http.Request, wantBody string) {
		t.Helper()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadGateway || string(body) != wantBody {
			t.Errorf("%s %s = %d %q, want 502 %q", req.Method, req.URL, resp.StatusCode, body, wantBody)
		}
		for _, kv := range [][2]string{{"Content-Type", "text/plain; charset=utf-8"},
			{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}} {
			if got := resp.Header.Values(kv[0]); len(got) != 1 || got[0] != kv[1] {
				t.Errorf("502 header %s = %q, want just %q", kv[0], got, kv[1])
			}
		}
		if resp.Header.Get("Date") == "" {
			t.Error("502 without a Date header")
		}
	}
	t.Run("no upstream", func(t *testing.T) {
		base := serve(t, New(Options{}))
		want502(t, mustRequest(t, "GET", base+"/"), "bascule: the live release (blue) is not reachable\n")
	})
	t.Run("upstream refuses", func(t *testing.T) {
		r, _, green := newPair(t, Options{}, nil, nil)
		if err := r.Switch(Green); err != nil {
			t.Fatal(err)
		}
		green.Close() // the port now refuses connections
		base := serve(t, r)
		want502(t, mustRequest(t, "GET", base+"/"), "bascule: the live release (green) is not reachable\n")
		// The count drops just after the 502 is written, so the client can
		// see the answer first; it must not stay up.
		waitFor(t, "InFlight(green) to return to 0 after a failed request", 5*time.Second, func() bool {
			return r.InFlight(green.addr) == 0
		})
	})
}

func TestSwitchAndTableAPI(t *testing.T) {
	r := New(Options{})
	if err := r.Switch(Green); !errors.Is(err, ErrNoUpstream) {
		t.Errorf("Switch(green) without upstream = %v, want ErrNoUpstream", err)
	}
	if err := r.Switch("purple"); !errors.Is(err, ErrUnknownColor) {
		t.Errorf("Switch(purple) = %v, want ErrUnknownColor", err)
	}
	r.Install(Table{Live: Green, Upstreams: map[Color]string{Blue: "127.0.0.1:1", Green: "127.0.0.1:2", "red": "x"}})
	r.SetUpstream(Blue, "127.0.0.1:3")
	tab := r.Table()
	tab.Upstreams[Green] = "mutated" // must not reach the router
	want := Table{Live: Green, Upstreams: map[Color]string{Blue: "127.0.0.1:3", Green: "127.0.0.1:2"}}
	if d := cmp.Diff(want, r.Table()); d != "" {
		t.Errorf("Table() after Install+SetUpstream (-want +got):\n%s", d)
	}
	r.SetUpstream(Blue, "")
	if err := r.Switch(Blue); !errors.Is(err, ErrNoUpstream) {
		t.Errorf("Switch(blue) after removing its upstream = %v, want ErrNoUpstream", err)
	}
	for in, want := range map[string]Color{"blue": Blue, " Green ": Green} {
		if got, err := ParseColor(in); err != nil || got != want {
			t.Errorf("ParseColor(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseColor("red"); !errors.Is(err, ErrUnknownColor) {
		t.Errorf("ParseColor(red) = %v, want ErrUnknownColor", err)
	}
	if Blue.Other() != Green || Green.Other() != Blue {
		t.Errorf("Other() does not swap blue and green")
	}
}

// startH2CUpstream starts an upstream that only speaks HTTP/2 with prior
// knowledge, answering like a gRPC server (trailers included). It uses the
// standard library's h2c server: x/net/http2/h2c is deprecated in its favour.
func startH2CUpstream(t *testing.T) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Color", "green")
		w.Header().Set("X-Proto", r.Proto)
		w.Header().Set("Trailer", "Grpc-Status")
		_, _ = io.WriteString(w, "pong")
		w.Header().Set("Grpc-Status", "0")
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true) // and not HTTP/1: h2c only
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestH2CUpstream(t *testing.T) {
	addr := startH2CUpstream(t)
	h2cClient := func() *http.Client {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		return &http.Client{Transport: &http.Transport{Protocols: &p}, Timeout: 10 * time.Second}
	}
	t.Run("grpc request over h2c prior knowledge", func(t *testing.T) {
		r := New(Options{})
		r.Install(Table{Live: Green, Upstreams: map[Color]string{Green: addr}})
		base := serve(t, r)
		req := mustRequest(t, "POST", base+"/pkg.Service/Ping")
		req.Header.Set("Content-Type", "application/grpc")
		resp, err := h2cClient().Do(req)
		if err != nil {
			t.Fatalf("gRPC POST through router: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.ProtoMajor != 2 || resp.Header.Get("X-Proto") != "HTTP/2.0" || string(body) != "pong" {
			t.Errorf("gRPC via router: client %s, upstream %q, body %q; want HTTP/2 end to end and pong",
				resp.Proto, resp.Header.Get("X-Proto"), body)
		}
		if got := resp.Trailer.Get("Grpc-Status"); got != "0" {
			t.Errorf("trailer Grpc-Status = %q, want 0 passed through", got)
		}
	})
	t.Run("H2C option for plain HTTP/1.1 clients", func(t *testing.T) {
		r := New(Options{H2C: true})
		r.Install(Table{Live: Green, Upstreams: map[Color]string{Green: addr}})
		base := serve(t, r)
		resp, err := newClient(true).Get(base + "/")
		if err != nil {
			t.Fatalf("GET through H2C router: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Proto") != "HTTP/2.0" {
			t.Errorf("H2C router: %d, upstream saw %q; want 200 over HTTP/2.0", resp.StatusCode, resp.Header.Get("X-Proto"))
		}
	})
	t.Run("H2C option keeps WebSocket on HTTP/1.1", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(echoWS(Green))
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
		t.Cleanup(srv.Close)
		r := New(Options{H2C: true})
		r.Install(Table{Live: Green, Upstreams: map[Color]string{Green: srv.Listener.Addr().String()}})
		base := serve(t, r)
		conn, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
		if err != nil {
			t.Fatalf("dial websocket through H2C router: %v", err)
		}
		defer conn.CloseNow()
		if got := roundTrip(t, conn, "hi"); got != "green:hi" {
			t.Errorf("websocket through H2C router echoed %q, want green:hi", got)
		}
	})
}

func TestObserveReportsColorAndStatus(t *testing.T) {
	type obs struct {
		c      Color
		status int
	}
	got := make(chan obs, 4)
	r, _, _ := newPair(t, Options{Observe: func(c Color, status int, d time.Duration) {
		got <- obs{c, status}
	}}, nil, nil)
	base := serve(t, r)
	get(t, newClient(true), mustRequest(t, "GET", base+"/"))
	select {
	case o := <-got:
		if o != (obs{Blue, 200}) {
			t.Errorf("Observe got %v, want {blue 200}", o)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Observe was not called for a proxied request")
	}
}
