package server

import (
	"context"
	"path/filepath"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/store"
)

// newArtifacts returns the artifact store of the data directory. When
// several instances share the store (PostgreSQL), every artifact is kept
// in it too, and an instance fetches from it the ones its disk lacks: a
// release uploaded through one instance deploys on another after the first
// is gone. On SQLite the data directory holds the store as well as the
// artifacts, so a second copy there would protect nothing and would stall
// every other write while a large artifact streams through the store's one
// connection (ADR 0016).
func (s *Server) newArtifacts() *artifact.Store {
	arts := &artifact.Store{Dir: filepath.Join(s.cfg.DataDir, "releases")}
	if _, shared := s.store.(store.Leases); shared {
		if blobs, ok := s.store.(store.Blobs); ok {
			arts.Shared = blobs
		}
	}
	return arts
}

// startSharing copies to the shared store, in the background, the
// artifacts of registered releases that only this instance's disk holds:
// those uploaded before artifacts were shared. Any instance may do it,
// leader or not: a blob is checked against its digest and written whole
// or not at all, so two instances copying the same one store it once. A
// failure is logged and tried again at the next start.
func (s *Server) startSharing(arts *artifact.Store) {
	if arts.Shared == nil {
		return
	}
	s.stopSharing = background(func(ctx context.Context) { s.shareArtifacts(ctx, arts) })
}

func (s *Server) shareArtifacts(ctx context.Context, arts *artifact.Store) {
	list, err := s.store.ListReleases(ctx)
	if err != nil {
		s.log.Error("share artifacts: list releases", "err", err)
		return
	}
	digests := make([]string, len(list))
	for i, r := range list {
		digests[i] = r.Digest
	}
	n, err := arts.Share(ctx, digests)
	if n > 0 {
		s.log.Info("shared artifacts that only this instance's disk held", "count", n)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("share artifacts", "err", err)
	}
}

// retention is the garbage collection of artifacts as the config sets it.
func retention(cfg config.Config) deploy.Retention {
	return deploy.Retention{Keep: cfg.Artifacts.Keep, Grace: cfg.Artifacts.Grace, Interval: cfg.Artifacts.Interval}
}

// sharedBlobs is the store's copy of the artifacts, which the leader's
// collection deletes; nil when the data directory alone holds them.
func sharedBlobs(arts *artifact.Store, st store.Store) deploy.BlobDeleter {
	if arts.Shared == nil {
		return nil
	}
	if b, ok := st.(store.Blobs); ok {
		return b
	}
	return nil
}

// startSweeping removes from this instance's data directory, every
// artifacts.interval, the artifacts the leader collected and deleted from
// the shared store: a follower's disk holds artifacts too (those it
// received while it led, or unpacked for the migrations API), and only
// the leader collects (ADR 0020). With one instance (no shared store) the
// leader's collection removes them itself.
func (s *Server) startSweeping(arts *artifact.Store) {
	if arts.Shared == nil || s.cfg.Artifacts.Interval <= 0 {
		return
	}
	s.stopSweeping = background(func(ctx context.Context) {
		t := time.NewTicker(s.cfg.Artifacts.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			s.sweepArtifacts(ctx, arts)
		}
	})
}

func (s *Server) sweepArtifacts(ctx context.Context, arts *artifact.Store) {
	list, err := s.store.ListReleases(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("sweep collected artifacts: list releases", "err", err)
		}
		return
	}
	removed, err := deploy.SweepDisk(ctx, list, arts)
	if len(removed) > 0 {
		s.log.Info("removed collected artifacts from this instance's disk", "count", len(removed))
	}
	if err != nil && ctx.Err() == nil {
		s.log.Error("sweep collected artifacts", "err", err)
	}
}
