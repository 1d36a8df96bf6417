package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/store"
)

// Retention is the garbage collection of release artifacts (ADR 0020).
// Its zero value (Keep 0) collects nothing.
type Retention struct {
	// Keep is how many of the newest artifact releases keep their
	// artifact; 0 turns collection off.
	Keep int
	// Grace is how long a new release is never collected.
	Grace time.Duration
	// Interval is how often the leader collects besides after each
	// deployment ends; 0: only then, and when asked (Prune).
	Interval time.Duration
}

// BlobDeleter deletes artifacts' bytes from the store that every instance
// reads (store.Blobs provides it).
type BlobDeleter interface {
	DeleteBlob(ctx context.Context, digest string) error
}

// ErrArtifactCollected is returned when deploying a release whose artifact
// was garbage-collected: nothing was started.
var ErrArtifactCollected = errors.New("artifact collected")

// ActionCollect is what the audit log records for each release whose
// artifact was collected.
const ActionCollect Action = "release.collect"

// Collected is a release whose artifact a collection deleted, or would.
type Collected struct {
	Version   string    `json:"version"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
}

// Collection is what one collection did (or, dry, would do).
type Collection struct {
	DryRun   bool        `json:"dry_run"`
	Keep     int         `json:"keep"`
	Releases []Collected `json:"releases"` // newest first
	Bytes    int64       `json:"bytes"`    // the artifacts' sizes, summed
}

// CollectedError is a deployment refused because its release's artifact
// was garbage-collected; errors.Is(err, ErrArtifactCollected) is true.
type CollectedError struct {
	Version string
	Keep    int
	At      time.Time
}

func (e *CollectedError) Error() string {
	return fmt.Sprintf("the artifact of %s was collected (artifacts.keep: %d) at %s: add it again with bascule release add %s-again PATH",
		e.Version, e.Keep, e.At.UTC().Format(time.DateTime+" MST"), e.Version)
}

// Is makes errors.Is(err, ErrArtifactCollected) true.
func (e *CollectedError) Is(target error) bool { return target == ErrArtifactCollected }

// collectedError says why rel cannot be deployed any more, and how to get
// it back.
func (s *Service) collectedError(rel store.Release) error {
	return &CollectedError{Version: rel.Version, Keep: s.opts.Retention.Keep, At: *rel.CollectedAt}
}

// toCollect returns the releases, of list (newest first), whose artifact
// the retention rule lets go: artifact releases (an image release's
// artifact is only its migrations) beyond the Keep newest, not in use (a
// slot runs it, or a deployment of it is not over), older than Grace, and
// not collected already.
func toCollect(list []store.Release, inUse map[string]bool, r Retention, now time.Time) []store.Release {
	var out []store.Release
	rank := 0
	for _, rel := range list {
		if rel.Image != "" {
			continue
		}
		rank++
		if rank <= r.Keep || rel.Collected() || inUse[rel.Version] || now.Sub(rel.CreatedAt) < r.Grace {
			continue
		}
		out = append(out, rel)
	}
	return out
}

// Prune collects now what the retention rule lets go, as actor, and says
// what it deleted; dry, it deletes nothing and says what it would. Only
// the leader collects (ErrNotLeader otherwise).
func (s *Service) Prune(ctx context.Context, actor string, dry bool) (Collection, error) {
	ctx, err := s.acting(ctx)
	if err != nil {
		return Collection{}, err
	}
	return s.collect(ctx, actor, dry)
}

// collect runs one collection. The releases are marked collected first,
// each in a write that checks again that it is not in use (a deployment
// started since wins), then their bytes are deleted from the store and
// from this instance's disk: a collection cut short leaves bytes that the
// next one deletes, never a release marked kept whose bytes are gone.
func (s *Service) collect(ctx context.Context, actor string, dry bool) (Collection, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	c := Collection{DryRun: dry, Keep: s.opts.Retention.Keep, Releases: []Collected{}}
	if c.Keep <= 0 {
		return c, nil
	}
	list, err := s.opts.Store.ListReleases(ctx)
	if err != nil {
		return c, fmt.Errorf("collect artifacts: %w", err)
	}
	used, err := s.opts.Store.ReleasesInUse(ctx)
	if err != nil {
		return c, fmt.Errorf("collect artifacts: %w", err)
	}
	inUse := make(map[string]bool, len(used))
	for _, v := range used {
		inUse[v] = true
	}
	now := s.now()
	candidates := toCollect(list, inUse, s.opts.Retention, now)
	gone := make(map[string]bool, len(candidates))
	for _, rel := range candidates {
		gone[rel.Version] = true
	}
	// A digest another release keeps stays: two versions of the same
	// bytes share it. Such a candidate is left as it is, costing nothing.
	kept := make(map[string]bool)
	for _, rel := range list {
		if !gone[rel.Version] && !rel.Collected() {
			kept[rel.Digest] = true
		}
	}
	for _, rel := range candidates {
		if kept[rel.Digest] {
			continue
		}
		if !dry {
			err := s.opts.Store.CollectRelease(ctx, rel.Version, now)
			if errors.Is(err, store.ErrConflict) {
				continue // deployed since we looked: it keeps its artifact
			}
			if err != nil {
				return c, fmt.Errorf("collect artifacts: %w", err)
			}
			s.audit(ctx, actor, ActionCollect, rel.Version, "ok",
				fmt.Sprintf("artifact %s, %d bytes, deleted (artifacts.keep: %d)", rel.Digest, rel.Size, c.Keep))
		}
		c.Releases = append(c.Releases, Collected{Version: rel.Version, Digest: rel.Digest, Size: rel.Size, CreatedAt: rel.CreatedAt})
		c.Bytes += rel.Size
	}
	if dry {
		return c, nil
	}
	return c, s.deleteCollected(ctx)
}

// deleteCollected deletes the bytes of every collected release that no
// kept release shares, from the store and from this instance's disk.
func (s *Service) deleteCollected(ctx context.Context) error {
	list, err := s.opts.Store.ListReleases(ctx)
	if err != nil {
		return fmt.Errorf("delete collected artifacts: %w", err)
	}
	var errs []error
	for _, d := range collectedDigests(list) {
		if s.opts.Blobs != nil {
			if err := s.opts.Blobs.DeleteBlob(ctx, d); err != nil {
				errs = append(errs, err)
				continue // the disk's copy stays while the store's does
			}
		}
		if s.opts.Artifacts != nil {
			if _, err := s.opts.Artifacts.Remove(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// collectedDigests returns the digests of the collected releases of list
// that no release still keeping its artifact shares, once each.
func collectedDigests(list []store.Release) []string {
	kept := make(map[string]bool)
	for _, rel := range list {
		if !rel.Collected() {
			kept[rel.Digest] = true
		}
	}
	var out []string
	seen := make(map[string]bool)
	for _, rel := range list {
		if rel.Collected() && !kept[rel.Digest] && !seen[rel.Digest] {
			seen[rel.Digest] = true
			out = append(out, rel.Digest)
		}
	}
	return out
}

// SweepDisk removes from arts' data directory the artifacts of collected
// releases (list) that no kept release shares and that arts' shared store
// (if any) no longer holds: what the leader collected, on every instance,
// leader or not. It returns the digests it removed something of.
func SweepDisk(ctx context.Context, list []store.Release, arts *artifact.Store) ([]string, error) {
	var removed []string
	var errs []error
	for _, d := range collectedDigests(list) {
		if !arts.Has(d) {
			continue
		}
		if arts.Shared != nil {
			// The leader deletes the store's copy before its own: while
			// the store holds it, the collection is not over.
			has, err := arts.Shared.HasBlob(ctx, d)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if has {
				continue
			}
		}
		ok, err := arts.Remove(d)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed = append(removed, d)
		}
	}
	return removed, errors.Join(errs...)
}

// wakeCollector asks the term's collector to run: a deployment ended.
func (s *Service) wakeCollector() {
	select {
	case s.gcWake <- struct{}{}:
	default: // a run is asked for already
	}
}

// startCollector runs the collector for the rest of the term, once per
// term: after each deployment ends and every Interval. Not at once: a
// leader that just took over has a deployment to recover first, and an
// hour's wait costs a disk nothing.
func (s *Service) startCollector() {
	if s.opts.Retention.Keep <= 0 {
		return
	}
	s.termMu.Lock()
	t := s.term
	if t == nil || t.collecting {
		s.termMu.Unlock()
		return
	}
	t.collecting = true
	s.termMu.Unlock()
	s.spawn(s.collectLoop)
}

func (s *Service) collectLoop(ctx context.Context) {
	var tick <-chan time.Time
	if iv := s.opts.Retention.Interval; iv > 0 {
		t := time.NewTicker(iv)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-s.gcWake:
		}
		c, err := s.collect(ctx, "bascule", false)
		if err != nil && ctx.Err() == nil {
			s.log.Error("collect artifacts", "err", err)
		}
		if len(c.Releases) > 0 {
			s.log.Info("collected artifacts", "releases", len(c.Releases), "bytes", c.Bytes, "keep", c.Keep)
		}
	}
}
