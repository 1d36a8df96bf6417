package router

import (
	"bytes"
	"encoding/binary"
)

// This file holds the strict HTTP/1.1 head parsers of the router's fast path.
//
// The request parser accepts only a conservative subset of HTTP/1.1, and for
// everything it accepts it agrees with net/http's server on every value the
// proxy relies on: where the head ends, the method and target, the Host, the
// body's length and whether the connection closes. Anything outside that
// subset is refused (ok=false) rather than rejected, so that net/http, which
// gets the untouched bytes, answers exactly as it would without a fast path.
//
// The response parser is the fast path's own reader of an upstream's answer.
// It refuses whatever it cannot relay without ambiguity with an error, which
// the caller turns into a 502, as net/http's Transport would.
//
// Both parsers work on a complete head in a buffer, never allocate, and
// return slices that alias that buffer.

// headEnd returns the length of the head at the start of b: the index just
// past the first CRLF CRLF, or -1 if b holds no complete head yet. from is
// where the caller last stopped searching (the search restarts at from-3
// so a terminator split across reads is found).
//
// A head ends where net/http's line reader finds its first empty line, and
// that reader also takes a bare LF as a line end: so LF LF and LF CR LF end a
// head too. Such a head is always refused by the parsers (they demand CRLF),
// but finding its end means the caller hands it to net/http at once instead
// of waiting for a CRLF CRLF that a client using bare LFs never sends. For a
// head with CRLF line ends only, the result is the index past CRLF CRLF.
func headEnd(b []byte, from int) int {
	i := max(from-3, 0)
	for i < len(b) {
		lf := bytes.IndexByte(b[i:], '\n')
		if lf < 0 {
			return -1
		}
		i += lf + 1
		// i starts a line; the head ends if that line is empty.
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
	return -1
}

type fieldClass uint8

const (
	fieldPass          fieldClass = iota // forward as is
	fieldDrop                            // hop-by-hop, or set by the proxy itself: never forwarded
	fieldCookie                          // request Cookie line: the caller may rewrite it
	fieldHost                            // request Host line (forwarded)
	fieldContentLength                   // Content-Length line (forwarded; dropped in chunked responses: class fieldDrop then)
	fieldDate                            // response Date line (forwarded)
)

// field is one header line of a parsed head; the slices alias the input.
type field struct {
	name  []byte // as sent (not canonicalised)
	value []byte // leading and trailing SP/HT removed
	line  []byte // the whole raw line including its CRLF
	class fieldClass
}

// maxHeadFields is the most header lines a head may have. net/http allows
// more, but a head that fits the fast path's 8 KiB buffer and has more than
// this is not a browser's or an app's: it goes to net/http (request) or is an
// error (response).
const maxHeadFields = 100

// requestHead is a parsed request head; the slices alias the input.
type requestHead struct {
	method, target []byte
	host           []byte  // Host value
	contentLength  int64   // 0 when absent
	close          bool    // Connection: close
	fields         []field // every header line in order; parse reuses the backing array (fields[:0])
}

// parseRequestHead parses head, exactly one request head ending in CRLF CRLF
// (as found by headEnd). ok is false for anything the fast path does not
// handle; h is then unspecified.
func parseRequestHead(head []byte, h *requestHead) (ok bool) {
	*h = requestHead{fields: h.fields[:0]}
	line, n, ok := h1Line(head)
	return ok && h.parseRequestLine(line) && h.parseFields(head[n:]) && h.host != nil
}

// parseFields parses the header lines of a request (b starts after the
// request line) into h.fields, and reports whether the fast path takes them.
func (h *requestHead) parseFields(b []byte) bool {
	sawLength := false
	for {
		h.fields = append(h.fields, field{})
		f := &h.fields[len(h.fields)-1]
		rest, end, ok := h1NextField(b, f)
		switch {
		case !ok:
			return false
		case end:
			h.fields = h.fields[:len(h.fields)-1]
			// Bytes after the empty line would be a second message,
			// which the caller did not mean to pass.
			return len(rest) == 0
		case len(h.fields) > maxHeadFields:
			return false
		}
		if f.class, ok = h.classify(h1Lookup(f.name), f.value, &sawLength); !ok {
			return false
		}
		b = rest
	}
}

// parseRequestLine parses `METHOD SP TARGET SP HTTP/1.1` (line has no CRLF).
func (h *requestHead) parseRequestLine(line []byte) bool {
	m := h1TokenLen(line)
	if m == 0 || m == len(line) || line[m] != ' ' {
		return false
	}
	method := line[:m]
	// CONNECT takes an authority as target and PRI starts HTTP/2: neither
	// is a plain request. Methods are case-sensitive, but an upstream that
	// ignores case must not see a CONNECT the proxy did not, so any case of
	// these names is refused.
	if h1Is(method, "connect") || h1Is(method, "pri") {
		return false
	}
	rest := line[m+1:]
	t := h1TargetLen(rest)
	if t == 0 || t == len(rest) || rest[t] != ' ' || string(rest[t+1:]) != "HTTP/1.1" {
		return false
	}
	h.method, h.target = method, rest[:t]
	return true
}

// h1TargetLen returns the length of the origin-form target at the start of b
// (it ends before the first SP), or 0 when b does not start with one that the
// fast path accepts. The rules make url.ParseRequestURI succeed and leave
// nothing for a server to interpret differently: visible ASCII only, no
// fragment, well-formed percent escapes, and no ';' in the query, which
// httputil.ReverseProxy (net/http's path) would re-encode before forwarding.
func h1TargetLen(b []byte) int {
	if len(b) == 0 || b[0] != '/' {
		return 0
	}
	query := false
	for i := 1; i < len(b); {
		switch c := b[i]; {
		case c == ' ':
			return i
		case c == '%':
			if i+2 >= len(b) || !h1IsHex(b[i+1]) || !h1IsHex(b[i+2]) {
				return 0
			}
			i += 3
			continue
		case c == '?':
			query = true
		case c == ';' && query, c == '#', c < 0x21, c > 0x7e:
			return 0
		}
		i++
	}
	return 0
}

// classify returns the class of a request header line with the given name
// and value, and false when the line puts the request outside the fast path.
// sawLength records a Content-Length line across calls.
func (h *requestHead) classify(name hdrName, value []byte, sawLength *bool) (fieldClass, bool) {
	switch name {
	case hdrHost:
		// One Host made of plain host name bytes: net/http rejects several,
		// and judges unusual ones itself.
		if h.host != nil || len(value) == 0 || !h1AllHostBytes(value) {
			return 0, false
		}
		h.host = value
		return fieldHost, true
	case hdrContentLength:
		n, ok := h1Length(value)
		if !ok || *sawLength {
			return 0, false
		}
		*sawLength = true
		h.contentLength = n
		return fieldContentLength, true
	case hdrCookie:
		return fieldCookie, true
	case hdrConnection:
		return fieldDrop, h.parseConnection(value)
	case hdrContentType:
		return fieldPass, !h1IsGRPC(value)
	case hdrTransferEncoding, hdrUpgrade, hdrExpect, hdrTE, hdrTrailer, hdrHTTP2Settings:
		// Each changes how the message is framed or what the connection
		// becomes; net/http handles them.
		return 0, false
	case hdrKeepAlive, hdrProxyConnection, hdrProxyAuthenticate, hdrProxyAuthorization:
		return fieldDrop, true
	case hdrForwarded, hdrXForwardedFor, hdrXForwardedHost, hdrXForwardedProto:
		// The proxy sends its own X-Forwarded-* and, like ReverseProxy
		// with Rewrite (the net/http path), never a client's Forwarded:
		// a client must not be able to pose as another address.
		return fieldDrop, true
	}
	return fieldPass, true
}

// parseConnection reads a request's Connection value and reports whether
// the fast path handles it: only close and keep-alive may appear, since any
// other token makes the named header hop-by-hop, which the proxy would have
// to drop. Like net/http, tokens compare ASCII case-insensitively and empty
// list elements are ignored.
func (h *requestHead) parseConnection(v []byte) bool {
	for len(v) > 0 {
		var tok []byte
		tok, v = h1NextElement(v)
		switch {
		case len(tok) == 0 || h1Is(tok, "keep-alive"):
		case h1Is(tok, "close"):
			h.close = true
		default:
			return false
		}
	}
	return true
}

// h1IsGRPC reports whether a Content-Type value is gRPC's (not gRPC-Web's),
// which must reach the upstream over h2c. It is isGRPC (the net/http path's
// test) for a value in a buffer; being only a reason to refuse, it also
// ignores case and allows OWS before parameters, as media types do, and the
// caller applies it to every Content-Type line, not only the first.
func h1IsGRPC(v []byte) bool {
	const grpc = "application/grpc"
	if len(v) < len(grpc) || !h1Is(v[:len(grpc)], grpc) {
		return false
	}
	if len(v) == len(grpc) {
		return true
	}
	switch v[len(grpc)] {
	case '+', ';', ' ', '\t':
		return true
	}
	return false
}

// responseHead is a parsed response head; the slices alias the input.
type responseHead struct {
	status        int
	minor         int     // HTTP/1.minor: 0 or 1
	contentLength int64   // -1 when absent (or when chunked)
	chunked       bool    // Transfer-Encoding: chunked
	close         bool    // the upstream connection must not be reused: Connection: close, or HTTP/1.0
	hasDate       bool    // there is a Date line
	fields        []field // reused like requestHead.fields
}

// headError is an error of a malformed response head. Being a string
// constant type, returning one never allocates.
type headError string

func (e headError) Error() string { return string(e) }

const (
	errHeadStatusLine        headError = "malformed status line"
	errHeadLine              headError = "malformed header line"
	errHeadTooManyFields     headError = "too many header lines"
	errHeadTrailing          headError = "bytes after the end of the head"
	errHeadContentLength     headError = "malformed Content-Length"
	errHeadConflictingLength headError = "conflicting Content-Length"
	errHeadTransferEncoding  headError = "unsupported Transfer-Encoding"
	errHeadHTTP10Chunked     headError = "Transfer-Encoding in an HTTP/1.0 response"
	errHeadTrailer           headError = "Trailer names a framing header"
)

// parseResponseHead parses head, exactly one response head ending in CRLF CRLF.
// It returns a descriptive error (e.g. "malformed status line", "unsupported
// Transfer-Encoding", "conflicting Content-Length") for anything malformed.
//
// close is also set when the body can only end with the connection (no
// Content-Length, not chunked, and a status that has a body): net/http's
// Transport says Close then too. For a response to HEAD that costs the
// connection's reuse, which is rare enough not to matter.
//
// contentLength is the header's value whatever the status: the caller must
// still apply RFC 9112's rules that responses to HEAD, 1xx, 204 and 304 have
// no body.
func parseResponseHead(head []byte, h *responseHead) error {
	*h = responseHead{contentLength: -1, fields: h.fields[:0]}
	line, n, ok := h1Line(head)
	if !ok || !h.parseStatusLine(line) {
		return errHeadStatusLine
	}
	var s responseScan
	if err := h.parseFields(head[n:], &s); err != nil {
		return err
	}
	if err := h.frame(&s); err != nil {
		return err
	}
	if s.connections {
		h.applyConnection()
	}
	return nil
}

// parseStatusLine parses `HTTP/1.x SP DIGIT DIGIT DIGIT [SP reason]`.
func (h *responseHead) parseStatusLine(line []byte) bool {
	if len(line) < len("HTTP/1.1 200") || string(line[:len("HTTP/1.")]) != "HTTP/1." || line[8] != ' ' {
		return false
	}
	switch line[7] {
	case '0':
		h.minor, h.close = 0, true // HTTP/1.0 keep-alive is not worth the risk
	case '1':
		h.minor = 1
	default:
		return false
	}
	status := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return false
		}
		status = status*10 + int(c-'0')
	}
	if status < 100 || status > 599 {
		return false
	}
	h.status = status
	if len(line) == 12 {
		return true
	}
	return line[12] == ' ' && h1AllValueBytes(line[13:])
}

