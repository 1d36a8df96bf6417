package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bascule/bascule/internal/store"
)

// UserStore is what Users persists: users, and their sessions, which a
// password change or a disabled account ends.
type UserStore interface {
	store.Users
	store.Sessions
}

// Users manages the people who log in: their roles and passwords. Set Store;
// every other field's zero value works. Its methods are safe for
// concurrent use.
type Users struct {
	Store  UserStore
	Params PasswordParams   // cost of new hashes; zero: the defaults
	Now    func() time.Time // nil: time.Now
	// MaxConcurrentHashes bounds the argon2 computations running at once,
	// each of which takes Params.MemoryKiB of memory, so a burst of logins
	// from many addresses queues instead of exhausting memory. 0: GOMAXPROCS.
	MaxConcurrentHashes int

	once  sync.Once
	slots chan struct{}
	dummy string // compared against when the user does not exist

	// admins serialises the changes that could remove the last admin, so
	// two concurrent demotions cannot both pass the check.
	admins sync.Mutex
}

// UserChange is an edit of a user; empty fields stay as they are.
type UserChange struct {
	Role     string `json:"role,omitempty"`
	Password string `json:"password,omitempty"`
	Disabled *bool  `json:"disabled,omitempty"`
}

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// Password length bounds, in characters. The upper bound only stops
// absurd inputs; argon2 itself does not care.
const (
	minPassword = 8
	maxPassword = 1024
)

func (u *Users) init() {
	u.once.Do(func() {
		n := u.MaxConcurrentHashes
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		u.slots = make(chan struct{}, n)
		// A failure here only makes unknown-user logins faster than
		// known-user ones; VerifyPassword then fails on the empty hash.
		u.dummy, _ = HashPassword("not a password", u.Params)
	})
}

func (u *Users) now() time.Time {
	if u.Now != nil {
		return u.Now().UTC()
	}
	return time.Now().UTC()
}

// acquire takes one hashing slot, or gives up when ctx ends.
func (u *Users) acquire(ctx context.Context) (release func(), err error) {
	u.init()
	select {
	case u.slots <- struct{}{}:
		return func() { <-u.slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to hash a password: %w", ctx.Err())
	}
}

func (u *Users) hash(ctx context.Context, password string) (string, error) {
	release, err := u.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password, u.Params)
}

// GeneratePassword returns a random password with 128 bits of entropy, for
// the first admin and for users added without one.
func GeneratePassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func validateName(name string) error {
	if !userNameRE.MatchString(name) {
		return inputErrorf("user name %q: want 1-64 lowercase letters, digits, '.', '_', '@', '-', starting with a letter or digit", name)
	}
	return nil
}

func validatePassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < minPassword || n > maxPassword {
		return inputErrorf("password: want %d to %d characters, got %d", minPassword, maxPassword, n)
	}
	return nil
}

// validateRole checks a user's role. The evaluator role, which may only
// evaluate flags, is for the API tokens of applications, and the router
// role for those of routers, not for people.
func validateRole(role string) error {
	if !ValidRole(role) || role == store.RoleEvaluator || role == store.RoleRouter {
		return inputErrorf("role %q: want viewer, deployer or admin", role)
	}
	return nil
}

func validateTokenRole(role string) error {
	if !ValidRole(role) {
		return inputErrorf("role %q: want evaluator, router, viewer, deployer or admin", role)
	}
	return nil
}

// Create adds a user. It returns an *InputError for a bad name, role or
// password, and wraps store.ErrConflict if the name is taken.
func (u *Users) Create(ctx context.Context, name, role, password string) (store.User, error) {
	for _, err := range []error{validateName(name), validateRole(role), validatePassword(password)} {
		if err != nil {
			return store.User{}, err
		}
	}
	h, err := u.hash(ctx, password)
	if err != nil {
		return store.User{}, err
	}
	usr := store.User{Name: name, Role: role, PasswordHash: h, CreatedAt: u.now()}
	if err := u.Store.CreateUser(ctx, &usr); err != nil {
		return store.User{}, fmt.Errorf("create user: %w", err)
	}
	return usr, nil
}

