package deploy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/store"
)

// newRetentionStack is the deploy service over real parts (SQLite, the
// static driver, two real backends) collecting artifacts as r says.
func newRetentionStack(t *testing.T, r deploy.Retention) *guardStack {
	t.Helper()
	return startStack(t, &guardStack{retention: r})
}

// addReleaseAt registers version, created at, as an artifact holding
// content; image, if set, makes it an image release.
func (s *guardStack) addReleaseAt(version, content, image string, at time.Time) store.Release {
	s.t.Helper()
	rel, err := registerRelease(s.t, s.db, s.arts, store.Release{Version: version, CreatedAt: at.UTC(), Image: image}, content)
	if err != nil {
		s.t.Fatal(err)
	}
	// Unpacked, as a deployment or the migrations API leaves it.
	if _, err := s.arts.Unpack(context.Background(), rel.Digest, rel.Format, rel.Filename); err != nil {
		s.t.Fatal(err)
	}
	return rel
}

// collected returns the versions the store says were collected, sorted.
func (s *guardStack) collected() []string {
	s.t.Helper()
	list, err := s.db.ListReleases(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, r := range list {
		if r.Collected() {
			out = append(out, r.Version)
		}
	}
	slices.Sort(out)
	return out
}

// collectAudit returns the targets of the audit's release.collect entries,
// sorted.
func (s *guardStack) collectAudit() []string {
	s.t.Helper()
	list, err := s.db.ListAudit(context.Background(), 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, e := range list {
		if e.Action == string(deploy.ActionCollect) {
			out = append(out, e.Target)
		}
	}
	slices.Sort(out)
	return out
}

const testImage = "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestPruneKeepsWhatTheRuleProtects: with keep 2 and a grace of an hour,
// the releases on the slots (one live, one ready), the two newest, those
// younger than the grace and an image release keep their artifacts; the
// others lose theirs, from the disk too, stay in the history, are audited,
// and can no longer be deployed; the same bytes added again under a new
// version deploy.
func TestPruneKeepsWhatTheRuleProtects(t *testing.T) {
	s := newRetentionStack(t, deploy.Retention{Keep: 2, Grace: time.Hour})
	ctx := context.Background()
	now := time.Now()
	rels := map[string]store.Release{}
	add := func(v, image string, age time.Duration) { rels[v] = s.addReleaseAt(v, v+"\n", image, now.Add(-age)) }
	add("v1", "", 10*time.Hour)
	add("v2", "", 9*time.Hour)
	s.deploy("v1")
	if _, err := s.svc.GoLive(ctx, "alice", "first"); err != nil {
		t.Fatal(err)
	}
	if d := s.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deployment of v2 = %s (%s), want ready", d.State, d.Error)
	}
	add("v3", "", 8*time.Hour)
	add("v4", "", 7*time.Hour)
	add("v5", "", 30*time.Minute) // beyond keep, within the grace
	add("v6", "", 20*time.Minute)
	add("v7", "", 10*time.Minute)
	add("img", testImage, 9*time.Hour) // an image release: never collected

	c, err := s.svc.Prune(ctx, "admin", false)
	if err != nil {
		t.Fatalf("Prune = %v", err)
	}
	want := []string{"v3", "v4"}
	if got := s.collected(); !slices.Equal(got, want) {
		t.Fatalf("collected releases = %v, want %v (v1 live, v2 ready, v5 in its grace, v6 v7 newest, img an image)", got, want)
	}
	for _, r := range c.Releases {
		if !slices.Contains(want, r.Version) {
			t.Errorf("Prune reported %s collected, want only %v", r.Version, want)
		}
	}
	if got := s.collectAudit(); !slices.Equal(got, want) {
		t.Errorf("release.collect audit entries for %v, want one each for %v", got, want)
	}
	for v, r := range rels {
		if gone := slices.Contains(want, v); s.arts.Has(r.Digest) == gone {
			t.Errorf("%s: artifact on disk = %v, want %v", v, !gone, !gone)
		}
	}
	if list, _ := s.db.ListReleases(ctx); len(list) != len(rels) {
		t.Errorf("ListReleases = %d releases after the collection, want all %d in the history", len(list), len(rels))
	}

	before, _ := s.db.ListDeployments(ctx, "shop", 100)
	_, err = s.svc.Deploy(ctx, "v3", "back to v3", "alice")
	if !errors.Is(err, deploy.ErrArtifactCollected) {
		t.Fatalf("Deploy(v3, collected) = %v, want ErrArtifactCollected", err)
	}
	for _, part := range []string{"the artifact of v3 was collected (artifacts.keep: 2)", "bascule release add v3-again"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("Deploy(v3) error %q does not say %q", err, part)
		}
	}
	if after, _ := s.db.ListDeployments(ctx, "shop", 100); len(after) != len(before) {
		t.Errorf("Deploy(v3, collected) created a deployment: %d before, %d after", len(before), len(after))
	}
	if !slices.ContainsFunc(s.audit("alice"), func(e store.AuditEntry) bool { return e.Target == "v3" && e.Outcome == "refused" }) {
		t.Error("the refused deployment of v3 is not in the audit log")
	}

	// The same bytes under a new version: stored again, deployed.
	s.addReleaseAt("v3-again", "v3\n", "", now)
	if d := s.deploy("v3-again"); d.State != store.StateReady {
		t.Errorf("deployment of v3-again (v3's bytes) = %s (%s), want ready", d.State, d.Error)
	}
}

