package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/notify"
	"github.com/bascule/bascule/internal/store"
)

const hookSecret = "webhook-secret-0123456789"

// hookReceiver records the events it receives, checking each signature.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []notify.Event
	bad    []string // why a request was refused
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := notify.Verify([]byte(hookSecret), req.Header.Get(notify.HeaderTimestamp), req.Header.Get(notify.HeaderSignature), body, time.Now()); err != nil {
			r.bad = append(r.bad, err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev notify.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			r.bad = append(r.bad, err.Error())
		}
		r.events = append(r.events, ev)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) received() ([]notify.Event, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Event(nil), r.events...), append([]string(nil), r.bad...)
}

// byType waits until the receiver got n events, and indexes them by type.
func (r *hookReceiver) byType(t *testing.T, n int) map[string][]notify.Event {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		evs, bad := r.received()
		if len(bad) > 0 {
			t.Fatalf("the receiver refused requests: %v", bad)
		}
		if len(evs) >= n {
			out := map[string][]notify.Event{}
			for _, e := range evs {
				out[e.Type] = append(out[e.Type], e)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d events, want %d: %+v", len(evs), n, evs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func withWebhook(url string) func(*config.Config) {
	return func(c *config.Config) {
		c.Notify = []config.Webhook{{URL: url, Secret: hookSecret, Events: config.NotifyKinds, Format: config.FormatJSON}}
	}
}

func deployReady(t *testing.T, cl *client.Client, version string) store.Deployment {
	t.Helper()
	ctx := context.Background()
	if _, _, err := cl.AddRelease(ctx, version, "app", "", strings.NewReader("binary "+version)); err != nil {
		t.Fatal(err)
	}
	d, err := cl.Deploy(ctx, version, "ship "+version)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Follow(ctx, d.ID, func(u store.Deployment) { d = u }); err != nil || d.State != store.StateReady {
		t.Fatalf("deploy %s = %s %s, %v", version, d.State, d.Error, err)
	}
	return d
}

// TestWebhooksTellEverything: through a real bascule, every deployment
// event, the switches with who made them, and a flag change reach a
// webhook, signed; the API lists the deliveries to a viewer.
func TestWebhooksTellEverything(t *testing.T) {
	rcv := newHookReceiver(t)
	s := startServerWith(t, withWebhook(rcv.srv.URL+"/hook"))
	ctx := context.Background()
	deployReady(t, s.admin, "v1")
	if _, err := s.admin.GoLive(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	d2 := deployReady(t, s.admin, "v2") // finalizes v1
	if _, err := s.admin.GoLive(ctx, "new checkout"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.admin.Rollback(ctx, "checkout broken", false); err != nil {
		t.Fatal(err)
	}
	s.apply(t, "flags:\n  - key: checkout\n    enabled: true\n    default_variant: \"on\"\n")

	// started ×2, ready ×2, live ×2, finalized, rolled back, flag changed
	got := rcv.byType(t, 9)
	for typ, n := range map[string]int{"deployment.started": 2, "deployment.ready": 2, "deployment.live": 2,
		"deployment.finalized": 1, "deployment.rolled_back": 1, "flag.changed": 1} {
		if len(got[typ]) != n {
			t.Errorf("%d %s events, want %d", len(got[typ]), typ, n)
		}
	}
	if rb := got["deployment.rolled_back"]; len(rb) == 1 {
		if rb[0].Actor == "" || rb[0].Version != "v1" || !strings.Contains(rb[0].Text, "by "+rb[0].Actor) || !strings.Contains(rb[0].Detail, "checkout broken") {
			t.Errorf("rolled back event = %+v, want who rolled back to v1 and why", rb[0])
		}
	}
	for _, live := range got["deployment.live"] {
		if live.Actor == "" || live.App != "shop" {
			t.Errorf("live event = %+v, want the app and who went live", live)
		}
	}
	// Deliveries are not ordered: find the second deployment's event.
	if st := got["deployment.started"]; len(st) == 2 {
		i := slices.IndexFunc(st, func(e notify.Event) bool { return e.Deployment == d2.ID })
		if i < 0 || st[i].Detail != "ship v2" {
			t.Errorf("started events = %+v, want one of deployment %d with its reason", st, d2.ID)
		}
	}

	viewer := s.token(t, store.RoleViewer)
	r := s.call(t, http.MethodGet, "/api/v1/notifications", viewer, "")
	var list client.Notifications
	if err := json.Unmarshal(r.body, &list); r.status != 200 || err != nil {
		t.Fatalf("GET /api/v1/notifications as a viewer = %d %s", r.status, r.body)
	}
	if len(list.Webhooks) != 1 || list.Webhooks[0].Target != rcv.srv.URL+"/…" || !list.Webhooks[0].Signed {
		t.Errorf("webhooks = %+v, want the one, signed, without its path", list.Webhooks)
	}
	if len(list.Deliveries) != 9 || list.Deliveries[0].State != store.DeliveryDelivered || list.Deliveries[0].Attempts != 1 {
		t.Errorf("deliveries = %+v, want 9 delivered at the first attempt", list.Deliveries)
	}
	if strings.Contains(string(r.body), hookSecret) || strings.Contains(string(r.body), "/hook") {
		t.Errorf("the API shows the webhook's secret or path: %s", r.body)
	}
	if r := s.call(t, http.MethodGet, "/api/v1/notifications?state=lost", viewer, ""); r.status != 400 || r.errorCode() != "bad_request" {
		t.Errorf("?state=lost = %d %s, want 400 bad_request", r.status, r.body)
	}
	if r := s.call(t, http.MethodGet, "/api/v1/notifications", "", ""); r.status != 401 {
		t.Errorf("without a token = %d, want 401", r.status)
	}
}

// TestWebhooksOncePerEventWithTwoInstances: two bascule instances sharing
// a PostgreSQL store both run the notifier; each event still reaches the
// webhook once.
func TestWebhooksOncePerEventWithTwoInstances(t *testing.T) {
	rcv := newHookReceiver(t)
	url := pg.NewDatabase(t)
	both := func(c *config.Config) {
		c.Store = config.Store{Driver: config.DriverPostgres, URL: url}
		withWebhook(rcv.srv.URL)(c)
	}
	s := startServerWith(t, both)
	startServerWith(t, both)
	deployReady(t, s.admin, "v1")
	for i := range 10 {
		s.apply(t, "flags:\n  - key: f"+string(rune('a'+i))+"\n    enabled: true\n    default_variant: \"on\"\n")
	}
	got := rcv.byType(t, 12)           // started, ready, 10 flag changes
	time.Sleep(500 * time.Millisecond) // a poll of each instance: a duplicate would have come
	evs, _ := rcv.received()
	seen := map[int64]int{}
	for _, e := range evs {
		seen[e.ID]++
	}
	if len(evs) != 12 || len(seen) != 12 || len(got["flag.changed"]) != 10 {
		t.Errorf("received %d events with %d distinct ids, want 12 once each: %v", len(evs), len(seen), seen)
	}
}
