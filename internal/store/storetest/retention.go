package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
	"github.com/google/go-cmp/cmp"
)

// testRetention: a release a slot runs, or that a deployment not in a
// final state deploys, is in use and cannot be collected; any other can,
// once, and stays in the history with the time it was collected.
func testRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, v := range []string{"v1", "v2", "v3", "v4", "v5"} {
		addRelease(t, s, v, t0.Add(time.Duration(i)*time.Minute))
	}
	if err := s.PutSlot(ctx, "shop", store.Slot{Color: "blue", Version: "v1", DeploymentID: 1, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	ready := newDeployment("v2")
	if err := s.CreateDeployment(ctx, ready); err != nil {
		t.Fatal(err)
	}
	ready.State = store.StateReady
	if err := s.UpdateDeployment(ctx, ready); err != nil {
		t.Fatal(err)
	}
	failed := newDeployment("v3")
	failed.App = "blog" // one active deployment per app
	if err := s.CreateDeployment(ctx, failed); err != nil {
		t.Fatal(err)
	}
	failed.State = store.StateFailed
	if err := s.UpdateDeployment(ctx, failed); err != nil {
		t.Fatal(err)
	}
	queued := newDeployment("v4")
	queued.App = "blog"
	if err := s.CreateDeployment(ctx, queued); err != nil {
		t.Fatal(err)
	}
	used, err := s.ReleasesInUse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"v1", "v2", "v4"}, used); diff != "" {
		t.Errorf("ReleasesInUse (v1 on a slot, v2 ready, v3 failed, v4 queued) differs (-want +got):\n%s", diff)
	}
	for _, v := range used {
		if err := s.CollectRelease(ctx, v, t0); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CollectRelease(%s, in use) = %v, want ErrConflict", v, err)
		}
	}
	if err := s.CollectRelease(ctx, "v9", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CollectRelease(v9) = %v, want ErrNotFound", err)
	}
	at := t0.Add(time.Hour)
	for _, v := range []string{"v3", "v5"} {
		if err := s.CollectRelease(ctx, v, at); err != nil {
			t.Fatalf("CollectRelease(%s) = %v", v, err)
		}
	}
	if err := s.CollectRelease(ctx, "v3", at.Add(time.Hour)); err != nil {
		t.Errorf("CollectRelease(v3) again = %v, want nil", err)
	}
	list, err := s.ListReleases(ctx)
	if err != nil || len(list) != 5 {
		t.Fatalf("ListReleases = %d releases, %v; want all 5 still", len(list), err)
	}
	for _, r := range list {
		collected := r.Version == "v3" || r.Version == "v5"
		if r.Collected() != collected || collected && !r.CollectedAt.Equal(at) {
			t.Errorf("release %s CollectedAt = %v, want collected %v at %v", r.Version, r.CollectedAt, collected, at)
		}
	}
	if got, err := s.Release(ctx, "v3"); err != nil || got.CollectedAt == nil || !got.CollectedAt.Equal(at) {
		t.Errorf("Release(v3) = %+v, %v; want collected at %v (the first time)", got, err, at)
	}
	// The ready deployment ends: its release is free.
	ready.State = store.StateRolledBack
	if err := s.UpdateDeployment(ctx, ready); err != nil {
		t.Fatal(err)
	}
	if err := s.CollectRelease(ctx, "v2", at); err != nil {
		t.Errorf("CollectRelease(v2, its deployment rolled back) = %v", err)
	}
}

// testBlobDelete: a deleted blob is gone, chunks and all, and can be
// stored again; deleting an absent one is fine.
func testBlobDelete(t *testing.T, s store.Blobs) {
	ctx := context.Background()
	b := randomBytes(7, store.BlobChunk+10)
	keep := randomBytes(8, 100)
	putAndCheck(t, s, b)
	putAndCheck(t, s, keep)
	if err := s.DeleteBlob(ctx, Digest(b)); err != nil {
		t.Fatalf("DeleteBlob = %v", err)
	}
	if ok, err := s.HasBlob(ctx, Digest(b)); err != nil || ok {
		t.Errorf("HasBlob after DeleteBlob = %v, %v; want false", ok, err)
	}
	if _, _, err := s.OpenBlob(ctx, Digest(b)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OpenBlob after DeleteBlob = %v, want ErrNotFound", err)
	}
	if got := readBlob(t, s, Digest(keep)); !bytes.Equal(got, keep) {
		t.Error("DeleteBlob of one blob changed another")
	}
	if err := s.DeleteBlob(ctx, Digest(b)); err != nil {
		t.Errorf("DeleteBlob of an absent blob = %v, want nil", err)
	}
	putAndCheck(t, s, b) // stored again whole: no chunk was left behind
}

// testRetentionFenced: in a store that shares leases, a deposed leader
// can neither mark a release collected nor delete a blob.
func testRetentionFenced(t *testing.T, s store.Store) {
	leases, ok := s.(store.Leases)
	blobs, okB := s.(store.Blobs)
	if !ok || !okB {
		t.Skip("this store is for one instance only: nothing to fence")
	}
	ctx := context.Background()
	addRelease(t, s, "v1", t0)
	b := randomBytes(9, 10)
	putAndCheck(t, blobs, b)
	old, taken, err := leases.AcquireLease(ctx, store.LeaseControl, "a", "http://a", 50*time.Millisecond)
	if err != nil || !taken {
		t.Fatalf("AcquireLease(a) = %+v, %v, %v", old, taken, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if l, taken, err := leases.AcquireLease(ctx, store.LeaseControl, "b", "http://b", time.Minute); err != nil {
			t.Fatal(err)
		} else if taken && l.Holder == "b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b could not take the expired lease within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	asA := store.WithFence(ctx, store.Fence{Lease: store.LeaseControl, Token: old.Token})
	if err := s.CollectRelease(asA, "v1", t0); !errors.Is(err, store.ErrFenced) {
		t.Errorf("CollectRelease by the deposed leader = %v, want ErrFenced", err)
	}
	if err := blobs.DeleteBlob(asA, Digest(b)); !errors.Is(err, store.ErrFenced) {
		t.Errorf("DeleteBlob by the deposed leader = %v, want ErrFenced", err)
	}
	if r, _ := s.Release(ctx, "v1"); r.Collected() {
		t.Error("the deposed leader's CollectRelease marked v1 collected")
	}
	if ok, _ := blobs.HasBlob(ctx, Digest(b)); !ok {
		t.Error("the deposed leader's DeleteBlob deleted the blob")
	}
}
