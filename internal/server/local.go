package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/store"
)

// LocalSource is the audit source of an action taken on the store directly,
// from the machine that holds it, rather than through the API.
const LocalSource = "local (data dir)"

// Local changes users and tokens directly in bascule's store, without the
// API: the recovery path of an operator who lost the admin credentials.
// Being able to read and write the data directory (or the store's
// database) is the authority, as it is for any file-backed service; every
// change is still audited, with the source LocalSource.
type Local struct {
	store store.Store
	auth  *auth.Authenticator
	actor string
	log   *slog.Logger
	owned bool // Close closes the store
}

// OpenLocal opens the store that cfg names for local administration.
// actor is who the audit log records (the operating system user). A SQLite
// store must exist already: a mistyped data directory is an error, not a
// new empty bascule. log (nil: discard) gets what cannot be returned, such
// as an audit entry that could not be written after the change was made.
func OpenLocal(ctx context.Context, cfg config.Config, actor string, log *slog.Logger) (*Local, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Store.Driver != config.DriverPostgres {
		db := filepath.Join(cfg.DataDir, "bascule.db")
		info, err := os.Stat(db)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open the store: %s does not exist: is the data directory right (--data, or data_dir in the config)?", db)
		}
		if err != nil {
			return nil, fmt.Errorf("open the store: %w", err)
		}
		if err := checkOwner(db, info); err != nil {
			return nil, fmt.Errorf("open the store: %w", err)
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open the store: %w", err)
	}
	return &Local{store: st, auth: auth.New(auth.Options{Store: st}), actor: actor, log: log, owned: true}, nil
}

// Local administers this running server's store, as OpenLocal does from
// another process (the demo uses it to mint its own credentials).
func (s *Server) Local(actor string) *Local {
	return &Local{store: s.store, auth: s.auth, actor: actor, log: s.log}
}

// Close closes the store if OpenLocal opened it.
func (l *Local) Close() error {
	if l.owned {
		return l.store.Close()
	}
	return nil
}

// ResetPassword gives the user name a new random password, enables the
// account and ends its sessions. It returns the password, to be shown once.
func (l *Local) ResetPassword(ctx context.Context, name string) (string, error) {
	password, err := auth.GeneratePassword()
	if err != nil {
		return "", err
	}
	enabled := false
	_, err = l.auth.Users().Update(ctx, name, auth.UserChange{Password: password, Disabled: &enabled})
	l.audit(ctx, "user.reset-password", name, "new password, account enabled, sessions ended", err)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("reset password: there is no user %q", name)
	}
	if err != nil {
		return "", fmt.Errorf("reset password of %s: %w", name, err)
	}
	return password, nil
}

// CreateToken issues an API token; its secret is returned to be shown once.
// ttl <= 0: it never expires.
func (l *Local) CreateToken(ctx context.Context, name, role string, ttl time.Duration) (store.Token, string, error) {
	tok, secret, err := l.auth.Tokens().Issue(ctx, name, role, ttl)
	detail := "role " + role
	if ttl > 0 {
		detail += ", expires in " + ttl.String()
	}
	l.audit(ctx, "token.create", name, detail, err)
	if err != nil {
		return store.Token{}, "", err
	}
	return tok, secret, nil
}

// Authenticate says whether secret is a valid token, and whose.
func (l *Local) Authenticate(ctx context.Context, secret string) (auth.Principal, error) {
	return l.auth.Tokens().Authenticate(ctx, secret)
}

func (l *Local) audit(ctx context.Context, action, target, detail string, err error) {
	outcome := "ok"
	if err != nil {
		outcome, detail = "failed", err.Error()
	}
	e := &store.AuditEntry{At: time.Now().UTC(), Actor: l.actor, Action: action, Target: target,
		Outcome: outcome, Detail: detail, Source: LocalSource}
	// The change is made by then: an audit failure must not hide its
	// result (a new password) from the operator, so it is logged.
	if aerr := l.store.AppendAudit(context.WithoutCancel(ctx), e); aerr != nil {
		l.log.Error("append audit", "action", action, "err", aerr)
	}
}

// CheckPassword says whether name logs in with password.
func (l *Local) CheckPassword(ctx context.Context, name, password string) error {
	_, err := l.auth.Users().Verify(ctx, name, password)
	return err
}
