package auth

import (
	"errors"
	"fmt"
	"time"
)

// ErrCSRF is returned when a request authenticated by a session cookie
// changes something without the session's CSRF token, or when a login form
// is posted from another site.
var ErrCSRF = errors.New("missing or invalid CSRF token")

// ErrCrossOrigin is returned for a browser's change (POST, PUT, DELETE…)
// sent from a page of another site, which the control plane refuses
// whatever its credentials (http.CrossOriginProtection).
var ErrCrossOrigin = errors.New("cross-origin request refused")

// ErrRateLimited is what a *RateLimitError matches with errors.Is.
var ErrRateLimited = errors.New("too many failed logins")

// ErrLastAdmin is returned when a change would leave no enabled admin user,
// locking everyone out of user management.
var ErrLastAdmin = errors.New("the last enabled admin cannot be removed, demoted or disabled")

// RateLimitError says a login was refused without checking the password
// because of earlier failures, and when to try again.
type RateLimitError struct {
	RetryAfter time.Duration
	// Why says whose failures, finishing "too many failed logins …", e.g.
	// "for this user from this address"; "" says nothing more.
	Why string
}

func (e *RateLimitError) Error() string {
	why := ""
	if e.Why != "" {
		why = " " + e.Why
	}
	return fmt.Sprintf("too many failed logins%s: try again in %s", why, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// InputError is a request the caller can fix: a bad user name, role or
// password. The API answers 400 with its message.
type InputError struct {
	Msg string
}

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}
