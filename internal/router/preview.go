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
	toLive verdict = iota // no valid token: the public path
	toIdle                // valid token in header or cookie
)

// newPreview returns nil when o.PreviewToken is empty.
func newPreview(o Settings) *preview {
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

// match classifies req by its preview header and cookie; links (the query
// parameter) are handled before, by link. It allocates nothing unless a
// token is presented.
func (p *preview) match(req *http.Request) verdict {
	if p == nil {
		return toLive
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
// hands every request with a preview link to net/http before asking.
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
		if !isPreviewKey(k) {
			continue
		}
		if v, err := url.QueryUnescape(v); err == nil && p.valid(v) {
			return true
		}
	}
	return false
}

// link answers a request whose query carries the preview parameter: with
// the right token on a preview host it sets the preview cookie and
// redirects (redirect); otherwise it refuses with a 403 that says why, so
// a person who followed a wrong or misplaced link learns it instead of
// silently getting the live release. The parameter never reaches an app.
func (p *preview) link(w http.ResponseWriter, req *http.Request) {
	ok := p.queryHasToken(req.URL.RawQuery)
	var msg string
	switch {
	case ok && p.isHost(req.Host):
		p.redirect(w, req)
		return
	case !ok:
		msg = "bascule: the preview token in this link is not valid; ask for a current preview link\n"
	case len(p.hosts) == 0:
		msg = "bascule: preview links are off (no preview host is configured); send the header " +
			p.header + " or the cookie " + p.cookie + " instead\n"
	default:
		msg = "bascule: preview links work on the preview host (" + strings.Join(p.hosts, ", ") +
			"), not on this one; there, or here with the header " + p.header + ", you see the idle release\n"
	}
	w.Header().Set("Cache-Control", "no-store")
	writeError(w, http.StatusForbidden, msg)
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
	if q, _ := withoutPreviewParam(u.RawQuery); q != "" {
		return path + "?" + q
	}
	return path
}

// mentionsPreview reports whether a query might carry the preview
// parameter: its name appears in it, or percent-escapes that could spell
// it. It is the fast path's cheap test for handing a request to net/http,
// where withoutPreviewParam decides; a false positive only costs that.
func mentionsPreview[T string | []byte](query T) bool {
	escaped := false
	for i := 0; i < len(query); i++ {
		switch query[i] {
		case '%':
			escaped = true
		case previewQueryParam[0]:
			if hasPrefix(query[i:], previewQueryParam) {
				return true
			}
		}
	}
	if !escaped {
		return false
	}
	dec, err := url.QueryUnescape(string(query)) // rare: allocating is fine
	return err != nil || strings.Contains(dec, previewQueryParam)
}

// hasPrefix is strings.HasPrefix for a string or a byte slice, without the
// conversion that would allocate for the latter.
func hasPrefix[T string | []byte](s T, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i] != prefix[i] {
			return false
		}
	}
	return true
}

// withoutPreviewParam returns raw without the parameters an app would
// decode as bascule_preview (spelt with escapes too: "bascule%5Fpreview"),
// and whether there were any. Kept parameters stay byte for byte as they
// came. Parameters are split at "&" and ";": Go's parser ignores a pair
// with a ";", but other frameworks split there, and the token must reach
// none of them.
func withoutPreviewParam(raw string) (string, bool) {
	if !mentionsPreview(raw) {
		return raw, false
	}
	var kept []string
	found := false
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		if previewPair(part) {
			found = true
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&"), found
}

// previewPair reports whether a query pair, or any ";"-separated piece of
// it, is named bascule_preview once decoded.
func previewPair(part string) bool {
	for piece := range strings.SplitSeq(part, ";") {
		if k, _, _ := strings.Cut(piece, "="); isPreviewKey(k) {
			return true
		}
	}
	return false
}

// isPreviewKey reports whether a raw query key decodes to bascule_preview.
func isPreviewKey(k string) bool {
	if k == previewQueryParam {
		return true
	}
	if !strings.ContainsAny(k, "%+") {
		return false
	}
	dec, err := url.QueryUnescape(k)
	return err == nil && dec == previewQueryParam
}

// stripOut removes from an outgoing request's header what the app must
// never see: the preview header and the stripped cookies, the preview
// cookie among them. The fast path does the same in writeFields.
func (r *Router) stripOut(h http.Header) {
	e := r.edge.Load()
	if e.preview != nil {
		delete(h, e.preview.header)
	}
	for _, name := range e.stripped {
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
