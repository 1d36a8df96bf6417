package server

import (
	"context"
	"path/filepath"

	"github.com/bascule/bascule/internal/artifact"
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
