package auth

import (
	"fmt"
	"net/netip"
	"time"
)

// loginLimits decide, before a password is checked, whether a login may be
// tried, from three records of failed logins:
//
//   - per user name and client address, a Backoff: the guesser at one
//     address waits longer and longer for each next try at a name;
//   - per client address, a window (20 failures in 15 minutes by default):
//     one address guessing many names;
//   - across bascule, a window (100 failures in 15 minutes by default):
//     many addresses guessing many names, password spraying. Over it, an
//     address that failed within its window may not try again until the
//     flood ebbs or its own failures age out.
//
// There is no limit per user name alone, on purpose: anyone could then lock
// the admins out by failing their names. A right password from an address
// that has not failed always gets its try, even while the ceiling is
// tripped, so an attacker cannot lock the operators out by tripping it.
// IPv6 addresses are grouped by /64, the block one machine usually holds.
type loginLimits struct {
	pairs                  *Pacer
	addrs                  *Limiter
	global                 *Limiter
	addrLimit, globalLimit Limit
}

// globalKey is the global window's one key.
const globalKey = "*"

// Why a login was refused, as the 429's message finishes "too many failed
// logins …".
const (
	whyPair    = "for this user from this address"
	whyAddress = "from this address"
	whyGlobal  = "across bascule (password spraying?), one of them from this address"
)

func newLoginLimits(opts Options) *loginLimits {
	addr, global := opts.IPLimit, opts.GlobalLimit
	if addr.Max <= 0 {
		addr.Max = 20
	}
	if global.Max <= 0 {
		global.Max = 100
	}
	addr, global = addr.withDefaults(), global.withDefaults()
	return &loginLimits{
		pairs:     NewPacer(opts.Backoff, 0, opts.Now),
		addrs:     NewLimiter(addr, 0, opts.Now),
		global:    NewLimiter(global, 1, opts.Now),
		addrLimit: addr, globalLimit: global,
	}
}

// addressKey groups an IPv6 client by its /64; anything else is its own key.
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Is6() || ip.Is4In6() {
		return addr
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// pairKey joins a client address and a user name; a client address never
// holds a "|", so no two pairs share a key.
func pairKey(name, addr string) string { return addressKey(addr) + "|" + name }

// admit decides whether name may try to log in from addr, and returns a
// *RateLimitError if not. An admitted attempt counts as a failure of the
// pair until succeeded says otherwise.
func (l *loginLimits) admit(name, addr string) error {
	refusal, refused := &RateLimitError{}, false
	refuse := func(wait time.Duration, why string) {
		if !refused || wait > refusal.RetryAfter {
			refusal.RetryAfter, refusal.Why = wait, why
		}
		refused = true
	}
	ak := addressKey(addr)
	if wait, ok := l.addrs.Check(ak); !ok {
		refuse(wait, whyAddress)
	}
	if flood, ok := l.global.Check(globalKey); !ok {
		if n, clear := l.addrs.Recent(ak); n > 0 {
			refuse(min(flood, clear), whyGlobal)
		}
	}
	if _, wait := l.pairs.Failures(pairKey(name, addr)); wait > 0 {
		refuse(wait, whyPair)
	}
	if !refused {
		// Failures only read; Try checks again and counts in one step, so
		// that attempts sent in parallel cannot all pass before one fails.
		wait, ok := l.pairs.Try(pairKey(name, addr))
		if ok {
			return nil
		}
		refuse(wait, whyPair)
	}
	refusal.RetryAfter = max(refusal.RetryAfter, time.Second)
	return refusal
}

// lockout is a limit that a failed login has just reached.
type lockout struct {
	global bool          // the ceiling across bascule, not one address's limit
	detail string        // for the audit log and the operator's log
	wait   time.Duration // until the next try
}

// failed records a wrong password for name from addr and returns the
// lockouts it starts.
func (l *loginLimits) failed(name, addr string) []lockout {
	var out []lockout
	if n, wait := l.pairs.Failures(pairKey(name, addr)); wait > 0 {
		out = append(out, lockout{wait: wait,
			detail: fmt.Sprintf("%s: %s in a row for this user from this address; next try in %s", addr, failedLogins(n),
				wait.Round(time.Second))})
	}
	ak := addressKey(addr)
	if l.addrs.Fail(ak) {
		wait, _ := l.addrs.Check(ak)
		out = append(out, lockout{wait: wait, detail: fmt.Sprintf("%s: %d failed logins in %s from this address, for any user; next try in %s",
			ak, l.addrLimit.Max, l.addrLimit.Window, wait.Round(time.Second))})
	}
	if l.global.Fail(globalKey) {
		wait, _ := l.global.Check(globalKey)
		out = append(out, lockout{global: true, wait: wait, detail: fmt.Sprintf(
			"%d failed logins in %s across bascule, over the ceiling against password spraying: until fewer fail, an address with a failed login in the last %s may not try again",
			l.globalLimit.Max, l.globalLimit.Window, l.addrLimit.Window)})
	}
	return out
}

func failedLogins(n int) string {
	if n == 1 {
		return "1 failed login"
	}
	return fmt.Sprintf("%d failed logins", n)
}

// succeeded forgives the pair's failures after the right password.
func (l *loginLimits) succeeded(name, addr string) { l.pairs.Reset(pairKey(name, addr)) }