// responseScan is what parseFields learns about a response's framing
// headers, for frame to judge once all lines are read.
type responseScan struct {
	length      []byte // the first Content-Length value
	lengths     int    // Content-Length lines
	encodings   int    // Transfer-Encoding lines
	encoding    []byte // the first Transfer-Encoding value
	badTrailer  bool   // a Trailer line names a framing header
	connections bool   // there are Connection lines
}

// parseFields parses the header lines of a response (b starts after the
// status line) into h.fields and s.
func (h *responseHead) parseFields(b []byte, s *responseScan) error {
	for {
		h.fields = append(h.fields, field{})
		f := &h.fields[len(h.fields)-1]
		rest, end, ok := h1NextField(b, f)
		switch {
		case !ok:
			return errHeadLine
		case end && len(rest) != 0:
			return errHeadTrailing
		case end:
			h.fields = h.fields[:len(h.fields)-1]
			return nil
		case len(h.fields) > maxHeadFields:
			return errHeadTooManyFields
		}
		var err error
		if f.class, err = h.classify(h1Lookup(f.name), f.value, s); err != nil {
			return err
		}
		b = rest
	}
}

// classify returns the class of a response header line and records what
// frame needs in s.
func (h *responseHead) classify(name hdrName, value []byte, s *responseScan) (fieldClass, error) {
	switch name {
	case hdrContentLength:
		// net/http accepts repeated Content-Length lines only when their
		// values are the same strings, "5" and "05" differing.
		if _, ok := h1Length(value); !ok {
			return 0, errHeadContentLength
		}
		if s.lengths > 0 && !bytes.Equal(value, s.length) {
			return 0, errHeadConflictingLength
		}
		s.lengths++
		s.length = value
		return fieldContentLength, nil
	case hdrTransferEncoding:
		s.encodings++
		s.encoding = value
		return fieldDrop, nil
	case hdrTrailer:
		s.badTrailer = s.badTrailer || h1NamesFraming(value)
		return fieldPass, nil
	case hdrDate:
		h.hasDate = true
		return fieldDate, nil
	case hdrConnection:
		s.connections = true
		return fieldDrop, nil
	case hdrKeepAlive, hdrProxyConnection, hdrProxyAuthenticate, hdrProxyAuthorization, hdrTE, hdrUpgrade:
		return fieldDrop, nil
	}
	return fieldPass, nil
}

