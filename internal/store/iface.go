package store

import (
	"context"
	"time"
)

// Releases stores registered release artifacts' metadata.
type Releases interface {
	// CreateRelease registers r. It returns ErrConflict if the version exists.
	CreateRelease(ctx context.Context, r Release) error
	// Release returns the release with that version, or ErrNotFound.
	Release(ctx context.Context, version string) (Release, error)
	// ListReleases returns all releases, newest first.
	ListReleases(ctx context.Context) ([]Release, error)
	// HoldRelease records why the release must not go live automatically
	// again (Release.Hold). It returns ErrNotFound for an unknown version.
	HoldRelease(ctx context.Context, version, reason string) error
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
	// ListTokens returns all tokens, oldest first (by ID).
	ListTokens(ctx context.Context) ([]Token, error)
	// DeleteToken revokes the token with that ID, or returns ErrNotFound.
	DeleteToken(ctx context.Context, id int64) error
}

// Users stores the people who log in. Names are unique.
type Users interface {
	// CreateUser inserts u and sets its ID. It returns ErrConflict if the
	// name is taken.
	CreateUser(ctx context.Context, u *User) error
	// User returns the user with that name, or ErrNotFound.
	User(ctx context.Context, name string) (User, error)
	// ListUsers returns all users ordered by name.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser writes u's role, password hash and disabled time, finding
	// the user by u.Name. It returns ErrNotFound for an unknown name.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser deletes the user and all their sessions, or returns
	// ErrNotFound.
	DeleteUser(ctx context.Context, name string) error
}

// Sessions stores browser sessions, keyed by the SHA-256 of their ID.
type Sessions interface {
	// CreateSession inserts s. It returns ErrConflict if the hash exists.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with that ID hash, or ErrNotFound. It
	// does not check expiry: the caller decides.
	Session(ctx context.Context, idHash string) (Session, error)
	// TouchSession sets the session's LastSeen and ExpiresAt, or returns
	// ErrNotFound.
	TouchSession(ctx context.Context, idHash string, lastSeen, expiresAt time.Time) error
	// DeleteSession deletes the session; deleting an absent one is not an
	// error (logging out twice is fine).
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions deletes every session of the user (password
	// changed, user disabled).
	DeleteUserSessions(ctx context.Context, user string) error
	// DeleteExpiredSessions deletes the sessions whose ExpiresAt is not
	// after now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
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
	Retention
	Deployments
	Slots
	Tokens
	Users
	Sessions
	Audit
	Flags
	Notifications
	Routers
	RoutingTables
	Progressives
	Close() error
}
