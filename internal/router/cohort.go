package router

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"strconv"
)

// Split sends a sticky share of production to the color that is not live,
// during a progressive go-live. A request's cohort key (see Options) is
// placed in one of Buckets buckets by Options.Bucket, the feature flags'
// bucketing function, with the go-live's Salt: the buckets below Weight go
// to To. A user in at 10 % (Weight 10,000) is still in at 50 %, and after
// a restart, as long as Salt stays.
type Split struct {
	To     Color  `json:"to"`
	Weight uint32 `json:"weight"` // buckets of Buckets that go to To
	Salt   string `json:"salt"`
}

// Buckets is how many buckets a cohort key falls into: the flags' 100,000,
// so that a weight reads as thousandths of a percent.
const Buckets = 100_000

// DefaultCohortCookie names the cookie the router sets to keep a user
// without a cohort key of its own on one side of a split.
const DefaultCohortCookie = "bascule_cohort"

// cohortFlagKey is the flag key under which cohort keys are bucketed, so
// that a go-live's buckets are independent of every flag's.
const cohortFlagKey = "bascule.go-live"

// cohortMaxAge is how long a browser keeps the cohort cookie (a year): a
// user stays on one side of every step of a go-live, and the cookie is
// harmless between go-lives.
const cohortMaxAge = "31536000"

// cohorts is how the router finds a request's cohort key.
type cohorts struct {
	bucket         func(flagKey, salt, key string) uint32
	cookie         string // the router's own cohort cookie
	keyCookie      string // the app's cookie that holds a cohort key, if any
	keyHeader      string // canonical name of the app's header that does, if any
	keyHeaderBytes []byte
}

func newCohorts(o Settings, bucket func(flagKey, salt, key string) uint32) *cohorts {
	c := &cohorts{bucket: bucket, cookie: o.CohortCookie, keyCookie: o.CohortKeyCookie}
	if c.cookie == "" {
		c.cookie = DefaultCohortCookie
	}
	if o.CohortKeyHeader != "" {
		c.keyHeader = textproto.CanonicalMIMEHeaderKey(o.CohortKeyHeader)
		c.keyHeaderBytes = []byte(c.keyHeader)
	}
	return c
}

// splitRule is a snapshot's split, ready for the request path.
type splitRule struct {
	slot   int // of To
	weight uint32
	salt   string
}

// cohortSource is a request as a split reads it: the fast path's parsed
// head, or a net/http request.
type cohortSource interface {
	// cohortKeys returns the value of the app's key (header or cookie) and
	// of the router's cohort cookie, each empty when absent.
	cohortKeys(c *cohorts) (app, own string)
}

// toSplit reports whether a request goes to the split's color. A request
// with no key at all gets a new cohort, returned in set: the caller sets
// it as the cohort cookie on the answer.
func (c *cohorts) toSplit(sp *splitRule, src cohortSource) (in bool, set string) {
	key, own := src.cohortKeys(c)
	if key == "" {
		key = own
	}
	if key == "" {
		key = newCohortID()
		set = key
	}
	return c.bucket(cohortFlagKey, sp.salt, key) < sp.weight, set
}

// newCohortID returns a new user's cohort id. It needs to be unpredictable
// only as much as the cookie that carries it is secret, which is not at
// all: anyone may send any id and pick their side. So it comes from
// math/rand/v2's generator, seeded by the runtime and without a system
// call, where crypto/rand may make one for every first visit.
func newCohortID() string {
	b := make([]byte, 0, 26)
	b = strconv.AppendUint(b, rand.Uint64(), 36)
	b = strconv.AppendUint(b, rand.Uint64(), 36)
	return string(b)
}

// cookieAttrs follow the id in the cohort cookie.
const cookieAttrs = "; Path=/; Max-Age=" + cohortMaxAge + "; HttpOnly; SameSite=Lax"

// setCookie is the Set-Cookie value that gives a browser cohort id.
func (c *cohorts) setCookie(id string) string {
	return c.cookie + "=" + id + cookieAttrs
}