// List returns all users ordered by name.
func (u *Users) List(ctx context.Context) ([]store.User, error) {
	return u.Store.ListUsers(ctx)
}

// Verify returns the user if password is theirs. A wrong password, an
// unknown or a disabled user all give ErrUnauthenticated after the same
// amount of work, so the answer's timing does not tell which names exist.
func (u *Users) Verify(ctx context.Context, name, password string) (store.User, error) {
	release, err := u.acquire(ctx)
	if err != nil {
		return store.User{}, err
	}
	defer release()
	usr, err := u.Store.User(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("verify password: %w", err)
	}
	encoded := usr.PasswordHash
	if err != nil {
		encoded = u.dummy
	}
	ok, herr := VerifyPassword(encoded, password)
	if err == nil && herr != nil {
		return store.User{}, fmt.Errorf("verify password of %s: %w", name, herr)
	}
	if err != nil || !ok || usr.DisabledAt != nil {
		return store.User{}, ErrUnauthenticated
	}
	return usr, nil
}

// Update changes a user's role, password or disabled state. A new password
// or disabling the user ends all their sessions. It returns ErrLastAdmin
// rather than leave no enabled admin, and wraps store.ErrNotFound for an
// unknown user.
func (u *Users) Update(ctx context.Context, name string, ch UserChange) (store.User, error) {
	if ch.Role != "" {
		if err := validateRole(ch.Role); err != nil {
			return store.User{}, err
		}
	}
	var hash string
	if ch.Password != "" {
		if err := validatePassword(ch.Password); err != nil {
			return store.User{}, err
		}
		var err error
		if hash, err = u.hash(ctx, ch.Password); err != nil {
			return store.User{}, err
		}
	}
	u.admins.Lock()
	defer u.admins.Unlock()
	usr, err := u.Store.User(ctx, name)
	if err != nil {
		return store.User{}, fmt.Errorf("update user: %w", err)
	}
	next := applyChange(usr, ch, hash, u.now())
	if isAdmin(usr) && !isAdmin(next) {
		if err := u.keepAnAdmin(ctx, name); err != nil {
			return store.User{}, err
		}
	}
	if err := u.Store.UpdateUser(ctx, next); err != nil {
		return store.User{}, fmt.Errorf("update user: %w", err)
	}
	if hash != "" || (usr.DisabledAt == nil && next.DisabledAt != nil) {
		if err := u.Store.DeleteUserSessions(ctx, name); err != nil {
			return next, fmt.Errorf("end sessions of %s: %w", name, err)
		}
	}
	return next, nil
}

func applyChange(usr store.User, ch UserChange, hash string, now time.Time) store.User {
	if ch.Role != "" {
		usr.Role = ch.Role
	}
	if hash != "" {
		usr.PasswordHash = hash
	}
	if ch.Disabled != nil {
		switch {
		case *ch.Disabled && usr.DisabledAt == nil:
			usr.DisabledAt = &now
		case !*ch.Disabled:
			usr.DisabledAt = nil
		}
	}
	return usr
}

func isAdmin(u store.User) bool { return u.Role == store.RoleAdmin && u.DisabledAt == nil }

// Delete removes a user and their sessions. It returns ErrLastAdmin rather
// than remove the last enabled admin, and wraps store.ErrNotFound for an
// unknown user.
func (u *Users) Delete(ctx context.Context, name string) error {
	u.admins.Lock()
	defer u.admins.Unlock()
	usr, err := u.Store.User(ctx, name)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if isAdmin(usr) {
		if err := u.keepAnAdmin(ctx, name); err != nil {
			return err
		}
	}
	if err := u.Store.DeleteUser(ctx, name); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// keepAnAdmin returns ErrLastAdmin unless an enabled admin other than
// name exists.
func (u *Users) keepAnAdmin(ctx context.Context, name string) error {
	all, err := u.Store.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	for _, o := range all {
		if o.Name != name && isAdmin(o) {
			return nil
		}
	}
	return ErrLastAdmin
}
