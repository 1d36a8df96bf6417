package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/notify"
	"github.com/bascule/bascule/internal/store"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestSignedDelivery: a deployment's event reaches the receiver signed as
// documented, and the receiver's check accepts it only with the secret,
// over the very bytes sent, and fresh.
func TestSignedDelivery(t *testing.T) {
	rcv := newReceiver(t, nil)
	st := openStore(t)
	start(t, st, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.srv.URL + "/hook", Secret: secret}}})
	d := deploy(t, st, "v2", "alice", "new checkout")
	waitFor(t, 5*time.Second, "the delivery", func() bool { return len(rcv.requests()) == 1 })
	got := rcv.requests()[0]

	var ev notify.Event
	if err := json.Unmarshal(got.body, &ev); err != nil {
		t.Fatalf("body %s: %v", got.body, err)
	}
	want := notify.Event{Kind: "deployment", Type: "deployment.started", App: "shop", Actor: "alice", Version: "v2",
		Deployment: d.ID, Color: "green", Text: "deployment #1 of v2 to green started by alice: new checkout", Detail: "new checkout"}
	if diff := cmp.Diff(want, ev, cmpopts.IgnoreFields(notify.Event{}, "ID", "At")); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if ev.ID == 0 || !ev.At.Equal(t0) {
		t.Errorf("event id %d at %v, want an id and the deployment's time %v", ev.ID, ev.At, t0)
	}
	h := got.header
	if h.Get("Content-Type") != "application/json" || h.Get(notify.HeaderEvent) != "deployment.started" || h.Get(notify.HeaderDelivery) == "" {
		t.Errorf("headers = %v", h)
	}
	ts, sig := h.Get(notify.HeaderTimestamp), h.Get(notify.HeaderSignature)
	// The scheme, computed here by hand as a receiver in another language would.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(got.body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); sig != want {
		t.Errorf("X-Bascule-Signature = %q, want %q", sig, want)
	}
	if err := notify.Verify([]byte(secret), ts, sig, got.body, time.Now()); err != nil {
		t.Errorf("Verify(the delivery) = %v", err)
	}
	for name, err := range map[string]error{
		"wrong secret":  notify.Verify([]byte("another-secret-0123456789"), ts, sig, got.body, time.Now()),
		"changed body":  notify.Verify([]byte(secret), ts, sig, append([]byte(" "), got.body...), time.Now()),
		"replayed late": notify.Verify([]byte(secret), ts, sig, got.body, time.Now().Add(6*time.Minute)),
		"no prefix":     notify.Verify([]byte(secret), ts, strings.TrimPrefix(sig, "sha256="), got.body, time.Now()),
	} {
		if !errors.Is(err, notify.ErrBadSignature) {
			t.Errorf("Verify(%s) = %v, want ErrBadSignature", name, err)
		}
	}
}

// TestUnsignedWithoutSecret: a webhook without a secret gets no signature
// headers rather than a signature with an empty key.
func TestUnsignedWithoutSecret(t *testing.T) {
	rcv := newReceiver(t, nil)
	st := openStore(t)
	start(t, st, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.srv.URL}}})
	deploy(t, st, "v1", "alice", "")
	waitFor(t, 5*time.Second, "the delivery", func() bool { return len(rcv.requests()) == 1 })
	if h := rcv.requests()[0].header; h.Get(notify.HeaderSignature) != "" || h.Get(notify.HeaderTimestamp) != "" {
		t.Errorf("unsigned webhook got signature headers: %v", h)
	}
}

// TestRetriesWithBackoff: a receiver answering 500 twice gets the delivery
// a third time, each wait longer than the one before, and the delivery
// ends delivered with its attempts counted.
func TestRetriesWithBackoff(t *testing.T) {
	rcv := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	st := openStore(t)
	const minBackoff = 100 * time.Millisecond
	n, _ := start(t, st, notify.Options{MinBackoff: minBackoff, Endpoints: []notify.Endpoint{{URL: rcv.srv.URL, Secret: secret}}})
	deploy(t, st, "v1", "alice", "")
	waitFor(t, 10*time.Second, "three attempts", func() bool { return len(rcv.requests()) == 3 })
	reqs := rcv.requests()
	first, second := reqs[1].at.Sub(reqs[0].at), reqs[2].at.Sub(reqs[1].at)
	// After failed attempt k the wait is between half and all of
	// minBackoff·2^(k-1).
	if first < minBackoff/2 || second < minBackoff {
		t.Errorf("waits between attempts = %s, %s; want at least %s, then %s", first, second, minBackoff/2, minBackoff)
	}
	for i, r := range reqs {
		if r.header.Get(notify.HeaderDelivery) != reqs[0].header.Get(notify.HeaderDelivery) {
			t.Errorf("attempt %d has delivery id %q, want the first's %q", i+1, r.header.Get(notify.HeaderDelivery), reqs[0].header.Get(notify.HeaderDelivery))
		}
		if err := notify.Verify([]byte(secret), r.header.Get(notify.HeaderTimestamp), r.header.Get(notify.HeaderSignature), r.body, time.Now()); err != nil {
			t.Errorf("attempt %d: Verify = %v; each retry must be signed", i+1, err)
		}
	}
	var got store.Delivery
	waitFor(t, 5*time.Second, "the delivery recorded delivered", func() bool {
		list, err := n.Deliveries(context.Background(), "", 10)
		if err == nil && len(list) == 1 {
			got = list[0]
		}
		return got.State == store.DeliveryDelivered
	})
	if got.Attempts != 3 || got.LastStatus != 200 || got.LastError != "" || got.DoneAt == nil || got.NextAt != nil {
		t.Errorf("delivered = %+v, want 3 attempts, status 200, no error, done", got)
	}
}

