package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// Sessions are server-side browser sessions. The session ID has 256 random
// bits and lives only in the user's cookie; the store keeps its SHA-256, so
// neither a database copy nor a log line lets anyone log in. Set Store;
// every other field's zero value works.
type Sessions struct {
	Store       store.Sessions
	IdleTimeout time.Duration // a session unused this long ends; 0: 12h
	MaxAge      time.Duration // a session ends this long after login, used or not; 0: 7 days
	// TouchEvery is how stale the recorded last use may get before a
	// request writes it, so that a page with many requests costs one write
	// per interval, not one per request. 0: one minute.
	TouchEvery time.Duration
	Now        func() time.Time // nil: time.Now
}

const sessionIDBytes = 32

// sessionIDLen is the length of an encoded session ID; anything else is
// refused before touching the store.
var sessionIDLen = base64.RawURLEncoding.EncodedLen(sessionIDBytes)

func (s *Sessions) idle() time.Duration   { return orDefault(s.IdleTimeout, 12*time.Hour) }
func (s *Sessions) maxAge() time.Duration { return orDefault(s.MaxAge, 7*24*time.Hour) }
func (s *Sessions) touchEvery() time.Duration {
	return orDefault(s.TouchEvery, time.Minute)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// expiry is when a session created at created and last used at seen ends.
func (s *Sessions) expiry(created, seen time.Time) time.Time {
	absolute, idle := created.Add(s.maxAge()), seen.Add(s.idle())
	if idle.Before(absolute) {
		return idle
	}
	return absolute
}

// Create starts a session for user. It returns the session ID, which goes
// into the user's cookie and nowhere else, and the stored session, which
// holds the CSRF token for the user's forms.
func (s *Sessions) Create(ctx context.Context, user string) (id string, sess store.Session, err error) {
	if id, err = randomString(sessionIDBytes); err != nil {
		return "", sess, fmt.Errorf("create session: %w", err)
	}
	csrf, err := randomString(32)
	if err != nil {
		return "", sess, fmt.Errorf("create session: %w", err)
	}
	now := s.now()
	sess = store.Session{IDHash: HashSecret(id), User: user, CSRFToken: csrf, CreatedAt: now, LastSeen: now,
		ExpiresAt: s.expiry(now, now)}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return "", store.Session{}, fmt.Errorf("create session: %w", err)
	}
	return id, sess, nil
}

// Lookup returns the live session with that ID and records its use. An
// unknown or expired ID gives ErrUnauthenticated; an expired session is
// deleted on the way.
func (s *Sessions) Lookup(ctx context.Context, id string) (store.Session, error) {
	if len(id) != sessionIDLen {
		return store.Session{}, ErrUnauthenticated
	}
	sess, err := s.Store.Session(ctx, HashSecret(id))
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, ErrUnauthenticated
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("look up session: %w", err)
	}
	now := s.now()
	// Check the policy as configured now as well as the stored expiry, so
	// that shortening the timeouts takes effect for existing sessions.
	if !now.Before(sess.ExpiresAt) || !now.Before(s.expiry(sess.CreatedAt, sess.LastSeen)) {
		if err := s.Store.DeleteSession(ctx, sess.IDHash); err != nil {
			return store.Session{}, fmt.Errorf("delete expired session: %w", err)
		}
		return store.Session{}, ErrUnauthenticated
	}
	if now.Sub(sess.LastSeen) >= s.touchEvery() {
		sess.LastSeen, sess.ExpiresAt = now, s.expiry(sess.CreatedAt, now)
		if err := s.Store.TouchSession(ctx, sess.IDHash, sess.LastSeen, sess.ExpiresAt); err != nil {
			if errors.Is(err, store.ErrNotFound) { // logged out meanwhile
				return store.Session{}, ErrUnauthenticated
			}
			return store.Session{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return sess, nil
}

// Delete ends the session with that ID; an unknown ID is not an error.
func (s *Sessions) Delete(ctx context.Context, id string) error {
	if err := s.Store.DeleteSession(ctx, HashSecret(id)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// Sweep deletes the expired sessions of every user.
func (s *Sessions) Sweep(ctx context.Context) error {
	return s.Store.DeleteExpiredSessions(ctx, s.now())
}
