package store

import (
	"context"
	"time"
)

// FlagVersion is one version of the whole flag configuration. Every change,
// however small, writes a new version: the history is the audit trail of
// the flags, and a version is what clients cache and resume from.
type FlagVersion struct {
	// Version counts from 1; each version is its predecessor plus one.
	Version int64
	// Doc is the configuration in flag.Wire JSON. The store does not read it.
	Doc []byte
	// Actor is who made the change, as the audit log names them.
	Actor string
	// Summary describes the change, one line per flag or segment changed,
	// e.g. `~ flag "checkout-v2": enabled: false → true`.
	Summary   string
	CreatedAt time.Time
}

// Flags stores the versions of the flag configuration.
type Flags interface {
	// LatestFlags returns the newest version, or ErrNotFound when no
	// version was ever written.
	LatestFlags(ctx context.Context) (FlagVersion, error)
	// PutFlags writes v as the version after expectVersion (0 when there
	// is none yet). It returns ErrConflict when the latest version is not
	// expectVersion: someone else changed the flags first, and the caller
	// must reload and redo its change. v.Version must be expectVersion+1.
	PutFlags(ctx context.Context, expectVersion int64, v FlagVersion) error
	// FlagHistory returns the versions whose Summary contains mention (all
	// versions when mention is ""), newest first, at most limit (<= 0: 100).
	FlagHistory(ctx context.Context, mention string, limit int) ([]FlagVersion, error)
}