// TestFailingDeliveryListed: while a receiver fails, the delivery is
// listed pending with its attempts, the receiver's answer and the next try.
func TestFailingDeliveryListed(t *testing.T) {
	rcv := newReceiver(t, func(int) int { return http.StatusBadGateway })
	st := openStore(t)
	n, _ := start(t, st, notify.Options{MinBackoff: 30 * time.Millisecond, Endpoints: []notify.Endpoint{{URL: rcv.srv.URL}}})
	deploy(t, st, "v1", "alice", "")
	var d store.Delivery
	waitFor(t, 10*time.Second, "two failed attempts", func() bool {
		list, _ := n.Deliveries(context.Background(), store.DeliveryPending, 10)
		if len(list) == 1 {
			d = list[0]
		}
		return d.Attempts >= 2 && d.LastStatus == http.StatusBadGateway
	})
	if d.LastError != "HTTP 502: boom" || d.NextAt == nil || d.LastAt == nil || d.NextAt.Before(*d.LastAt) {
		t.Errorf("pending delivery = %+v, want last error \"HTTP 502: boom\" and a next try after the last", d)
	}
	if d.EventType != "deployment.started" || !strings.Contains(d.Summary, "v1") || d.Target != rcv.srv.URL {
		t.Errorf("delivery = %+v, want it to say which event went where", d)
	}
}

// TestGiveUp: a delivery that keeps failing past GiveUpAfter is marked
// failed and no longer tried.
func TestGiveUp(t *testing.T) {
	rcv := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	st := openStore(t)
	n, _ := start(t, st, notify.Options{MinBackoff: 20 * time.Millisecond, GiveUpAfter: 200 * time.Millisecond,
		Endpoints: []notify.Endpoint{{URL: rcv.srv.URL}}})
	deploy(t, st, "v1", "alice", "")
	waitFor(t, 10*time.Second, "the delivery given up", func() bool {
		list, _ := n.Deliveries(context.Background(), store.DeliveryFailed, 10)
		return len(list) == 1 && list[0].DoneAt != nil && list[0].LastError != ""
	})
	tries := len(rcv.requests())
	time.Sleep(200 * time.Millisecond) // several backoffs: nothing more may come
	if got := len(rcv.requests()); got != tries {
		t.Errorf("%d more attempts after giving up", got-tries)
	}
}

// TestSlackFormat: format slack sends only {"text": …}, with the app, the
// event, and Slack's markup characters escaped.
func TestSlackFormat(t *testing.T) {
	rcv := newReceiver(t, nil)
	st := openStore(t)
	start(t, st, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.srv.URL, Format: notify.FormatSlack}}})
	d := deploy(t, st, "v2", "alice", "fix <script> & more")
	d.State, d.Error, d.UpdatedAt = store.StateFailed, "health check of green: connection refused\nlog line", t0.Add(time.Second)
	if err := st.UpdateDeployment(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "two deliveries", func() bool { return len(rcv.requests()) == 2 })
	texts := map[string]string{}
	for _, r := range rcv.requests() {
		var m map[string]any
		if err := json.Unmarshal(r.body, &m); err != nil || len(m) != 1 {
			t.Fatalf("slack body %s: want exactly {\"text\": …} (%v)", r.body, err)
		}
		texts[r.header.Get(notify.HeaderEvent)], _ = m["text"].(string)
	}
	if want := "*shop* · deployment #1 of v2 to green started by alice: fix &lt;script&gt; &amp; more"; texts["deployment.started"] != want {
		t.Errorf("started text = %q, want %q", texts["deployment.started"], want)
	}
	failed := texts["deployment.failed"]
	if !strings.HasPrefix(failed, ":warning: *shop* · deployment #1 of v2 failed: health check of green: connection refused …") ||
		!strings.Contains(failed, "```health check of green: connection refused\nlog line```") {
		t.Errorf("failed text = %q, want a warning, the first line and the whole error", failed)
	}
}

