package router

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestDrainWaitsForSlowRequestOnOldColor(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		// A two-second request: simulated work, not synchronisation; the
		// assertions below hold however long it takes.
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "slow done")
		finished.Store(true)
	})
	r, blue, green := newPair(t, Options{}, slow, nil)
	base := serve(t, r)

	type result struct {
		status      int
		color, body string
		err         error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := newClient(true).Get(base + "/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		res <- result{resp.StatusCode, resp.Header.Get("X-Color"), string(body), err}
	}()
	<-started
	if n := r.InFlight(blue.addr); n != 1 {
		t.Errorf("InFlight(blue) = %d during the slow request, want 1", n)
	}
	if err := r.Switch(Green); err != nil {
		t.Fatal(err)
	}
	if _, color, _ := get(t, newClient(true), mustRequest(t, "GET", base+"/")); color != "green" {
		t.Errorf("new request after Switch(green) answered by %s, want green", color)
	}

	if err := r.Drain(context.Background(), blue.addr); err != nil {
		t.Fatalf("Drain(blue) = %v, want nil", err)
	}
	if !finished.Load() {
		t.Errorf("Drain(blue) returned before the slow request finished on blue")
	}
	if n := r.InFlight(blue.addr); n != 0 {
		t.Errorf("InFlight(blue) = %d after Drain, want 0", n)
	}
	got := <-res
	if got != (result{200, "blue", "slow done", nil}) {
		t.Errorf("slow request started before the switch = %+v, want 200 \"slow done\" from blue", got)
	}
	if n := r.InFlight(green.addr); n != 0 {
		t.Errorf("InFlight(green) = %d with nothing in flight, want 0", n)
	}
}

// echoWS accepts a WebSocket and echoes each message prefixed with color.
func echoWS(c Color) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		for {
			typ, msg, err := conn.Read(r.Context())
			if err != nil {
				return
			}
			if err := conn.Write(r.Context(), typ, append([]byte(string(c)+":"), msg...)); err != nil {
				return
			}
		}
	})
}

// roundTrip sends msg on conn and returns the reply.
func roundTrip(t *testing.T, conn *websocket.Conn, msg string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("websocket write %q: %v", msg, err)
	}
	_, reply, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("websocket read reply to %q: %v", msg, err)
	}
	return string(reply)
}

func TestWebSocketSurvivesSwitchUntilDrainDeadline(t *testing.T) {
	r, blue, _ := newPair(t, Options{}, echoWS(Blue), echoWS(Green))
	base := serve(t, r)
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	ctx := context.Background()

	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatalf("dial websocket through router: %v", err)
	}
	defer conn.CloseNow()
	if got := roundTrip(t, conn, "one"); got != "blue:one" {
		t.Fatalf("first message echoed %q, want blue:one", got)
	}

	if err := r.Switch(Green); err != nil {
		t.Fatal(err)
	}
	if got := roundTrip(t, conn, "two"); got != "blue:two" {
		t.Errorf("after Switch(green) the open websocket echoed %q, want blue:two", got)
	}
	fresh, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatalf("dial second websocket: %v", err)
	}
	defer fresh.CloseNow()
	if got := roundTrip(t, fresh, "new"); got != "green:new" {
		t.Errorf("websocket opened after Switch(green) echoed %q, want green:new", got)
	}

	drainCtx, deadline := context.WithCancel(ctx) // cancelling stands for the deadline passing
	drained := make(chan error, 1)
	go func() { drained <- r.Drain(drainCtx, blue.addr) }()
	waitFor(t, "Drain(blue) to start waiting", 10*time.Second, func() bool { return drainWaiters(r, blue.addr) > 0 })
	if got := roundTrip(t, conn, "three"); got != "blue:three" {
		t.Errorf("while draining, the open websocket echoed %q, want blue:three", got)
	}
	if n := r.InFlight(blue.addr); n != 1 {
		t.Errorf("InFlight(blue) = %d with one websocket open, want 1", n)
	}
	select {
	case err := <-drained:
		t.Fatalf("Drain(blue) returned %v while a websocket was still open", err)
	default:
	}

	deadline()
	if err := <-drained; !errors.Is(err, context.Canceled) {
		t.Errorf("Drain(blue) at its deadline = %v, want context.Canceled", err)
	}
	readCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, _, err := conn.Read(readCtx); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("websocket read after Drain deadline = %v, want the connection closed", err)
	}
	waitFor(t, "InFlight(blue) to reach 0", 10*time.Second, func() bool { return r.InFlight(blue.addr) == 0 })
	if got := roundTrip(t, fresh, "still"); got != "green:still" {
		t.Errorf("green websocket after blue's drain echoed %q, want green:still", got)
	}
}

func TestSSEStreamsBeforeResponseEnds(t *testing.T) {
	release := make(chan struct{})
	events := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "data: two\n\n")
	})
	r, _, _ := newPair(t, Options{}, events, nil)
	base := serve(t, r)
	resp, err := newClient(true).Get(base + "/events")
	if err != nil {
		t.Fatalf("GET /events: %v", err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first SSE line = %q, %v; want data: one while the upstream still holds the stream", line, err)
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest of stream = %q, %v; want the second event then EOF", rest, err)
	}
}

// TestDrainRequestsLeavesWebSockets: after a switch, DrainRequests waits
// for the plain request still in flight on the old color, not for its
// open WebSocket, which it leaves connected.
func TestDrainRequestsLeavesWebSockets(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/ws", echoWS(Blue))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "slow done")
	})
	r, blue, _ := newPair(t, Options{}, mux, echoWS(Green))
	base := serve(t, r)
	ctx := context.Background()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial websocket through router: %v", err)
	}
	defer conn.CloseNow()
	if got := roundTrip(t, conn, "one"); got != "blue:one" {
		t.Fatalf("websocket echoed %q, want blue:one", got)
	}
	slow := make(chan int, 1)
	go func() {
		resp, err := newClient(false).Get(base + "/slow")
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	<-started
	if err := r.Switch(Green); err != nil {
		t.Fatal(err)
	}
	drained := make(chan error, 1)
	go func() { drained <- r.DrainRequests(ctx, blue.addr) }()
	waitFor(t, "DrainRequests(blue) to start waiting", 10*time.Second, func() bool { return drainWaiters(r, blue.addr) > 0 })
	select {
	case err := <-drained:
		t.Fatalf("DrainRequests(blue) = %v while a request was in flight there", err)
	default:
	}
	close(release)
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("DrainRequests(blue) = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("DrainRequests(blue) still waits with only a websocket open")
	}
	if status := <-slow; status != 200 {
		t.Errorf("the request in flight during the switch = %d, want 200", status)
	}
	if got := roundTrip(t, conn, "two"); got != "blue:two" {
		t.Errorf("after DrainRequests the websocket echoed %q, want blue:two: it is not cut", got)
	}
	if err := r.DrainRequests(ctx, blue.addr); err != nil {
		t.Errorf("DrainRequests(blue) with only a websocket open = %v, want nil at once", err)
	}
}