// TestPruneDryRunDeletesNothing: a dry run says what a collection would
// delete and deletes nothing; the collection then deletes exactly that.
func TestPruneDryRunDeletesNothing(t *testing.T) {
	s := newRetentionStack(t, deploy.Retention{Keep: 1})
	ctx := context.Background()
	now := time.Now()
	var rels []store.Release
	for i, v := range []string{"v1", "v2", "v3"} {
		rels = append(rels, s.addReleaseAt(v, v, "", now.Add(time.Duration(i-3)*time.Minute)))
	}
	dry, err := s.svc.Prune(ctx, "admin", true)
	if err != nil {
		t.Fatalf("Prune(dry) = %v", err)
	}
	var got []string
	for _, r := range dry.Releases {
		got = append(got, r.Version)
	}
	if !dry.DryRun || !slices.Equal(got, []string{"v2", "v1"}) || dry.Bytes != rels[0].Size+rels[1].Size {
		t.Fatalf("Prune(dry) = %+v, want v2 and v1 (newest first), %d bytes", dry, rels[0].Size+rels[1].Size)
	}
	if c := s.collected(); len(c) != 0 {
		t.Errorf("after a dry run, collected = %v, want none", c)
	}
	for _, r := range rels {
		if !s.arts.Has(r.Digest) {
			t.Errorf("after a dry run, the artifact of %s is gone from the disk", r.Version)
		}
	}
	if a := s.collectAudit(); len(a) != 0 {
		t.Errorf("a dry run wrote audit entries for %v", a)
	}
	c, err := s.svc.Prune(ctx, "admin", false)
	if err != nil {
		t.Fatalf("Prune = %v", err)
	}
	got = got[:0]
	for _, r := range c.Releases {
		got = append(got, r.Version)
	}
	if !slices.Equal(got, []string{"v2", "v1"}) || !slices.Equal(s.collected(), []string{"v1", "v2"}) {
		t.Errorf("Prune = %v, collected %v; want v2, v1 as the dry run said", got, s.collected())
	}
	if s.arts.Has(rels[0].Digest) || s.arts.Has(rels[1].Digest) || !s.arts.Has(rels[2].Digest) {
		t.Error("after Prune, v1 and v2 should be gone from the disk and v3 kept")
	}
	if again, err := s.svc.Prune(ctx, "admin", false); err != nil || len(again.Releases) != 0 {
		t.Errorf("Prune again = %+v, %v; want nothing more", again, err)
	}
}

// TestCollectionRunsWhenADeploymentEnds: without anyone asking, the
// leader collects once a deployment reaches a final state (here v1
// finalized by v2's deployment).
func TestCollectionRunsWhenADeploymentEnds(t *testing.T) {
	s := newRetentionStack(t, deploy.Retention{Keep: 1})
	ctx := context.Background()
	now := time.Now()
	old := s.addReleaseAt("v0", "v0", "", now.Add(-time.Hour))
	s.addReleaseAt("v1", "v1", "", now.Add(-time.Minute))
	s.addReleaseAt("v2", "v2", "", now)
	s.deploy("v1")
	if _, err := s.svc.GoLive(ctx, "alice", "first"); err != nil {
		t.Fatal(err)
	}
	if c := s.collected(); len(c) != 0 {
		t.Fatalf("collected %v before any deployment ended, want none", c)
	}
	s.deploy("v2") // finalizes v1
	waitFor(t, "v0's artifact collected after v1 was finalized", func() bool {
		return slices.Equal(s.collected(), []string{"v0"}) && !s.arts.Has(old.Digest)
	})
	if a := s.collectAudit(); !slices.Equal(a, []string{"v0"}) {
		t.Errorf("release.collect audit entries = %v, want v0", a)
	}
	for _, e := range s.audit("bascule") {
		if e.Action == string(deploy.ActionCollect) {
			return
		}
	}
	t.Error("the automatic collection is not audited as done by bascule")
}