// TestEventsFilter: each webhook gets the kinds it asked for, and only
// those.
func TestEventsFilter(t *testing.T) {
	flags, deploys, guards := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	st := openStore(t)
	n, _ := start(t, st, notify.Options{Endpoints: []notify.Endpoint{
		{URL: flags.srv.URL, Events: []string{notify.KindFlag}},
		{URL: deploys.srv.URL, Events: []string{notify.KindDeployment}},
		{URL: guards.srv.URL, Events: []string{notify.KindGuard, notify.KindFlag}},
	}})
	ctx := context.Background()
	deploy(t, st, "v1", "alice", "")
	if err := st.PutFlags(ctx, 0, store.FlagVersion{Version: 1, Doc: []byte(`{}`), Actor: "bob",
		Summary: "+ flag \"checkout\"\n~ flag \"dark\": enabled: false → true", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	err := n.Publish(ctx, notify.Event{Kind: notify.KindGuard, Type: notify.GuardBreach, Actor: "guard", Version: "v1",
		Text: "guard: 31% of 412 requests failed (5xx), limit 2%, baseline 0.1%", Data: map[string]any{"requests": 412}})
	if err != nil {
		t.Fatalf("Publish = %v", err)
	}
	types := func(r *receiver) []string {
		out := []string{}
		for _, q := range r.requests() {
			out = append(out, q.header.Get(notify.HeaderEvent))
		}
		return out
	}
	waitFor(t, 5*time.Second, "every delivery", func() bool {
		return len(flags.requests()) == 1 && len(deploys.requests()) == 1 && len(guards.requests()) == 2
	})
	time.Sleep(100 * time.Millisecond) // a few polls: nothing else may come
	if diff := cmp.Diff([]string{"flag.changed"}, types(flags)); diff != "" {
		t.Errorf("flag webhook (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"deployment.started"}, types(deploys)); diff != "" {
		t.Errorf("deployment webhook (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"flag.changed", "guard.breach"}, types(guards), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("guard and flag webhook (-want +got):\n%s", diff)
	}
	var flag notify.Event
	json.Unmarshal(flags.requests()[0].body, &flag)
	if flag.Actor != "bob" || flag.Text != `flags changed by bob (version 1): + flag "checkout" and 1 more` || !strings.Contains(flag.Detail, `~ flag "dark"`) {
		t.Errorf("flag event = %+v", flag)
	}
}

// TestSwitchEvents: going live and rolling back are told with who did it,
// from the audit entries the deploy service writes.
func TestSwitchEvents(t *testing.T) {
	rcv := newReceiver(t, nil)
	st := openStore(t)
	start(t, st, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.srv.URL}}})
	ctx := context.Background()
	for _, e := range []store.AuditEntry{
		{At: t0, Actor: "alice", Action: "go-live", Target: "v2", Outcome: "ok", Detail: "blue → green (v1): new checkout"},
		{At: t0, Actor: "carol", Action: "go-live", Outcome: "refused", Detail: "nothing is ready"},
		{At: t0, Actor: "guard", Action: "rollback", Target: "v1", Outcome: "ok", Detail: "green → blue (v2): guard: 31% of 412 requests failed"},
		{At: t0, Actor: "bob", Action: "rollback", Target: "v1", Outcome: "failed", Detail: "the blue color runs no release"},
	} {
		if err := st.AppendAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "three deliveries", func() bool { return len(rcv.requests()) == 3 })
	var got []string
	for _, r := range rcv.requests() {
		var ev notify.Event
		json.Unmarshal(r.body, &ev)
		got = append(got, ev.Type+" "+ev.Actor+": "+ev.Text)
	}
	want := []string{
		"deployment.live alice: v2 is live (go-live by alice): blue → green (v1): new checkout",
		"deployment.rolled_back guard: rolled back to v1 by guard: green → blue (v2): guard: 31% of 412 requests failed",
		"deployment.switch_failed bob: rollback to v1 by bob failed: the blue color runs no release",
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("switch events (-want +got):\n%s", diff)
	}
}

// TestURLAndSecretNeverShown: the path of a webhook URL (Slack's secret)
// and the signing secret appear in no error, listing or log line.
func TestURLAndSecretNeverShown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL + "/services/T0/B0/TOKEN-IN-PATH"
	dead.Close() // connection refused from now on
	st := openStore(t)
	n, logs := start(t, st, notify.Options{Endpoints: []notify.Endpoint{{URL: url, Secret: secret}}})
	deploy(t, st, "v1", "alice", "")
	var d store.Delivery
	waitFor(t, 5*time.Second, "two failed attempts", func() bool {
		list, _ := n.Deliveries(context.Background(), "", 10)
		if len(list) == 1 {
			d = list[0]
		}
		return d.Attempts >= 2 && d.LastError != ""
	})
	shown := d.Target + " " + d.LastError + " " + logs.String()
	for _, info := range n.Endpoints() {
		shown += info.Target + " " + info.Key
	}
	if strings.Contains(shown, "TOKEN-IN-PATH") || strings.Contains(shown, secret) {
		t.Errorf("a secret is shown:\n%s", shown)
	}
	if !strings.Contains(d.LastError, "connection refused") || !strings.HasSuffix(d.Target, "/…") {
		t.Errorf("delivery = target %q, error %q; want the host only and why it failed", d.Target, d.LastError)
	}
}

