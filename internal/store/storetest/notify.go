package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/google/go-cmp/cmp"
)

// runNotifications is the part of the suite about the notification outbox.
func runNotifications(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("EventsRecordedWithChanges", func(t *testing.T) { testEventsRecorded(t, open(t)) })
	t.Run("DispatchOnce", func(t *testing.T) { testDispatchOnce(t, open(t)) })
	t.Run("ClaimAndFinish", func(t *testing.T) { testClaimAndFinish(t, open(t)) })
	t.Run("ConcurrentClaims", func(t *testing.T) { testConcurrentClaims(t, open(t)) })
	t.Run("ListAndPrune", func(t *testing.T) { testListAndPrune(t, open(t)) })
}

// pending returns the undispatched events, failing the test on error.
func pending(t *testing.T, s store.Store) []store.Event {
	t.Helper()
	evs, err := s.PendingEvents(context.Background(), 0)
	if err != nil {
		t.Fatalf("PendingEvents = %v", err)
	}
	return evs
}

func decode[T any](t *testing.T, e store.Event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(e.Payload, &v); err != nil {
		t.Fatalf("event %d (%s) payload %s: %v", e.ID, e.Source, e.Payload, err)
	}
	return v
}

// testEventsRecorded: every change worth telling writes its event with
// it, and nothing else does.
func testEventsRecorded(t *testing.T, s store.Store) {
	ctx := context.Background()
	addRelease(t, s, "v1", t0)
	d := newDeployment("v1")
	d.Reason = "new checkout"
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Steps = []store.Step{{Name: "fetch", State: store.StepRunning, StartedAt: t0}}
	if err := s.UpdateDeployment(ctx, d); err != nil { // steps change, state does not
		t.Fatal(err)
	}
	d.State, d.UpdatedAt = store.StateReady, t0.Add(time.Second)
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.AuditEntry{
		{At: t0, Actor: "alice", Action: "login", Outcome: "ok"},
		{At: t0, Actor: "bob", Action: "go-live", Outcome: "refused", Detail: "nothing is ready"},
		{At: t0.Add(2 * time.Second), Actor: "alice", Action: "go-live", Target: "v1", Outcome: "ok", Detail: "blue → green (v0): ship it"},
	} {
		if err := s.AppendAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutFlags(ctx, 0, flagVersion(1, `+ flag "checkout-v2"`)); err != nil {
		t.Fatal(err)
	}
	pub := &store.Event{At: t0.Add(time.Hour), Source: store.EventPublished, Payload: []byte(`{"kind":"guard"}`)}
	if err := s.RecordEvent(ctx, pub); err != nil || pub.ID == 0 {
		t.Fatalf("RecordEvent = %v, ID %d", err, pub.ID)
	}

	evs := pending(t, s)
	var sources []string
	for _, e := range evs {
		sources = append(sources, e.Source)
	}
	want := []string{store.EventDeployment, store.EventDeployment, store.EventAudit, store.EventFlags, store.EventPublished}
	if diff := cmp.Diff(want, sources); diff != "" {
		t.Fatalf("pending event sources (-want +got):\n%s", diff)
	}
	created := decode[store.DeploymentEvent](t, evs[0])
	wantCreated := store.DeploymentEvent{ID: d.ID, App: "shop", Version: "v1", Color: "green", From: "", To: store.StateQueued,
		Reason: "new checkout", RequestedBy: "alice"}
	if diff := cmp.Diff(wantCreated, created); diff != "" {
		t.Errorf("deployment created event (-want +got):\n%s", diff)
	}
	if ready := decode[store.DeploymentEvent](t, evs[1]); ready.From != store.StateQueued || ready.To != store.StateReady {
		t.Errorf("state change event = %+v, want queued → ready", ready)
	}
	if !evs[1].At.Equal(t0.Add(time.Second)) {
		t.Errorf("state change event at %v, want the deployment's update time %v", evs[1].At, t0.Add(time.Second))
	}
	sw := decode[store.AuditEvent](t, evs[2])
	if sw.Actor != "alice" || sw.Action != "go-live" || sw.Target != "v1" || sw.Outcome != "ok" || sw.Detail != "blue → green (v0): ship it" || sw.ID == 0 {
		t.Errorf("switch event = %+v, want alice's go-live of v1", sw)
	}
	if fl := decode[store.FlagEvent](t, evs[3]); fl != (store.FlagEvent{Version: 1, Actor: "alice", Summary: `+ flag "checkout-v2"`}) {
		t.Errorf("flag event = %+v", fl)
	}
	if string(evs[4].Payload) != `{"kind":"guard"}` || evs[4].ID != pub.ID || !evs[4].At.Equal(pub.At) {
		t.Errorf("published event = %+v, want it as recorded", evs[4])
	}
}

func delivery(eventID int64, endpoint string, at time.Time) store.Delivery {
	return store.Delivery{EventID: eventID, Endpoint: endpoint, Target: "https://hooks.example.com/…",
		EventType: "deployment.ready", Summary: "v1 is ready", Body: []byte(`{"type":"deployment.ready"}`),
		State: store.DeliveryPending, CreatedAt: at, NextAt: &at}
}

func publish(t *testing.T, s store.Store, n int) []int64 {
	t.Helper()
	var ids []int64
	for range n {
		e := &store.Event{At: t0, Source: store.EventPublished, Payload: []byte(`{}`)}
		if err := s.RecordEvent(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	return ids
}

// testDispatchOnce: an event becomes deliveries once; a second dispatch
// of it (another instance) writes nothing.
func testDispatchOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	ids := publish(t, s, 2)
	ds := []store.Delivery{delivery(ids[0], "a", t0), delivery(ids[0], "b", t0), delivery(ids[1], "a", t0)}
	if err := s.DispatchEvents(ctx, ids, ds); err != nil {
		t.Fatalf("DispatchEvents = %v", err)
	}
	if ds[0].ID == 0 || ds[2].ID == 0 {
		t.Errorf("DispatchEvents did not set the deliveries' IDs: %+v", ds)
	}
	if evs := pending(t, s); len(evs) != 0 {
		t.Errorf("PendingEvents after dispatch = %d events, want none", len(evs))
	}
	late := publish(t, s, 1)
	again := []store.Delivery{delivery(ids[1], "c", t0), delivery(late[0], "a", t0)}
	if err := s.DispatchEvents(ctx, append([]int64{ids[1]}, late...), again); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("DispatchEvents of a dispatched event = %v, want ErrConflict", err)
	}
	list, err := s.ListDeliveries(ctx, "", 0)
	if err != nil || len(list) != 3 {
		t.Errorf("ListDeliveries after a refused dispatch = %d, %v; want the first 3 only", len(list), err)
	}
	if evs := pending(t, s); len(evs) != 1 || evs[0].ID != late[0] {
		t.Errorf("PendingEvents after a refused dispatch = %+v, want event %d still pending", evs, late[0])
	}
}

// testClaimAndFinish walks one delivery through a failed attempt, a lost
// lease and a success.
func testClaimAndFinish(t *testing.T, s store.Store) {
	ctx := context.Background()
	ids := publish(t, s, 2)
	later := t0.Add(time.Minute)
	ds := []store.Delivery{delivery(ids[0], "a", t0), delivery(ids[1], "a", t0)}
	ds[1].NextAt = &later
	if err := s.DispatchEvents(ctx, ids, ds); err != nil {
		t.Fatal(err)
	}
	if next, err := s.NextDeliveryAt(ctx); err != nil || !next.Equal(t0) {
		t.Errorf("NextDeliveryAt = %v, %v; want %v", next, err, t0)
	}
	lease := 30 * time.Second
	got, err := s.ClaimDeliveries(ctx, t0, lease, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("ClaimDeliveries(t0) = %d, %v; want the one due", len(got), err)
	}
	c := got[0]
	if c.ID != ds[0].ID || c.Attempts != 1 || c.LastAt == nil || !c.LastAt.Equal(t0) || string(c.Body) != `{"type":"deployment.ready"}` {
		t.Errorf("claimed = %+v, want delivery %d at attempt 1, last attempt at t0, with its body", c, ds[0].ID)
	}
	if again, _ := s.ClaimDeliveries(ctx, t0.Add(time.Second), lease, 10); len(again) != 0 {
		t.Errorf("a second claim within the lease returned %d deliveries, want none", len(again))
	}
	// The attempt fails; the next is due in 2s.
	retry := t0.Add(2 * time.Second)
	c.LastStatus, c.LastError, c.NextAt = 500, "HTTP 500: boom", &retry
	if err := s.FinishDelivery(ctx, c); err != nil {
		t.Fatalf("FinishDelivery(failed attempt) = %v", err)
	}
	// Attempt 2 is claimed and its lease runs out (the claimer died):
	// attempt 3 takes over, and attempt 2's late result is refused.
	second, _ := s.ClaimDeliveries(ctx, retry, lease, 10)
	third, _ := s.ClaimDeliveries(ctx, retry.Add(lease), lease, 10)
	if len(second) != 1 || len(third) != 1 || third[0].Attempts != 3 {
		t.Fatalf("claims after the lease = %+v then %+v, want attempts 2 then 3", second, third)
	}
	done := retry.Add(lease + time.Second)
	second[0].State, second[0].DoneAt, second[0].NextAt = store.DeliveryDelivered, &done, nil
	if err := s.FinishDelivery(ctx, second[0]); !errors.Is(err, store.ErrConflict) {
		t.Errorf("FinishDelivery of an attempt whose lease ran out = %v, want ErrConflict", err)
	}
	third[0].State, third[0].DoneAt, third[0].NextAt, third[0].LastStatus, third[0].LastError = store.DeliveryDelivered, &done, nil, 204, ""
	if err := s.FinishDelivery(ctx, third[0]); err != nil {
		t.Fatalf("FinishDelivery(delivered) = %v", err)
	}
	list, err := s.ListDeliveries(ctx, store.DeliveryDelivered, 0)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListDeliveries(delivered) = %d, %v", len(list), err)
	}
	want := ds[0]
	want.Body = nil
	want.State, want.Attempts, want.LastStatus, want.LastError = store.DeliveryDelivered, 3, 204, ""
	lastAt := retry.Add(lease)
	want.LastAt, want.NextAt, want.DoneAt = &lastAt, nil, &done
	got0 := list[0]
	got0.Body = nil
	if diff := cmp.Diff(want, got0); diff != "" {
		t.Errorf("delivered delivery (-want +got):\n%s", diff)
	}
	if next, err := s.NextDeliveryAt(ctx); err != nil || !next.Equal(later) {
		t.Errorf("NextDeliveryAt = %v, %v; want the other delivery's %v", next, err, later)
	}
	if again, _ := s.ClaimDeliveries(ctx, done.Add(time.Hour), lease, 10); len(again) != 1 || again[0].ID != ds[1].ID {
		t.Errorf("claim after delivery = %+v, want only the other delivery", again)
	}
}