// frame decides how the body is delimited, as net/http's Transport would.
func (h *responseHead) frame(s *responseScan) error {
	if s.encodings > 0 {
		// Only a single "chunked" is unambiguous; HTTP/1.0 has no
		// Transfer-Encoding (RFC 9112 §6.1 calls its framing faulty, and
		// net/http would ignore it and read the body differently).
		if s.encodings > 1 || !h1Is(s.encoding, "chunked") {
			return errHeadTransferEncoding
		}
		if h.minor == 0 {
			return errHeadHTTP10Chunked
		}
		// net/http refuses these trailers only in chunked messages.
		if s.badTrailer {
			return errHeadTrailer
		}
		h.chunked = true
		h.dropLengths()
		return nil
	}
	if s.lengths > 0 {
		h.contentLength, _ = h1Length(s.length)
		return nil
	}
	if h1BodyAllowed(h.status) {
		// The body runs until the upstream closes the connection.
		h.close = true
	}
	return nil
}

// dropLengths drops the Content-Length lines of a chunked response, as
// RFC 9112 §6.3 requires of an intermediary.
func (h *responseHead) dropLengths() {
	for i := range h.fields {
		if h.fields[i].class == fieldContentLength {
			h.fields[i].class = fieldDrop
		}
	}
}

// applyConnection applies the tokens of the Connection lines: close ends
// the connection's use and any other token except keep-alive names a
// hop-by-hop header, dropped. Content-Length, Transfer-Encoding and Date are
// never dropped that way, so the relayed framing stays what was parsed.
func (h *responseHead) applyConnection() {
	for i := range h.fields {
		if h1Lookup(h.fields[i].name) != hdrConnection {
			continue
		}
		for v := h.fields[i].value; len(v) > 0; {
			var tok []byte
			tok, v = h1NextElement(v)
			switch {
			case len(tok) == 0 || h1Is(tok, "keep-alive"):
			case h1Is(tok, "close"):
				h.close = true
			default:
				h.dropNamed(tok)
			}
		}
	}
}