// writeSetCookie writes the Set-Cookie line that gives a browser cohort
// id, piece by piece: the fast path answers every first visit of a split
// with it, and building the string would cost an allocation each time.
func (c *cohorts) writeSetCookie(w *bufio.Writer, id string) {
	w.WriteString("Set-Cookie: ")
	w.WriteString(c.cookie)
	w.WriteByte('=')
	w.WriteString(id)
	w.WriteString(cookieAttrs + "\r\n")
}

// cohortKeys reads the keys from a head parsed by the fast path.
func (h *requestHead) cohortKeys(c *cohorts) (app, own string) {
	for i := range h.fields {
		f := &h.fields[i]
		switch f.class {
		case fieldPass:
			if c.keyHeaderBytes != nil && app == "" && len(f.value) > 0 && bytes.EqualFold(f.name, c.keyHeaderBytes) {
				app = string(f.value)
			}
		case fieldCookie:
			if c.keyCookie != "" && app == "" {
				if v, ok := cookieValue(f.value, c.keyCookie); ok && len(v) > 0 {
					app = string(v)
				}
			}
			if own == "" {
				if v, ok := cookieValue(f.value, c.cookie); ok && len(v) > 0 {
					own = string(v)
				}
			}
		}
	}
	return app, own
}

// stdRequest is a net/http request as a cohortSource.
type stdRequest http.Request

func (r *stdRequest) cohortKeys(c *cohorts) (app, own string) {
	h := r.Header
	if c.keyHeader != "" {
		if v := h[c.keyHeader]; len(v) > 0 && v[0] != "" {
			app = v[0]
		}
	}
	for _, line := range h["Cookie"] {
		if c.keyCookie != "" && app == "" {
			if v, ok := cookieValue(line, c.keyCookie); ok && v != "" {
				app = v
			}
		}
		if own == "" {
			if v, ok := cookieValue(line, c.cookie); ok && v != "" {
				own = v
			}
		}
	}
	return app, own
}

// SetSplit sends the share of production that sp describes to sp.To, the
// color that is not live, and the rest to the live color; nil ends a split
// (everyone to the live color). Requests in flight finish where they
// started; every request after SetSplit returns is routed by the new
// split, so a Drain of a color nothing routes to any more waits for the
// last of them. It returns an error wrapping ErrNoUpstream when sp.To has
// no upstream, and an error when sp.To is the live color, its weight is
// beyond Buckets, or the router has no Options.Bucket.
func (r *Router) SetSplit(sp *Split) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := r.snap.Load().table.clone()
	if sp != nil {
		if err := r.checkSplit(next, *sp); err != nil {
			return err
		}
		cp := *sp
		next.Split = &cp
	} else {
		next.Split = nil
	}
	r.publish(next)
	r.log.Info("split set", "split", sp)
	return nil
}

func (r *Router) checkSplit(t Table, sp Split) error {
	switch _, ok := sp.To.slot(); {
	case !ok:
		return fmt.Errorf("split to %q: %w", sp.To, ErrUnknownColor)
	case sp.To == t.Live:
		return fmt.Errorf("split to %s: it is the live color", sp.To)
	case t.Upstreams[sp.To] == "":
		return fmt.Errorf("split to %s: %w", sp.To, ErrNoUpstream)
	case sp.Weight > Buckets:
		return fmt.Errorf("split to %s: weight %d is more than %d buckets", sp.To, sp.Weight, Buckets)
	case r.bucket == nil:
		return fmt.Errorf("split to %s: the router has no bucketing function (Options.Bucket)", sp.To)
	}
	return nil
}

// compileSplit returns the request path's form of t's split, or nil when
// it routes nothing: no split, or its color has no upstream.
func compileSplit(t Table, ups [2]*colorSet) *splitRule {
	sp := t.Split
	if sp == nil || sp.Weight == 0 || sp.To == t.Live {
		return nil
	}
	i, ok := sp.To.slot()
	if !ok || ups[i] == nil {
		return nil
	}
	return &splitRule{slot: i, weight: sp.Weight, salt: sp.Salt}
}
