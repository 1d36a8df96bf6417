package main

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/coder/websocket"
)

// TestStreamsThroughSwitches: SSE streams and WebSockets pass through the
// router; a WebSocket open on the old color survives go-live (the old color
// still runs) and is closed only when that color is replaced, after the
// drain timeout.
func TestStreamsThroughSwitches(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	resp, err := http.Get("http://" + in.listen + "/events?every_ms=20")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	var ticks []string
	for len(ticks) < 3 && sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			ticks = append(ticks, d)
		}
	}
	resp.Body.Close()
	if len(ticks) != 3 || !strings.HasPrefix(ticks[0], "v1 ") {
		t.Fatalf("SSE through the router = %q, want 3 ticks from v1", ticks)
	}

	ws, _, err := websocket.Dial(ctx, "ws://"+in.listen+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	echo := func(msg string) (string, error) {
		if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			return "", err
		}
		_, b, err := ws.Read(ctx)
		return string(b), err
	}
	if got, err := echo("hello"); got != "v1: hello" {
		t.Fatalf("WebSocket echo = %q, %v; want v1: hello", got, err)
	}

	in.addRelease("v2", "")
	if d := in.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s", d.State)
	}
	if _, err := in.cl.GoLive(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := echo("still there"); got != "v1: still there" {
		t.Fatalf("WebSocket on the old color after go-live = %q, %v; want it still connected to v1", got, err)
	}

	// Deploying v3 replaces blue (v1): the WebSocket is closed at the drain
	// timeout, and not before the deployment started replacing it.
	in.addRelease("v3", "")
	d := in.deploy("v3")
	if d.State != store.StateReady || d.Color != "blue" {
		t.Fatalf("deploy v3 = %s on %s", d.State, d.Color)
	}
	if _, err := echo("gone?"); err == nil {
		t.Fatal("WebSocket to the replaced color still works after it was stopped")
	}
	var replace store.Step
	for _, s := range d.Steps {
		if s.Name == "replace" {
			replace = s
		}
	}
	if !strings.Contains(replace.Message, "drained in 5") {
		t.Errorf("replace step = %q, want it to have waited the 5s drain timeout for the WebSocket", replace.Message)
	}
}