// dropNamed drops the header lines named name, except framing and Date.
func (h *responseHead) dropNamed(name []byte) {
	for i := range h.fields {
		f := &h.fields[i]
		if len(f.name) != len(name) || !h1EqualFold(f.name, name) {
			continue
		}
		switch h1Lookup(f.name) {
		case hdrContentLength, hdrTransferEncoding, hdrDate:
		default:
			f.class = fieldDrop
		}
	}
}

// h1NamesFraming reports whether a Trailer value lists Transfer-Encoding,
// Trailer or Content-Length, which net/http refuses as trailers.
func h1NamesFraming(v []byte) bool {
	for len(v) > 0 {
		var tok []byte
		tok, v = h1NextElement(v)
		switch h1Lookup(tok) {
		case hdrTransferEncoding, hdrTrailer, hdrContentLength:
			return true
		}
	}
	return false
}

// h1BodyAllowed reports whether a response with this status can have a body.
func h1BodyAllowed(status int) bool {
	return status >= 200 && status != 204 && status != 304
}

// h1Line returns the line at the start of b without its CRLF, and the length
// of the line with it. ok is false when there is no LF or it has no CR
// before it. A CR elsewhere is left in line, for the caller's byte checks to
// refuse.
func h1Line(b []byte) (line []byte, n int, ok bool) {
	lf := bytes.IndexByte(b, '\n')
	if lf < 1 || b[lf-1] != '\r' {
		return nil, 0, false
	}
	return b[:lf-1], lf + 1, true
}

