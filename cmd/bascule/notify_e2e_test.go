package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/notify"
	"github.com/bascule/bascule/internal/store"
)

const webhookSecret = "e2e-webhook-secret-0123456789"

// TestWebhookSurvivesKill9: bascule records a deployment's events while
// the webhook's receiver is down, fails to deliver them, and is killed
// with SIGKILL. The receiver comes up; bascule starts again and delivers
// them, signed.
func TestWebhookSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills bascule")
	}
	t.Setenv("BASCULE_WEBHOOK_SECRET", webhookSecret)
	hookAddr := freeAddr(t) // nothing listens there yet
	in := newInstance(t, fmt.Sprintf("notify:\n  - url: http://%s/hook\n    secret_env: BASCULE_WEBHOOK_SECRET\n    events: [deployment]\n", hookAddr))
	in.start()
	in.addRelease("v1", "")
	d := in.deploy("v1")
	if d.State != store.StateReady {
		t.Fatalf("deploy v1 = %s %s", d.State, d.Error)
	}
	ctx := context.Background()
	waitFor(t, 20*time.Second, "both deliveries to fail once", func() bool {
		n, err := in.cl.Notifications(ctx, store.DeliveryPending)
		if err != nil || len(n.Deliveries) != 2 {
			return false
		}
		for _, d := range n.Deliveries {
			if d.Attempts < 1 || !strings.Contains(d.LastError, "connection refused") {
				return false
			}
		}
		return true
	})
	in.kill()

	var mu sync.Mutex
	got := map[string]notify.Event{}
	var bad []string
	ln, err := net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatalf("listen for the receiver on %s: %v", hookAddr, err)
	}
	rcv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := notify.Verify([]byte(webhookSecret), r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature), body, time.Now()); err != nil {
			bad = append(bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev notify.Event
		json.Unmarshal(body, &ev)
		got[ev.Type] = ev
	}))
	rcv.Listener.Close()
	rcv.Listener = ln
	rcv.Start()
	t.Cleanup(rcv.Close)

	in.start()
	// A claim's lease outlives a kill in the middle of an attempt: allow it.
	waitFor(t, 60*time.Second, "the events after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2 || len(bad) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("the receiver refused deliveries: %v", bad)
	}
	for _, typ := range []string{"deployment.started", "deployment.ready"} {
		if ev := got[typ]; ev.Deployment != d.ID || ev.Version != "v1" || ev.App != "shop" {
			t.Errorf("%s = %+v, want deployment %d of v1 of shop", typ, ev, d.ID)
		}
	}
	// The receiver has both; bascule records a delivery once the 200
	// reaches it, a moment after the receiver saw the event.
	var n client.Notifications
	waitFor(t, 20*time.Second, "both deliveries recorded as delivered", func() bool {
		var err error
		n, err = in.cl.Notifications(ctx, "")
		if err != nil {
			return false
		}
		for _, d := range n.Deliveries {
			if d.State != store.DeliveryDelivered {
				return false
			}
		}
		return len(n.Deliveries) == 2
	})
	for _, d := range n.Deliveries {
		if d.Attempts < 2 {
			t.Errorf("delivery %d after the restart = %s after %d attempts, want delivered after at least 2", d.ID, d.State, d.Attempts)
		}
	}
	out, code := runCLI(t, in, "notifications", "--state", "delivered")
	if code != 0 || !strings.Contains(out, "webhook http://"+hookAddr+"/…  json, signed, events: deployment") ||
		!strings.Contains(out, "deployment.ready") || strings.Count(out, " delivered ") != 2 {
		t.Errorf("bascule notifications = %d:\n%s", code, out)
	}
}