// TestRemovedWebhookGivenUp: a delivery to a webhook no longer configured
// (its URL changed) fails at once with the reason, instead of being
// retried for days.
func TestRemovedWebhookGivenUp(t *testing.T) {
	rcv := newReceiver(t, nil)
	st := openStore(t)
	ctx := context.Background()
	ev := &store.Event{At: t0, Source: store.EventPublished, Payload: []byte(`{"kind":"guard","type":"guard.passed","text":"ok"}`)}
	if err := st.RecordEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	old := store.Delivery{EventID: ev.ID, Endpoint: "0123456789abcdef", Target: "https://old.example", EventType: "guard.passed",
		Body: []byte(`{}`), State: store.DeliveryPending, CreatedAt: t0}
	if err := st.DispatchEvents(ctx, []int64{ev.ID}, []store.Delivery{old}); err != nil {
		t.Fatal(err)
	}
	n, _ := start(t, st, notify.Options{Endpoints: []notify.Endpoint{{URL: rcv.srv.URL}}})
	waitFor(t, 5*time.Second, "the orphan failed", func() bool {
		list, _ := n.Deliveries(ctx, store.DeliveryFailed, 10)
		return len(list) == 1 && strings.Contains(list[0].LastError, "no longer in the configuration")
	})
}

// TestStopDuringDelivery: cancelling Run stops a delivery to a hung
// receiver at once and leaves it pending, due at the next start.
func TestStopDuringDelivery(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hung.Close() })
	st := openStore(t)
	n := notify.New(notify.Options{Store: st, Poll: 20 * time.Millisecond, Endpoints: []notify.Endpoint{{URL: hung.URL}}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	deploy(t, st, "v1", "alice", "")
	waitFor(t, 5*time.Second, "the attempt to start", func() bool {
		list, _ := st.ListDeliveries(context.Background(), "", 1)
		return len(list) == 1 && list[0].Attempts == 1
	})
	stopped := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of its context ending")
	}
	if took := time.Since(stopped); took > 2*time.Second {
		t.Errorf("Run took %s to stop", took)
	}
	list, _ := st.ListDeliveries(context.Background(), "", 1)
	if d := list[0]; d.State != store.DeliveryPending || !strings.Contains(d.LastError, "interrupted") || d.NextAt == nil || d.NextAt.After(time.Now()) {
		t.Errorf("delivery after the stop = %+v, want pending, interrupted, due now", d)
	}
}

// TestPublishChecksEvents: an event the guard gets wrong is refused, not
// sent half-formed.
func TestPublishChecksEvents(t *testing.T) {
	n := notify.New(notify.Options{Store: openStore(t)})
	for _, e := range []notify.Event{
		{Kind: "deploy", Type: "deploy.x", Text: "x"},
		{Kind: notify.KindGuard, Type: "breach", Text: "x"},
		{Kind: notify.KindGuard, Type: notify.GuardBreach},
	} {
		if err := n.Publish(context.Background(), e); err == nil {
			t.Errorf("Publish(%+v) = nil, want an error", e)
		}
	}
}

// TestSlowReceiverTimesOut: an attempt that gets no answer in time fails
// with that reason and is retried, instead of holding its slot forever.
func TestSlowReceiverTimesOut(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	st := openStore(t)
	n, _ := start(t, st, notify.Options{Client: &http.Client{Timeout: 100 * time.Millisecond}, Endpoints: []notify.Endpoint{{URL: slow.URL}}})
	deploy(t, st, "v1", "alice", "")
	waitFor(t, 10*time.Second, "two timed-out attempts", func() bool {
		list, _ := n.Deliveries(context.Background(), store.DeliveryPending, 1)
		return len(list) == 1 && list[0].Attempts >= 2 && list[0].LastError == "no answer within 100ms"
	})
}