// h1NextField parses the header line at the start of b into f (its class
// left to the caller) and returns the bytes after it. end is true when the
// line is the empty one that ends the head. ok is false unless the line ends
// in CRLF, its name is a token directly followed by ':' and its value has
// valid bytes only; so a line that starts with SP or HT (obsolete folding) is
// refused too. f is filled in place because fields are copied a lot
// otherwise, on the hot path.
func h1NextField(b []byte, f *field) (rest []byte, end, ok bool) {
	line, n, ok := h1Line(b)
	if !ok {
		return nil, false, false
	}
	if len(line) == 0 {
		return b[n:], true, true
	}
	name := h1TokenLen(line)
	if name == 0 || name == len(line) || line[name] != ':' || !h1AllValueBytes(line[name+1:]) {
		return nil, false, false
	}
	f.name, f.value, f.line = line[:name], h1TrimOWS(line[name+1:]), b[:n]
	return b[n:], false, true
}

// h1NextElement splits the first element off a comma-separated list and
// returns it without OWS, and the rest after the comma.
func h1NextElement(v []byte) (elem, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return h1TrimOWS(v[:i]), v[i+1:]
	}
	return h1TrimOWS(v), nil
}

// h1TrimOWS returns v without leading and trailing SP and HT.
func h1TrimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// h1Length parses a Content-Length value: 1 to 18 ASCII digits, which
// net/http's strconv.ParseUint reads the same way and which cannot overflow.
func h1Length(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// h1TokenLen returns the length of the run of RFC 9110 tchar bytes at the
// start of b.
func h1TokenLen(b []byte) int {
	for i, c := range b {
		if !h1IsTchar(c) {
			return i
		}
	}
	return len(b)
}

// h1IsTchar reports whether c is an RFC 9110 tchar. The two masks are
// bitmaps of the bytes below 64 and from 64 to 127.
func h1IsTchar(c byte) bool {
	const lo = 1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' |
		1<<'*' | 1<<'+' | 1<<'-' | 1<<'.' | (1<<10-1)<<'0'
	const hi = (1<<26-1)<<('A'-64) | (1<<26-1)<<('a'-64) |
		1<<('^'-64) | 1<<('_'-64) | 1<<('`'-64) | 1<<('|'-64) | 1<<('~'-64)
	switch {
	case c < 64:
		return uint64(lo)>>c&1 != 0
	case c < 128:
		return uint64(hi)>>(c-64)&1 != 0
	}
	return false
}

// h1AllValueBytes reports whether every byte of v may appear in a field
// value (or reason phrase): HT, SP, visible ASCII and obs-text; no other
// control byte and no DEL. Values are most of a head's bytes, so they are
// checked eight at a time; only a word holding a control byte or DEL (a tab,
// if the value is valid) is looked at byte by byte.
func h1AllValueBytes(v []byte) bool {
	for len(v) >= 8 {
		if h1HasControl(binary.LittleEndian.Uint64(v)) && !h1ValueBytes(v[:8]) {
			return false
		}
		v = v[8:]
	}
	return h1ValueBytes(v)
}

// h1HasControl reports whether any of the eight bytes in x is below 0x20 or
// is 0x7f. x-0x20 sets a byte's high bit where the byte was below 0x20 or
// above 0x9f (or took a borrow from a lower byte that was below 0x20), and
// &^x keeps only the bytes below 0x80: so the result is non-zero exactly
// when some byte is below 0x20. The same test for "below 1" on x^0x7f...
// finds a 0x7f.
func h1HasControl(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	del := x ^ 0x7f*ones
	return ((x-0x20*ones)&^x|(del-ones)&^del)&highs != 0
}

// h1ValueBytes is h1AllValueBytes one byte at a time.
func h1ValueBytes(v []byte) bool {
	for _, c := range v {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// h1AllHostBytes reports whether v holds only letters, digits and ".-_:[]",
// enough for host names, IP literals and ports. net/http allows more, but
// such a Host is unusual enough to let net/http judge it.
func h1AllHostBytes(v []byte) bool {
	const lo = (1<<10-1)<<'0' | 1<<'.' | 1<<'-' | 1<<':'
	const hi = (1<<26-1)<<('A'-64) | (1<<26-1)<<('a'-64) |
		1<<('['-64) | 1<<(']'-64) | 1<<('_'-64)
	for _, c := range v {
		switch {
		case c < 64 && uint64(lo)>>c&1 != 0:
		case c >= 64 && c < 128 && uint64(hi)>>(c-64)&1 != 0:
		default:
			return false
		}
	}
	return true
}

// h1IsHex reports whether c is a hexadecimal digit.
func h1IsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// h1Lower returns c in lower case if it is an ASCII letter. Header names
// and tokens fold ASCII letters only: net/http ignores Unicode folding, and
// so must the proxy, or "K" (Kelvin) would match a "k".
func h1Lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// h1Is reports whether b equals lower (which is in lower case) ignoring
// ASCII case.
func h1Is(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		if h1Lower(b[i]) != lower[i] {
			return false
		}
	}
	return true
}

// h1EqualFold reports whether a and b, of equal length, are equal ignoring
// ASCII case.
func h1EqualFold(a, b []byte) bool {
	for i := range len(a) {
		if h1Lower(a[i]) != h1Lower(b[i]) {
			return false
		}
	}
	return true
}

// hdrName identifies the header names the parsers treat specially.
type hdrName uint8

const (
	hdrOther hdrName = iota
	hdrConnection
	hdrContentLength
	hdrContentType
	hdrCookie
	hdrDate
	hdrExpect
	hdrForwarded
	hdrHost
	hdrHTTP2Settings
	hdrKeepAlive
	hdrProxyAuthenticate
	hdrProxyAuthorization
	hdrProxyConnection
	hdrTE
	hdrTrailer
	hdrTransferEncoding
	hdrUpgrade
	hdrXForwardedFor
	hdrXForwardedHost
	hdrXForwardedProto
)

// h1Names lists the names h1Lookup knows, in lower case, by their length:
// indexing by length first keeps the common case (an unremarkable name) to
// at most two short comparisons.
var h1Names = [...][]struct {
	lower string
	id    hdrName
}{
	2:  {{"te", hdrTE}},
	4:  {{"host", hdrHost}, {"date", hdrDate}},
	6:  {{"cookie", hdrCookie}, {"expect", hdrExpect}},
	7:  {{"upgrade", hdrUpgrade}, {"trailer", hdrTrailer}},
	9:  {{"forwarded", hdrForwarded}},
	10: {{"connection", hdrConnection}, {"keep-alive", hdrKeepAlive}},
	12: {{"content-type", hdrContentType}},
	14: {{"content-length", hdrContentLength}, {"http2-settings", hdrHTTP2Settings}},
	15: {{"x-forwarded-for", hdrXForwardedFor}},
	16: {{"x-forwarded-host", hdrXForwardedHost}, {"proxy-connection", hdrProxyConnection}},
	17: {{"transfer-encoding", hdrTransferEncoding}, {"x-forwarded-proto", hdrXForwardedProto}},
	18: {{"proxy-authenticate", hdrProxyAuthenticate}},
	19: {{"proxy-authorization", hdrProxyAuthorization}},
}

// h1Lookup identifies a header name case-insensitively.
func h1Lookup(name []byte) hdrName {
	if len(name) >= len(h1Names) {
		return hdrOther
	}
	for _, n := range h1Names[len(name)] {
		if h1Is(name, n.lower) {
			return n.id
		}
	}
	return hdrOther
}
