package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// streamTokenPeriod is how often the flag stream credential rotates. A
// credential is accepted until the end of the period after the one it was
// issued in, so from one to two periods: long enough for a provider to
// connect after reading the bulk answer, short enough that a URL copied from
// a browser's network tab is soon worthless. An open stream is not cut when
// its credential expires.
const streamTokenPeriod = 5 * time.Minute

// streamTokenScope is signed into every credential, so that a MAC made by
// this key for any other purpose can never pass as one.
const streamTokenScope = "bascule flag stream, format=ofrep\x00"

// streamTokens issues and checks the credential that the OFREP bulk answer
// puts in the flag stream URL it announces: a browser's EventSource cannot
// send the API key in a header, and the API key must never be in a URL
// (URLs end up in logs and browser history).
//
// A credential is "<expiry unix seconds>.<MAC>", the MAC an HMAC-SHA256 of
// the expiry under a random key made at start. It grants exactly one thing:
// reading the OFREP change notifications (version numbers, no flag), until
// it expires. Every caller in one period gets the same credential, so the
// bulk answer, and its ETag, only change when it rotates.
//
// The key lives in memory: a restart invalidates the credentials, and
// several bascule instances do not accept each other's. A provider then gets
// 401 on connecting, and a fresh credential with its next bulk request.
type streamTokens struct {
	key    []byte
	period time.Duration
	now    func() time.Time
	// last is the credential last issued, reused within its period: issue
	// runs on every bulk evaluation.
	last atomic.Pointer[issued]
}

type issued struct {
	expiry int64
	token  string
}

func newStreamTokens() *streamTokens {
	key := make([]byte, 32)
	rand.Read(key) // never fails: crypto/rand crashes the program rather than return an error
	return &streamTokens{key: key, period: streamTokenPeriod, now: time.Now}
}

// issue returns the credential of the current period.
func (t *streamTokens) issue() string {
	p := int64(t.period / time.Second)
	expiry := (t.now().Unix()/p + 2) * p
	if last := t.last.Load(); last != nil && last.expiry == expiry {
		return last.token
	}
	exp := strconv.FormatInt(expiry, 10)
	tok := exp + "." + t.mac(exp)
	t.last.Store(&issued{expiry: expiry, token: tok})
	return tok
}

// valid reports whether tok is a credential this server issued that has
// not expired.
func (t *streamTokens) valid(tok string) bool {
	exp, mac, ok := strings.Cut(tok, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(t.mac(exp))) {
		return false
	}
	expiry, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && t.now().Unix() < expiry
}

func (t *streamTokens) mac(exp string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(streamTokenScope))
	m.Write([]byte(exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
