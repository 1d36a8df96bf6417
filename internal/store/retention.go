package store

import (
	"context"
	"time"
)

// Retention is what the garbage collection of release artifacts needs of
// the store (ADR 0020): which releases must keep their artifact whatever
// the retention rule says, and a record of those collected.
type Retention interface {
	// ReleasesInUse returns, once each and sorted, the versions that a
	// color's slot runs and those of every deployment not in a final
	// state (finalized, failed and rolled_back are final).
	ReleasesInUse(ctx context.Context) ([]string, error)
	// CollectRelease records that version's artifact was collected at
	// at. It returns ErrNotFound for an unknown version and ErrConflict
	// when the release is in use (see ReleasesInUse), checked in the same
	// statement as the write, so that a deployment created since the
	// caller looked wins. Collecting a release collected already changes
	// nothing. It is fenced (WithFence).
	CollectRelease(ctx context.Context, version string, at time.Time) error
}