// testConcurrentClaims: workers claiming at the same moment (two bascule
// instances on PostgreSQL) never get the same delivery.
func testConcurrentClaims(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 40
	ids := publish(t, s, n)
	var ds []store.Delivery
	for _, id := range ids {
		ds = append(ds, delivery(id, "a", t0))
	}
	if err := s.DispatchEvents(ctx, ids, ds); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.ClaimDeliveries(ctx, t0, time.Minute, 3)
				if err != nil {
					t.Errorf("ClaimDeliveries = %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct deliveries, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("delivery %d claimed %d times", id, k)
		}
	}
}

// testListAndPrune: the list is newest first and filters by state;
// pruning drops old finished deliveries and dispatched events but never a
// pending delivery.
func testListAndPrune(t *testing.T, s store.Store) {
	ctx := context.Background()
	ids := publish(t, s, 3)
	ds := []store.Delivery{delivery(ids[0], "a", t0), delivery(ids[1], "a", t0), delivery(ids[2], "a", t0)}
	if err := s.DispatchEvents(ctx, ids, ds); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimDeliveries(ctx, t0, time.Minute, 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("ClaimDeliveries = %d, %v", len(claimed), err)
	}
	done := t0.Add(time.Second)
	claimed[0].State, claimed[0].DoneAt, claimed[0].NextAt = store.DeliveryDelivered, &done, nil
	claimed[1].State, claimed[1].DoneAt, claimed[1].NextAt, claimed[1].LastError = store.DeliveryFailed, &done, nil, "gave up"
	for _, c := range claimed {
		if err := s.FinishDelivery(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	fresh := publish(t, s, 1) // not dispatched: pruning keeps it
	states := func(state string) []int64 {
		list, err := s.ListDeliveries(ctx, state, 0)
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, d := range list {
			out = append(out, d.ID)
		}
		return out
	}
	if diff := cmp.Diff([]int64{ds[2].ID, ds[1].ID, ds[0].ID}, states("")); diff != "" {
		t.Errorf("ListDeliveries newest first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{ds[1].ID}, states(store.DeliveryFailed)); diff != "" {
		t.Errorf("ListDeliveries(failed) (-want +got):\n%s", diff)
	}
	if list, _ := s.ListDeliveries(ctx, "", 1); len(list) != 1 {
		t.Errorf("ListDeliveries(limit 1) = %d deliveries", len(list))
	}
	if err := s.PruneNotifications(ctx, t0.Add(24*time.Hour)); err != nil {
		t.Fatalf("PruneNotifications = %v", err)
	}
	if diff := cmp.Diff([]int64{ds[2].ID}, states("")); diff != "" {
		t.Errorf("after pruning (-want +got):\n%s", diff)
	}
	if evs := pending(t, s); len(evs) != 1 || evs[0].ID != fresh[0] {
		t.Errorf("pending events after pruning = %+v, want event %d kept", evs, fresh[0])
	}
}
