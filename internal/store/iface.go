package store

import "context"

// Releases stores registered release artifacts' metadata.
type Releases interface {
	// CreateRelease registers r. It returns ErrConflict if the version exists.
	CreateRelease(ctx context.Context, r Release) error
	// Release returns the release with that version, or ErrNotFound.
	Release(ctx context.Context, version string) (Release, error)
	// ListReleases returns all releases, newest first.
	ListReleases(ctx context.Context) ([]Release, error)
}

// Deployments stores deployments and their steps.
type Deployments interface {
	// CreateDeployment inserts d and sets its ID. It returns ErrConflict if
	// another deployment of the same app is active (see Active).
	CreateDeployment(ctx context.Context, d *Deployment) error
	// UpdateDeployment writes d's state, error, log tail, finish time and
	// steps. It returns ErrNotFound for an unknown ID.
	UpdateDeployment(ctx context.Context, d *Deployment) error
	// Deployment returns one deployment with its steps, or ErrNotFound.
	Deployment(ctx context.Context, id int64) (Deployment, error)
	// ListDeployments returns the most recent deployments first, at most limit.
	ListDeployments(ctx context.Context, app string, limit int) ([]Deployment, error)
	// ActiveDeployment returns the app's deployment that holds the lock, or
	// ErrNotFound.
	ActiveDeployment(ctx context.Context, app string) (Deployment, error)
}

// Slots stores which release each color of an app runs.
type Slots interface {
	// PutSlot records what a color runs.
	PutSlot(ctx context.Context, app string, s Slot) error
	// Slots returns the recorded slots of an app, keyed by color.
	Slots(ctx context.Context, app string) (map[string]Slot, error)
}

// Tokens stores hashed API tokens.
type Tokens interface {
	// CreateToken inserts t and sets its ID.
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash returns the token with that hash, or ErrNotFound.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// CountTokens returns how many tokens exist.
	CountTokens(ctx context.Context) (int, error)
}

// Audit is the append-only audit log.
type Audit interface {
	// AppendAudit appends e and sets its ID.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns the newest entries first, at most limit.
	ListAudit(ctx context.Context, limit int) ([]AuditEntry, error)
}

// Store is everything bascule persists.
type Store interface {
	Releases
	Deployments
	Slots
	Tokens
	Audit
	Close() error
}
