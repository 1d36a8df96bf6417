package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/google/go-cmp/cmp"
)

// TestAttackerCannotLockOutAdmin: wrong passwords for admin from one
// address do not stop admin logging in from another, at once.
func TestAttackerCannotLockOutAdmin(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	attacker := s.browser("203.0.113.66")
	for i := range 20 {
		attacker.login("alice", "guess"+strconv.Itoa(i))
	}
	if resp := s.browser("10.0.0.1").login("alice", "password-alice"); resp.StatusCode != 204 {
		t.Fatalf("alice's right password from her own address after 20 failures from another = %d (Retry-After %q), want 204",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestLoginBackoffGrows: a guesser who waits as told fails 20 times for
// alice from one address, each wait longer than the last up to 15 minutes;
// alice logs in from her address at once, and her success does not free
// the guesser.
func TestLoginBackoffGrows(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	attacker := s.browser("203.0.113.66")
	var waits []int
	for failures := 0; failures < 20; {
		resp := attacker.login("alice", fmt.Sprintf("guess%d", failures))
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			failures++
		case http.StatusTooManyRequests:
			sec := retryAfter(t, resp)
			waits = append(waits, sec)
			s.clk.Advance(time.Duration(sec) * time.Second)
		default:
			t.Fatalf("guess after %d failures = %d, want 401 or 429", failures, resp.StatusCode)
		}
		if len(waits) > 40 {
			t.Fatalf("more than 40 refusals for 20 failures: waits %v", waits)
		}
	}
	want := []int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900, 900, 900, 900}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("Retry-After seen by the guesser after failures 3 to 19 (-want +got):\n%s", diff)
	}
	if resp := s.browser("10.0.0.1").login("alice", "password-alice"); resp.StatusCode != 204 {
		t.Fatalf("alice from her own address during the guessing = %d, want 204", resp.StatusCode)
	}
	resp := attacker.login("alice", "password-alice")
	if resp.StatusCode != 429 || retryAfter(t, resp) != 900 {
		t.Errorf("the guesser's address right after alice's login = %d, Retry-After %q; want 429, 900: even the right password waits there",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := attacker.login("dave", "wrong"); resp.StatusCode != 401 {
		t.Errorf("the guesser's address for another name = %d, want 401: the backoff is per name and address", resp.StatusCode)
	}
	locks := audit(t, s, "locked_out")
	if len(locks) != 18 || !strings.Contains(locks[len(locks)-1], "alice login locked_out 203.0.113.66: 20 failed logins in a row for this user from this address; next try in 15m0s") {
		t.Errorf("lockouts in the audit log = %d, last %q; want 18 (failures 3 to 20), the last for 20 failures and 15m",
			len(locks), last(locks))
	}
}

// TestLoginTyposAreForgiven: a few typos cost at most a short wait, and
// the right password forgives them.
func TestLoginTyposAreForgiven(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	b := s.browser("10.0.0.1")
	for i := range 3 {
		if resp := b.login("alice", "typo"); resp.StatusCode != 401 {
			t.Fatalf("typo #%d = %d, want 401 at once", i+1, resp.StatusCode)
		}
	}
	if resp := b.login("alice", "password-alice"); resp.StatusCode != 429 || retryAfter(t, resp) != 1 {
		t.Fatalf("right password at once after 3 typos = %d, want 429 for 1s", resp.StatusCode)
	}
	s.clk.Advance(time.Second)
	if resp := b.login("alice", "password-alice"); resp.StatusCode != 204 {
		t.Fatalf("right password a second later = %d, want 204", resp.StatusCode)
	}
	for i := range 3 {
		if resp := b.login("alice", "typo"); resp.StatusCode != 401 {
			t.Fatalf("typo #%d after a login = %d, want 401 at once: the login forgave the earlier ones", i+1, resp.StatusCode)
		}
	}
}

// TestLoginParallelGuessesAreCounted: guesses sent at once do not all pass
// before the first one fails.
func TestLoginParallelGuessesAreCounted(t *testing.T) {
	s := newSite(t, auth.Options{}, false)
	codes := make(chan int, 12)
	var wg sync.WaitGroup
	for i := range cap(codes) {
		wg.Go(func() {
			b := s.browser("203.0.113.66")
			req, _ := http.NewRequest("POST", s.srv.URL+"/login",
				strings.NewReader(fmt.Sprintf("user=alice&password=guess%d", i)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Test-Client", b.client)
			resp, err := b.c.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[401] != 3 || n[429] != 9 {
		t.Errorf("12 guesses at once = %v; want 3 checked (401) and 9 refused unchecked (429)", n)
	}
}

// TestLoginAddressLimit: one address guessing many names is stopped for
// every name, the lockout is audited, and IPv6 addresses count by /64.
func TestLoginAddressLimit(t *testing.T) {
	s := newSite(t, auth.Options{IPLimit: auth.Limit{Max: 3}}, false)
	for i, addr := range []string{"2001:db8::1", "2001:db8::2", "2001:db8::3"} {
		s.browser(addr).login(fmt.Sprintf("u%d", i), "guess")
	}
	resp := s.browser("2001:db8::99").login("alice", "password-alice")
	if resp.StatusCode != 429 || retryAfter(t, resp) != 900 {
		t.Errorf("alice from the same /64 after 3 failures there = %d, Retry-After %q; want 429, 900",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := s.browser("2001:db8:0:1::1").login("alice", "password-alice"); resp.StatusCode != 204 {
		t.Errorf("alice from the next /64 = %d, want 204", resp.StatusCode)
	}
	want := "u2 login locked_out 2001:db8::/64: 3 failed logins in 15m0s from this address, for any user; next try in 15m0s"
	if locks := audit(t, s, "locked_out"); len(locks) != 1 || locks[0] != want {
		t.Errorf("lockouts in the audit log = %q, want [%q]", locks, want)
	}
	s.clk.Advance(15 * time.Minute)
	if resp := s.browser("2001:db8::99").login("alice", "password-alice"); resp.StatusCode != 204 {
		t.Errorf("alice from the /64 15 minutes later = %d, want 204", resp.StatusCode)
	}
}

// TestLoginGlobalCeiling: password spraying from many addresses trips the
// ceiling, which says so in the log and the audit log; then an address
// that failed may not try again, and one that has not still may.
func TestLoginGlobalCeiling(t *testing.T) {
	var logs lockedBuffer
	s := newSite(t, auth.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, false)
	// The defaults: 100 failures in 15 minutes across bascule, 20 per
	// address. 50 addresses guess 2 names each, a common password.
	for i := range 100 {
		addr := fmt.Sprintf("198.51.100.%d", i/2)
		if resp := s.browser(addr).login(fmt.Sprintf("user%d", i), "Summer2026!"); resp.StatusCode != 401 {
			t.Fatalf("spray #%d = %d, want 401: no other limit holds it", i+1, resp.StatusCode)
		}
		s.clk.Advance(time.Second)
	}
	resp, body := s.browser("198.51.100.7").do("POST", "/login", formOf("vic", "password-vic"))
	if resp.StatusCode != 429 || !strings.Contains(body, "across bascule (password spraying?)") {
		t.Errorf("vic's right password from a spraying address = %d %q; want 429 saying why", resp.StatusCode, body)
	}
	// Its failures were 14 and 15s into the spray, 100s ago: it waits out
	// its own window (815s more) or the flood's, whichever ends first; the
	// flood's first failure leaves the window in 800s.
	if got := retryAfter(t, resp); got != 800 {
		t.Errorf("Retry-After for a spraying address = %d, want 800 (when the flood drops under the ceiling)", got)
	}
	if resp := s.browser("10.0.0.1").login("alice", "password-alice"); resp.StatusCode != 204 {
		t.Errorf("alice from an address that has not failed = %d, want 204 despite the spraying", resp.StatusCode)
	}
	typo := s.browser("10.0.0.2")
	if resp := typo.login("dave", "typo"); resp.StatusCode != 401 {
		t.Errorf("dave's typo from an address that has not failed = %d, want 401: it gets its try", resp.StatusCode)
	}
	if resp := typo.login("dave", "password-dave"); resp.StatusCode != 429 {
		t.Errorf("dave again from that address while the ceiling holds = %d, want 429", resp.StatusCode)
	}
	locks := audit(t, s, "locked_out")
	if len(locks) != 1 || !strings.Contains(locks[0], "100 failed logins in 15m0s across bascule, over the ceiling against password spraying") {
		t.Errorf("lockouts in the audit log = %q, want one for the ceiling", locks)
	}
	if out := logs.String(); !strings.Contains(out, "password spraying?") || !strings.Contains(out, `user="(no such user)"`) ||
		strings.Contains(out, "Summer2026") || strings.Contains(out, "user99") {
		t.Errorf("log = %s\nwant the ceiling named, and neither the password nor a name that is no user's", out)
	}
	s.clk.Advance(15 * time.Minute)
	if resp := s.browser("198.51.100.7").login("vic", "password-vic"); resp.StatusCode != 204 {
		t.Errorf("vic from the spraying address 15 minutes later = %d, want 204", resp.StatusCode)
	}
}

func formOf(user, password string) map[string][]string {
	return map[string][]string{"user": {user}, "password": {password}}
}

func retryAfter(t *testing.T, resp *http.Response) int {
	t.Helper()
	n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil {
		t.Fatalf("%d with Retry-After %q, want whole seconds", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	return n
}

// audit returns the audit entries with outcome, oldest first, as
// "actor action outcome detail".
func audit(t *testing.T, s *site, outcome string) []string {
	t.Helper()
	list, err := s.db.ListAudit(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(list) - 1; i >= 0; i-- {
		if e := list[i]; e.Outcome == outcome {
			out = append(out, e.Actor+" "+e.Action+" "+e.Outcome+" "+e.Detail)
		}
	}
	return out
}

func last(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[len(list)-1]
}

// lockedBuffer is a log destination the test reads while the server may
// still write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
