// Package store holds bascule's persistent records (releases, deployments,
// slots, users, sessions, API tokens, audit entries) and the interfaces
// that every storage implementation provides. Implementations live in
// sub-packages (sqlite, postgres).
package store

import (
	"errors"
	"time"
)

// Sentinel errors. Implementations translate driver errors into these so that
// callers branch on meaning, not on a database's error codes.
var (
	// ErrNotFound is returned when the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a write would break a uniqueness rule:
	// a release version registered twice, or a second active deployment.
	ErrConflict = errors.New("conflict")
)

// Release is an immutable, registered build artifact.
type Release struct {
	Version   string    `json:"version"`
	Digest    string    `json:"digest"` // "sha256:<hex>" of the artifact bytes
	Size      int64     `json:"size"`
	Format    string    `json:"format"` // "tar", "tar.gz" or "file"
	Filename  string    `json:"filename"`
	Notes     string    `json:"notes,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Hold, when set, says why auto_go_live must not promote this release
	// again: the guard rolled it back. A person can still go live with it.
	Hold string `json:"hold,omitempty"`
	// Image, when set, makes the release a container image, named by
	// digest ("registry.example.com/shop@sha256:<64 hex>"), which the
	// kubernetes driver runs; the artifact (Digest, Size, …) then holds only
	// the release's migrations, so that the same gates run.
	Image string `json:"image,omitempty"`
	// CollectedAt, when set, is when the release's artifact was
	// garbage-collected (ADR 0020): its bytes are gone from the store and
	// the disks, and it can no longer be deployed. The release stays in
	// the history.
	CollectedAt *time.Time `json:"collected_at,omitempty"`
}

// Collected reports whether the release's artifact was garbage-collected.
func (r Release) Collected() bool { return r.CollectedAt != nil }

// State is where a deployment stands. Its values are stored as they are
// (a text column) and shown in the API: they never change. Which state may
// follow which is the deploy package's transition table.
type State string

// Deployment states. Active states hold the per-app deployment lock.
const (
	StateQueued     State = "queued"
	StateMigrating  State = "migrating"
	StateStarting   State = "starting"
	StateVerifying  State = "verifying"
	StateReady      State = "ready"
	StateLive       State = "live"
	StateFinalized  State = "finalized"
	StateFailed     State = "failed"
	StateRolledBack State = "rolled_back"
)

// States lists every deployment state, in the pipeline's order.
func States() []State {
	return []State{StateQueued, StateMigrating, StateStarting, StateVerifying, StateReady, StateLive,
		StateFinalized, StateFailed, StateRolledBack}
}

// Active reports whether a deployment in this state is still running its
// pipeline and therefore holds the deployment lock.
func Active(state State) bool {
	switch state {
	case StateQueued, StateMigrating, StateStarting, StateVerifying:
		return true
	}
	return false
}

// Deployment is one run of the pipeline for one release onto one color.
type Deployment struct {
	ID          int64      `json:"id"`
	App         string     `json:"app"`
	Version     string     `json:"version"`
	Color       string     `json:"color"`
	State       State      `json:"state"`
	Reason      string     `json:"reason,omitempty"` // why the user deployed
	Error       string     `json:"error,omitempty"`  // why it failed
	LogTail     []string   `json:"log_tail,omitempty"`
	RequestedBy string     `json:"requested_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Steps       []Step     `json:"steps"`
}

// Step states.
const (
	StepRunning = "running"
	StepDone    = "done"
	StepFailed  = "failed"
	StepSkipped = "skipped"
)

// Step is one stage of a deployment's pipeline.
type Step struct {
	Name      string     `json:"name"`
	State     string     `json:"state"`
	Message   string     `json:"message,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

// Duration is how long the step ran, or has been running until now.
func (s Step) Duration(now time.Time) time.Duration {
	if s.EndedAt != nil {
		return s.EndedAt.Sub(s.StartedAt)
	}
	return now.Sub(s.StartedAt)
}

// Slot records which release a color runs, independent of whether the
// process is up right now (after a host restart it may need starting again).
type Slot struct {
	Color        string    `json:"color"`
	Version      string    `json:"version"`
	DeploymentID int64     `json:"deployment_id"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Roles, from least to most privileged.
const (
	// RoleEvaluator may only evaluate flags (OFREP, the flag snapshot and
	// its stream): the role of API keys built into applications.
	RoleEvaluator = "evaluator"
	// RoleRouter may only follow the routing stream and report a router's
	// heartbeats and acknowledgements: the role of `bascule router`'s
	// token. It is outside the ranking of the others: no other role but
	// admin includes it, and it includes none.
	RoleRouter   = "router"
	RoleViewer   = "viewer"
	RoleDeployer = "deployer"
	RoleAdmin    = "admin"
)

// Token is an API token. Only the SHA-256 of the secret is stored.
type Token struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Hash      string     `json:"-"`
	Role      string     `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// AuditEntry is one recorded action. The log is append-only.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Target  string    `json:"target,omitempty"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
	// Source is where the action came from: the client address and how it
	// authenticated. AppendAudit fills it from the context (WithSource)
	// when it is empty.
	Source string `json:"source,omitempty"`
}

// User is a person who logs in to the web UI. The password is stored only
// as an encoded argon2id hash; a disabled user can no longer log in.
type User struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	Role         string     `json:"role"`
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
}

// Session is a logged-in browser session. Only the SHA-256 of its ID is
// stored, so a copy of the database does not let anyone log in.
type Session struct {
	IDHash    string    `json:"-"`
	User      string    `json:"user"`
	CSRFToken string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	// ExpiresAt is when the session stops being valid: the earlier of its
	// absolute and its idle expiry, moved forward by each TouchSession.
	ExpiresAt time.Time `json:"expires_at"`
}
