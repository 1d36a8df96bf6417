package router

import (
	"crypto/subtle"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// previewQueryParam carries the token on a preview host's first visit.
const previewQueryParam = "bascule_preview"

// preview decides whether a request previews the idle color. A nil *preview
// means preview is disabled and matches nothing.
type preview struct {
	token  string
	header string   // canonical header name
	cookie string   // cookie name
	hosts  []string // lower case, no port, no trailing dot
}

// verdict is the outcome of preview matching.
type verdict uint8

const (
	toLive     verdict = iota // no valid token: the public path
	toIdle                    // valid token in header or cookie
	toRedirect                // valid token in a preview host's query: set cookie, redirect
)

// newPreview returns nil when o.PreviewToken is empty.
func newPreview(o Options) *preview {
	if o.PreviewToken == "" {
		return nil
	}
	p := &preview{
		token:  o.PreviewToken,
		header: textproto.CanonicalMIMEHeaderKey(o.PreviewHeader),
		cookie: o.PreviewCookie,
	}
	if o.PreviewHeader == "" {
		p.header = "X-Bascule-Preview"
	}
	if p.cookie == "" {
		p.cookie = "bascule_preview"
	}
	for _, h := range o.PreviewHosts {
		if h = normalizeHost(h); h != "" {
			p.hosts = append(p.hosts, h)
		}
	}
	return p
}

// match classifies req. It allocates nothing unless a token is presented.
func (p *preview) match(req *http.Request) verdict {
	if p == nil {
		return toLive
	}
	if len(p.hosts) > 0 && strings.Contains(req.URL.RawQuery, previewQueryParam) &&
		p.isHost(req.Host) && p.queryHasToken(req.URL.RawQuery) {
		return toRedirect
	}
	for _, v := range req.Header[p.header] {
		if p.valid(v) {
			return toIdle
		}
	}
	for _, line := range req.Header["Cookie"] {
		if v, ok := cookieValue(line, p.cookie); ok && p.valid(v) {
			return toIdle
		}
	}
	return toLive
}

// valid compares a presented token with the configured one in constant time
// (for equal lengths; the length itself is not secret enough to matter).
func (p *preview) valid(v string) bool {
	if len(v) != len(p.token) {
		return false
	}
	var diff byte
	for i := 0; i < len(v); i++ {
		diff |= v[i] ^ p.token[i]
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}

// isHost reports whether the request's Host, port stripped, is a preview host.
func (p *preview) isHost(host string) bool {
	host = normalizeHost(host)
	for _, h := range p.hosts {
		if h == host {
			return true
		}
	}
	return false
}

// queryHasToken reports whether raw has bascule_preview=<token>.
func (p *preview) queryHasToken(raw string) bool {
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k != previewQueryParam {
			continue
		}
		if v, err := url.QueryUnescape(v); err == nil && p.valid(v) {
			return true
		}
	}
	return false
}

// redirect answers 303 to the same URL without the token and sets the
// preview cookie, so the browser keeps previewing without the token in view.
func (p *preview) redirect(w http.ResponseWriter, req *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     p.cookie,
		Value:    p.token,
		Path:     "/",
		HttpOnly: true,
		Secure:   req.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", cleanLocation(req.URL))
	w.WriteHeader(http.StatusSeeOther)
}

// cleanLocation is u's path and query without the preview parameter. Leading
// slashes are collapsed so the result can never be a protocol-relative URL
// pointing at another host.
func cleanLocation(u *url.URL) string {
	path := "/" + strings.TrimLeft(u.EscapedPath(), "/")
	var kept []string
	for part := range strings.SplitSeq(u.RawQuery, "&") {
		if k, _, _ := strings.Cut(part, "="); part != "" && k != previewQueryParam {
			kept = append(kept, part)
		}
	}
	if len(kept) == 0 {
		return path
	}
	return path + "?" + strings.Join(kept, "&")
}

// strip removes the preview header and cookie from an outgoing request so
// the app never sees the token.
func (p *preview) strip(h http.Header) {
	if p == nil {
		return
	}
	delete(h, p.header)
	stripCookie(h, p.cookie)
}

// stripCookie removes cookie name from h's Cookie lines. It allocates only
// when the cookie is there.
func stripCookie(h http.Header, name string) {
	lines := h["Cookie"]
	for i, line := range lines {
		if _, ok := cookieValue(line, name); ok {
			h["Cookie"] = withoutCookie(lines, i, name)
			return
		}
	}
}

// withoutCookie rebuilds the Cookie lines from index i on without name.
func withoutCookie(lines []string, i int, name string) []string {
	out := append([]string(nil), lines[:i]...)
	for _, line := range lines[i:] {
		var kept []string
		for part := range strings.SplitSeq(line, ";") {
			if n, _, _ := strings.Cut(strings.TrimSpace(part), "="); n != name && strings.TrimSpace(part) != "" {
				kept = append(kept, strings.TrimSpace(part))
			}
		}
		if len(kept) > 0 {
			out = append(out, strings.Join(kept, "; "))
		}
	}
	return out
}

// cookieValue finds cookie name in one Cookie header line without
// allocating, unquoting a quoted value.
func cookieValue(line, name string) (string, bool) {
	for len(line) > 0 {
		var part string
		part, line, _ = strings.Cut(line, ";")
		part = strings.TrimSpace(part)
		n, v, ok := strings.Cut(part, "=")
		if !ok || n != name {
			continue
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return v, true
	}
	return "", false
}

// normalizeHost lower-cases host and drops any port and trailing dot.
func normalizeHost(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && i > strings.LastIndexByte(host, ']') {
		host = host[:i]
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
