package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// webhookURL is the stack's one webhook; its path stands for the secret
// part of a Slack webhook URL.
const webhookURL = "https://hooks.example.com/services/T0/SECRET-PATH"

// TestNotificationsPage: a viewer sees the webhooks, without the secret
// part of their URL, and each delivery with where it stands; the filter
// keeps one state.
func TestNotificationsPage(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	var ids []int64
	for range 3 {
		e := &store.Event{At: time.Now(), Source: store.EventPublished, Payload: []byte(`{}`)}
		if err := s.store.RecordEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	now := time.Now().UTC()
	next := now.Add(time.Hour)
	mk := func(id int64, typ, summary string) store.Delivery {
		return store.Delivery{EventID: id, Endpoint: "e1", Target: "https://hooks.example.com/…", EventType: typ, Summary: summary,
			Body: []byte(`{}`), State: store.DeliveryPending, CreatedAt: now, NextAt: &now}
	}
	ds := []store.Delivery{mk(ids[0], "deployment.live", "v2 is live (go-live by dana)"),
		mk(ids[1], "deployment.failed", "deployment #3 of v3 failed: "+evil), mk(ids[2], "flag.changed", "flags changed by ada")}
	if err := s.store.DispatchEvents(ctx, ids, ds); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.store.ClaimDeliveries(ctx, now, time.Minute, 3)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("ClaimDeliveries = %d, %v", len(claimed), err)
	}
	claimed[0].State, claimed[0].DoneAt, claimed[0].NextAt, claimed[0].LastStatus = store.DeliveryDelivered, &now, nil, 200
	claimed[1].LastStatus, claimed[1].LastError, claimed[1].NextAt = 503, "HTTP 503: receiver down for maintenance", &next
	claimed[2].State, claimed[2].DoneAt, claimed[2].NextAt, claimed[2].LastError = store.DeliveryFailed, &now, nil, "no answer within 10s"
	for _, c := range claimed {
		if err := s.store.FinishDelivery(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	vera := s.login("vera")
	r := vera.get("/notifications")
	if r.status != 200 {
		t.Fatalf("GET /notifications as a viewer = %d", r.status)
	}
	for _, want := range []string{"https://hooks.example.com/…", "slack", "deployment.live", "v2 is live (go-live by dana)",
		"HTTP 503: receiver down for maintenance", "no answer within 10s", ">delivered<", ">pending<", ">failed<", "&lt;script&gt;"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if strings.Contains(r.body, "SECRET-PATH") || strings.Contains(r.body, "<script>alert") {
		t.Errorf("the page shows the webhook's path or unescaped text")
	}
	pending := vera.get("/notifications?state=pending").body
	if !strings.Contains(pending, "HTTP 503") || strings.Contains(pending, "deployment.live") || strings.Contains(pending, "no answer within") {
		t.Errorf("?state=pending shows other states, or not the pending delivery")
	}
}
