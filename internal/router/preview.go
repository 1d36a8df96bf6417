package router

import (
	"bytes"
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
	token       string
	header      string   // canonical header name
	headerBytes []byte   // header, for the fast path's comparisons
	cookie      string   // cookie name
	hosts       []string // lower case, no port, no trailing dot
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
	p.headerBytes = []byte(p.header)
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

// matchHead is match for a request head parsed by the fast path, which
// hands preview links (toRedirect) to net/http before asking.
func (p *preview) matchHead(h *requestHead) verdict {
	if p == nil {
		return toLive
	}
	for i := range h.fields {
		f := &h.fields[i]
		switch f.class {
		case fieldPass:
			if bytes.EqualFold(f.name, p.headerBytes) && p.validBytes(f.value) {
				return toIdle
			}
		case fieldCookie:
			if v, ok := cookieValue(f.value, p.cookie); ok && p.validBytes(v) {
				return toIdle
			}
		}
	}
	return toLive
}

// valid compares a presented token with the configured one in constant time
// (for equal lengths; the length itself is not secret enough to matter).
func (p *preview) valid(v string) bool { return validToken(v, p.token) }

// validBytes is valid for a value still in a read buffer.
func (p *preview) validBytes(v []byte) bool { return validToken(v, p.token) }

// validToken compares v with token in constant time for equal lengths.
func validToken[T string | []byte](v T, token string) bool {
	if len(v) != len(token) {
		return false
	}
	var diff byte
	for i := 0; i < len(v); i++ {
		diff |= v[i] ^ token[i]
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

// stripOut removes from an outgoing request's header what the app must
// never see: the preview header and the stripped cookies, the preview
// cookie among them. The fast path does the same in writeFields.
func (r *Router) stripOut(h http.Header) {
	if r.preview != nil {
		delete(h, r.preview.header)
	}
	for _, name := range r.stripped {
		stripCookie(h, name)
	}
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
func cookieValue[T string | []byte](line T, name string) (T, bool) {
	for len(line) > 0 {
		end := 0
		for end < len(line) && line[end] != ';' {
			end++
		}
		part := trimOWS(line[:end])
		if end < len(line) {
			end++
		}
		line = line[end:]
		eq := 0
		for eq < len(part) && part[eq] != '=' {
			eq++
		}
		if eq == len(part) || string(part[:eq]) != name {
			continue
		}
		v := part[eq+1:]
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return v, true
	}
	return line[:0], false
}

// trimOWS drops leading and trailing spaces and tabs, as strings.TrimSpace
// does for the cookie separators browsers send.
func trimOWS[T string | []byte](s T) T {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

// normalizeHost lower-cases host and drops any port and trailing dot.
func normalizeHost(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && i > strings.LastIndexByte(host, ']') {
		host = host[:i]
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
