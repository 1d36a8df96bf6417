package router

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// This file tests the fast path's head parsers. The fuzz tests use net/http
// itself as the oracle: whatever the fast path accepts, net/http must read
// the same way.

// reqHead builds a request head from a request line and header lines.
func reqHead(line string, fields ...string) string {
	var b strings.Builder
	b.WriteString(line + "\r\n")
	for _, f := range fields {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// plainGet is a minimal valid request head with extra header lines.
func plainGet(fields ...string) string {
	return reqHead("GET / HTTP/1.1", append([]string{"Host: example.com"}, fields...)...)
}

// repeatField returns n header lines named X-N.
func repeatField(n int) []string {
	fields := make([]string, n)
	for i := range fields {
		fields[i] = "X-N: v"
	}
	return fields
}

func TestHeadEnd(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	tests := []struct {
		name string
		in   string
		from int
		want int
	}{
		{"empty", "", 0, -1},
		{"request line only", "GET / HTTP/1.1\r\n", 0, -1},
		{"complete", get, 0, len(get)},
		{"body follows", get + "hello", 0, len(get)},
		{"second head follows", get + get, 0, len(get)},
		{"terminator cut after CRLF CR", get[:len(get)-1], 0, -1},
		{"terminator cut after CRLF", get[:len(get)-2], 0, -1},
		{"resumed before terminator", get, len(get) - 2, len(get)},
		{"resumed at end", get, len(get), len(get)},
		{"resumed from zero lookback", get, 2, len(get)},
		{"from past the end", get, len(get) + 10, -1},
		{"negative from", get, -5, len(get)},
		{"bare LF LF", "GET / HTTP/1.1\nHost: a\n\nbody", 0, len("GET / HTTP/1.1\nHost: a\n\n")},
		{"LF CR LF", "GET / HTTP/1.1\nHost: a\n\r\nbody", 0, len("GET / HTTP/1.1\nHost: a\n\r\n")},
		{"CRLF LF", "GET / HTTP/1.1\r\nHost: a\r\n\nbody", 0, len("GET / HTTP/1.1\r\nHost: a\r\n\n")},
		{"CR CR LF is not empty", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 0, -1},
		{"lone CRs", "GET / HTTP/1.1\r\r\r\r", 0, -1},
		{"empty first line", "\r\n\r\n", 0, 4},
		{"LF first", "\n\n", 0, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := headEnd([]byte(tc.in), tc.from); got != tc.want {
				t.Errorf("headEnd(%q, %d) = %d, want %d", tc.in, tc.from, got, tc.want)
			}
		})
	}
}

// TestHeadEndResumes checks that a search resumed where the last one stopped
// finds the same end as one over the whole buffer, wherever reads split it.
func TestHeadEndResumes(t *testing.T) {
	for _, in := range []string{
		plainGet("X: y") + "body",
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\r\nbody",
		"GET / HTTP/1.1\nHost: a\n\nbody",
	} {
		checkHeadEndResumes(t, []byte(in))
	}
}

// checkHeadEndResumes checks headEnd's from contract at the splits of b: at
// every one for a short b, else at some and at all near the head's end.
func checkHeadEndResumes(t testing.TB, b []byte) {
	want := headEnd(b, 0)
	for k := 0; k <= len(b); k++ {
		if k > 256 && k%(len(b)/16+1) != 0 && (k < want-8 || k > want+8) {
			continue
		}
		if headEnd(b[:k], 0) >= 0 {
			continue
		}
		if got := headEnd(b, k); got != want {
			t.Fatalf("headEnd(%q, %d) = %d, want %d", b, k, got, want)
		}
	}
}

// reqWant is what a request head parses to.
type reqWant struct {
	method, target, host string
	contentLength        int64
	close                bool
	classes              []fieldClass
}

// acceptedRequests are request heads the fast path takes, with what they
// parse to.
func acceptedRequests() []struct {
	name string
	head string
	want reqWant
} {
	host := reqWant{method: "GET", target: "/", host: "example.com", classes: []fieldClass{fieldHost}}
	with := func(w reqWant, f func(*reqWant)) reqWant { f(&w); return w }
	classes := func(c ...fieldClass) reqWant {
		return with(host, func(w *reqWant) { w.classes = append([]fieldClass{fieldHost}, c...) })
	}
	return []struct {
		name string
		head string
		want reqWant
	}{
		{"minimal", plainGet(), host},
		{"host first letter case", reqHead("GET / HTTP/1.1", "hOST: example.com"), host},
		{"host with port", reqHead("GET / HTTP/1.1", "Host: example.com:8080"),
			with(host, func(w *reqWant) { w.host = "example.com:8080" })},
		{"host IPv6", reqHead("GET / HTTP/1.1", "Host: [::1]:80"),
			with(host, func(w *reqWant) { w.host = "[::1]:80" })},
		{"host underscore", reqHead("GET / HTTP/1.1", "Host:my_host-1.internal"),
			with(host, func(w *reqWant) { w.host = "my_host-1.internal" })},
		{"host OWS", reqHead("GET / HTTP/1.1", "Host: \t example.com \t"), host},
		{"lower-case method", reqHead("get / HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.method = "get" })},
		{"extension method", reqHead("M-SEARCH / HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.method = "M-SEARCH" })},
		{"method starting like CONNECT", reqHead("CONNECTX / HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.method = "CONNECTX" })},
		{"method starting like PRI", reqHead("PRIX / HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.method = "PRIX" })},
		{"target with query", reqHead("GET /a/b?c=d&e=%20f HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.target = "/a/b?c=d&e=%20f" })},
		{"target sub-delims", reqHead("GET /!$&'()*+,=:@~-._ HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.target = "/!$&'()*+,=:@~-._" })},
		{"target semicolon in path", reqHead("GET /a;b=c?d HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.target = "/a;b=c?d" })},
		{"target empty query", reqHead("GET /? HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.target = "/?" })},
		{"target double slash", reqHead("GET //evil.example/x HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.target = "//evil.example/x" })},
		{"target second question mark", reqHead("GET /a?b?c HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.target = "/a?b?c" })},
		{"target visible ASCII", reqHead("GET /\"<>\\^`{|}[] HTTP/1.1", "Host: example.com"),
			with(host, func(w *reqWant) { w.target = "/\"<>\\^`{|}[]" })},
		{"content length", reqHead("POST /upload HTTP/1.1", "Host: example.com", "Content-Length: 5"),
			reqWant{"POST", "/upload", "example.com", 5, false, []fieldClass{fieldHost, fieldContentLength}}},
		{"content length zero", plainGet("content-length: 0"), classes(fieldContentLength)},
		{"content length leading zeros", plainGet("Content-Length: 007"),
			with(classes(fieldContentLength), func(w *reqWant) { w.contentLength = 7 })},
		{"content length 18 digits", plainGet("Content-Length: 999999999999999999"),
			with(classes(fieldContentLength), func(w *reqWant) { w.contentLength = 999999999999999999 })},
		{"content length OWS", plainGet("Content-Length:\t12 "),
			with(classes(fieldContentLength), func(w *reqWant) { w.contentLength = 12 })},
		{"connection close", plainGet("Connection: close"),
			with(classes(fieldDrop), func(w *reqWant) { w.close = true })},
		{"connection keep-alive", plainGet("Connection: keep-alive"), classes(fieldDrop)},
		{"connection list any case", plainGet("Connection: Keep-Alive, CLOSE"),
			with(classes(fieldDrop), func(w *reqWant) { w.close = true })},
		{"connection empty elements", plainGet("Connection: , ,\tclose ,,"),
			with(classes(fieldDrop), func(w *reqWant) { w.close = true })},
		{"connection empty", plainGet("Connection:"), classes(fieldDrop)},
		{"connection two lines", plainGet("Connection: keep-alive", "connection: close"),
			with(classes(fieldDrop, fieldDrop), func(w *reqWant) { w.close = true })},
		{"cookie", plainGet("Cookie: a=b; c=d", "cookie: e=f"), classes(fieldCookie, fieldCookie)},
		{"hop-by-hop dropped", plainGet("Keep-Alive: timeout=5", "Proxy-Connection: keep-alive",
			"Proxy-Authenticate: Basic", "Proxy-Authorization: Basic eA=="),
			classes(fieldDrop, fieldDrop, fieldDrop, fieldDrop)},
		{"forwarding dropped", plainGet("X-Forwarded-For: 6.6.6.6", "x-forwarded-host: evil",
			"X-FORWARDED-PROTO: https", "Forwarded: for=6.6.6.6"),
			classes(fieldDrop, fieldDrop, fieldDrop, fieldDrop)},
		{"near names pass", plainGet("X-Forwarded: a", "X-Forwarded-Port: 1", "Hosts: a", "Content-Lengths: 1",
			"Transfer-Encodings: chunked", "Connections: upgrade", "T: a", "Tea: b"),
			classes(fieldPass, fieldPass, fieldPass, fieldPass, fieldPass, fieldPass, fieldPass, fieldPass)},
		{"content types", plainGet("Content-Type: application/grpc-web", "Content-Type: application/json",
			"Content-Type: application/grp"),
			classes(fieldPass, fieldPass, fieldPass)},
		{"value bytes", plainGet("X-A: \x80\xff caf\xc3\xa9 \t!~", "X-B:", "X-C: a  \t b"),
			classes(fieldPass, fieldPass, fieldPass)},
		{"name tchars", plainGet("!#$%&'*+-.^_`|~09azAZ: v"), classes(fieldPass)},
		{"100 lines", plainGet(repeatField(99)...),
			with(host, func(w *reqWant) {
				for range 99 {
					w.classes = append(w.classes, fieldPass)
				}
			})},
	}
}

func TestParseRequestHeadAccepts(t *testing.T) {
	for _, tc := range acceptedRequests() {
		t.Run(tc.name, func(t *testing.T) {
			var h requestHead
			if !parseRequestHead([]byte(tc.head), &h) {
				t.Fatalf("parseRequestHead(%q) refused", tc.head)
			}
			got := reqWant{string(h.method), string(h.target), string(h.host), h.contentLength, h.close, nil}
			for _, f := range h.fields {
				got.classes = append(got.classes, f.class)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseRequestHead(%q)\n got %+v\nwant %+v", tc.head, got, tc.want)
			}
			checkRequestHead(t, []byte(tc.head+"body"))
		})
	}
}

// refusedRequests are request heads that must go to net/http.
func refusedRequests() []struct{ name, head string } {
	return []struct{ name, head string }{
		// The request line.
		{"empty request line", reqHead("", "Host: example.com")},
		{"double space", reqHead("GET  / HTTP/1.1", "Host: example.com")},
		{"trailing space", reqHead("GET / HTTP/1.1 ", "Host: example.com")},
		{"leading space", reqHead(" GET / HTTP/1.1", "Host: example.com")},
		{"tab separator", reqHead("GET\t/ HTTP/1.1", "Host: example.com")},
		{"tab before version", reqHead("GET /\tHTTP/1.1", "Host: example.com")},
		{"no version", reqHead("GET /", "Host: example.com")},
		{"empty method", reqHead(" / HTTP/1.1", "Host: example.com")},
		{"method not a token", reqHead("G@T / HTTP/1.1", "Host: example.com")},
		{"method obs-text", reqHead("G\xc3\x89T / HTTP/1.1", "Host: example.com")},
		{"CONNECT authority", reqHead("CONNECT example.com:443 HTTP/1.1", "Host: example.com")},
		{"CONNECT path", reqHead("CONNECT / HTTP/1.1", "Host: example.com")},
		{"connect lower case", reqHead("connect / HTTP/1.1", "Host: example.com")},
		{"PRI", reqHead("PRI / HTTP/1.1", "Host: example.com")},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{"HTTP/1.0", reqHead("GET / HTTP/1.0", "Host: example.com")},
		{"HTTP/2.0", reqHead("GET / HTTP/2.0", "Host: example.com")},
		{"HTTP/1.2", reqHead("GET / HTTP/1.2", "Host: example.com")},
		{"lower-case version", reqHead("GET / http/1.1", "Host: example.com")},
		{"long version", reqHead("GET / HTTP/1.10", "Host: example.com")},
		{"HTTP/0.9", "GET /\r\n\r\n"},
		{"absolute form", reqHead("GET http://example.com/ HTTP/1.1", "Host: example.com")},
		{"asterisk form", reqHead("OPTIONS * HTTP/1.1", "Host: example.com")},
		{"authority form", reqHead("GET example.com:80 HTTP/1.1", "Host: example.com")},
		{"empty target", reqHead("GET  HTTP/1.1", "Host: example.com")},
		{"fragment", reqHead("GET /a#b HTTP/1.1", "Host: example.com")},
		{"space in target", reqHead("GET /a b HTTP/1.1", "Host: example.com")},
		{"bad escape", reqHead("GET /%zz HTTP/1.1", "Host: example.com")},
		{"short escape", reqHead("GET /%4 HTTP/1.1", "Host: example.com")},
		{"percent at end", reqHead("GET /% HTTP/1.1", "Host: example.com")},
		{"bad escape in query", reqHead("GET /?a=%g1 HTTP/1.1", "Host: example.com")},
		{"semicolon in query", reqHead("GET /?a=1;b=2 HTTP/1.1", "Host: example.com")},
		{"DEL in target", reqHead("GET /\x7f HTTP/1.1", "Host: example.com")},
		{"obs-text in target", reqHead("GET /\xc3\xa9 HTTP/1.1", "Host: example.com")},
		{"NUL in target", reqHead("GET /\x00 HTTP/1.1", "Host: example.com")},
		{"CR in target", reqHead("GET /\r HTTP/1.1", "Host: example.com")},
		{"bare LF after request line", "GET / HTTP/1.1\nHost: example.com\r\n\r\n"},

		// Line syntax.
		{"bare LF in header", "GET / HTTP/1.1\r\nHost: example.com\nX: y\r\n\r\n"},
		{"bare LF terminator", "GET / HTTP/1.1\r\nHost: example.com\n\n"},
		{"LF CR LF terminator", "GET / HTTP/1.1\r\nHost: example.com\n\r\n"},
		{"lone CR in value", plainGet("X: a\rb")},
		{"CR before CRLF", plainGet("X: a\r")},
		{"lone CR line", plainGet("\r")},
		{"folded with space", plainGet("X: a", " b")},
		{"folded with tab", plainGet("X: a", "\tb")},
		{"first line folded", reqHead("GET / HTTP/1.1", " X: a", "Host: example.com")},
		{"space before colon", plainGet("X : a")},
		{"tab before colon", plainGet("X\t: a")},
		{"empty name", plainGet(": a")},
		{"no colon", plainGet("Xa")},
		{"name separator", plainGet("X(a): b")},
		{"name obs-text", plainGet("X\xc3\xa9: a")},
		{"NUL in value", plainGet("X: a\x00b")},
		{"DEL in value", plainGet("X: a\x7f")},
		{"control in value", plainGet("X: \x01")},
		{"vertical tab in value", plainGet("X: a\vb")},
		{"101 lines", plainGet(repeatField(100)...)},
		{"no terminator", "GET / HTTP/1.1\r\nHost: example.com\r\n"},
		{"bytes after head", plainGet() + "GET"},

		// Host.
		{"no Host", reqHead("GET / HTTP/1.1", "X: a")},
		{"two Hosts", plainGet("Host: example.com")},
		{"two Hosts differing", plainGet("host: evil.example")},
		{"empty Host", reqHead("GET / HTTP/1.1", "Host:")},
		{"blank Host", reqHead("GET / HTTP/1.1", "Host:  \t")},
		{"Host with space", reqHead("GET / HTTP/1.1", "Host: a b")},
		{"Host userinfo", reqHead("GET / HTTP/1.1", "Host: user@example.com")},
		{"Host comma", reqHead("GET / HTTP/1.1", "Host: a,b")},
		{"Host percent", reqHead("GET / HTTP/1.1", "Host: a%2fb")},
		{"Host slash", reqHead("GET / HTTP/1.1", "Host: a/b")},
		{"Host UTF-8", reqHead("GET / HTTP/1.1", "Host: caf\xc3\xa9.example")},

		// Content-Length.
		{"two equal lengths", plainGet("Content-Length: 1", "Content-Length: 1")},
		{"two lengths", plainGet("Content-Length: 1", "content-length: 2")},
		{"length list", plainGet("Content-Length: 1, 1")},
		{"empty length", plainGet("Content-Length:")},
		{"length letters", plainGet("Content-Length: abc")},
		{"negative length", plainGet("Content-Length: -1")},
		{"plus length", plainGet("Content-Length: +1")},
		{"decimal length", plainGet("Content-Length: 1.0")},
		{"hex length", plainGet("Content-Length: 0x10")},
		{"spaced length", plainGet("Content-Length: 1 2")},
		{"19-digit length", plainGet("Content-Length: 1000000000000000000")},
		{"underscore length", plainGet("Content-Length: 1_0")},

		// Connection.
		{"connection upgrade", plainGet("Connection: upgrade")},
		{"connection names a header", plainGet("Connection: close, X-Secret")},
		{"connection te", plainGet("Connection: keep-alive, te")},
		{"connection prefix", plainGet("Connection: clos")},
		{"connection inner space", plainGet("Connection: keep alive")},
		{"connection Kelvin", plainGet("Connection: \xe2\x84\xaaeep-alive")},
		{"second connection bad", plainGet("Connection: close", "Connection: foo")},

		// Framing and protocol switches.
		{"transfer-encoding chunked", plainGet("Transfer-Encoding: chunked")},
		{"transfer-encoding identity", plainGet("transfer-encoding: identity")},
		{"transfer-encoding upper", plainGet("TRANSFER-ENCODING: chunked")},
		{"transfer-encoding empty", plainGet("Transfer-Encoding:")},
		{"transfer-encoding with length", plainGet("Content-Length: 3", "Transfer-Encoding: chunked")},
		{"upgrade", plainGet("Connection: upgrade", "Upgrade: websocket")},
		{"upgrade alone", plainGet("Upgrade: h2c")},
		{"expect", plainGet("Expect: 100-continue")},
		{"te", plainGet("TE: trailers")},
		{"trailer", plainGet("Trailer: X-Sum")},
		{"http2-settings", plainGet("HTTP2-Settings: AAMAAABkAAQAAP__")},

		// gRPC.
		{"grpc", plainGet("Content-Type: application/grpc")},
		{"grpc proto", plainGet("Content-Type: application/grpc+proto")},
		{"grpc params", plainGet("Content-Type: application/grpc;charset=utf-8")},
		{"grpc OWS params", plainGet("Content-Type: application/grpc ; x=y")},
		{"grpc upper case", plainGet("content-type: Application/GRPC")},
		{"grpc second line", plainGet("Content-Type: text/plain", "Content-Type: application/grpc")},
	}
}

func TestParseRequestHeadRefuses(t *testing.T) {
	for _, tc := range refusedRequests() {
		t.Run(tc.name, func(t *testing.T) {
			var h requestHead
			if parseRequestHead([]byte(tc.head), &h) {
				t.Errorf("parseRequestHead(%q) = true, want false", tc.head)
			}
		})
	}
}

// TestParseRequestHeadFields checks the name, value and raw line of every
// field, and that a parse reuses the fields' backing array.
func TestParseRequestHeadFields(t *testing.T) {
	head := "POST /x HTTP/1.1\r\nhost:example.com\r\nX-A:  one two \t\r\nCookie: a=b\r\n" +
		"X-Empty:\r\nContent-Length: 3\r\nconnection: close\r\n\r\n"
	want := []field{
		{[]byte("host"), []byte("example.com"), []byte("host:example.com\r\n"), fieldHost},
		{[]byte("X-A"), []byte("one two"), []byte("X-A:  one two \t\r\n"), fieldPass},
		{[]byte("Cookie"), []byte("a=b"), []byte("Cookie: a=b\r\n"), fieldCookie},
		{[]byte("X-Empty"), []byte(""), []byte("X-Empty:\r\n"), fieldPass},
		{[]byte("Content-Length"), []byte("3"), []byte("Content-Length: 3\r\n"), fieldContentLength},
		{[]byte("connection"), []byte("close"), []byte("connection: close\r\n"), fieldDrop},
	}
	h := requestHead{fields: make([]field, 0, 16)}
	backing := &h.fields[:1][0]
	if !parseRequestHead([]byte(head), &h) {
		t.Fatal("refused")
	}
	if len(h.fields) != len(want) {
		t.Fatalf("got %d fields, want %d", len(h.fields), len(want))
	}
	for i, f := range h.fields {
		w := want[i]
		if !bytes.Equal(f.name, w.name) || !bytes.Equal(f.value, w.value) || !bytes.Equal(f.line, w.line) || f.class != w.class {
			t.Errorf("field %d = {%q %q %q %d}, want {%q %q %q %d}", i, f.name, f.value, f.line, f.class, w.name, w.value, w.line, w.class)
		}
	}
	if &h.fields[0] != backing {
		t.Error("fields got a new backing array")
	}
	if !parseRequestHead([]byte(plainGet()), &h) || len(h.fields) != 1 || h.contentLength != 0 || h.close {
		t.Errorf("second parse left state behind: %+v", h)
	}
}

// respWant is what a response head parses to.
type respWant struct {
	status, minor  int
	contentLength  int64
	chunked, close bool
	hasDate        bool
	classes        []fieldClass
}

// respHead builds a response head from a status line and header lines.
func respHead(line string, fields ...string) string { return reqHead(line, fields...) }

// acceptedResponses are response heads the fast path relays, with what
// they parse to.
func acceptedResponses() []struct {
	name string
	head string
	want respWant
} {
	ok := func(cl int64, classes ...fieldClass) respWant {
		return respWant{status: 200, minor: 1, contentLength: cl, classes: classes}
	}
	with := func(w respWant, f func(*respWant)) respWant { f(&w); return w }
	return []struct {
		name string
		head string
		want respWant
	}{
		{"content length", respHead("HTTP/1.1 200 OK", "Content-Length: 5"), ok(5, fieldContentLength)},
		{"no reason", respHead("HTTP/1.1 200", "Content-Length: 5"), ok(5, fieldContentLength)},
		{"empty reason", respHead("HTTP/1.1 200 ", "Content-Length: 5"), ok(5, fieldContentLength)},
		{"odd reason", respHead("HTTP/1.1 200 Fine \t\xff 200", "Content-Length: 5"), ok(5, fieldContentLength)},
		{"status 100", respHead("HTTP/1.1 100 Continue"),
			respWant{status: 100, minor: 1, contentLength: -1}},
		{"status 599", respHead("HTTP/1.1 599 Custom", "Content-Length: 0"),
			respWant{status: 599, minor: 1, contentLength: 0, classes: []fieldClass{fieldContentLength}}},
		{"HTTP/1.0", respHead("HTTP/1.0 200 OK", "Content-Length: 5"),
			with(ok(5, fieldContentLength), func(w *respWant) { w.minor, w.close = 0, true })},
		{"HTTP/1.0 keep-alive", respHead("HTTP/1.0 200 OK", "Content-Length: 5", "Connection: keep-alive"),
			with(ok(5, fieldContentLength, fieldDrop), func(w *respWant) { w.minor, w.close = 0, true })},
		{"chunked", respHead("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"),
			with(ok(-1, fieldDrop), func(w *respWant) { w.chunked = true })},
		{"chunked any case", respHead("HTTP/1.1 200 OK", "transfer-encoding: \tChunKed "),
			with(ok(-1, fieldDrop), func(w *respWant) { w.chunked = true })},
		{"chunked drops length", respHead("HTTP/1.1 200 OK", "Content-Length: 10", "Transfer-Encoding: chunked", "content-length: 10"),
			with(ok(-1, fieldDrop, fieldDrop, fieldDrop), func(w *respWant) { w.chunked = true })},
		{"chunked with trailer", respHead("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Trailer: X-Sum, Server-Timing"),
			with(ok(-1, fieldDrop, fieldPass), func(w *respWant) { w.chunked = true })},
		{"trailer naming length without chunking", respHead("HTTP/1.1 200 OK", "Content-Length: 1", "Trailer: Content-Length"),
			ok(1, fieldContentLength, fieldPass)},
		{"duplicate lengths", respHead("HTTP/1.1 200 OK", "Content-Length: 5", "Content-Length: 5"),
			ok(5, fieldContentLength, fieldContentLength)},
		{"length leading zeros", respHead("HTTP/1.1 200 OK", "Content-Length: 0012"), ok(12, fieldContentLength)},
		{"length 18 digits", respHead("HTTP/1.1 200 OK", "Content-Length: 999999999999999999"),
			ok(999999999999999999, fieldContentLength)},
		{"date", respHead("HTTP/1.1 200 OK", "Content-Length: 0", "Date: Mon, 02 Jan 2006 15:04:05 GMT"),
			with(ok(0, fieldContentLength, fieldDate), func(w *respWant) { w.hasDate = true })},
		{"connection close", respHead("HTTP/1.1 200 OK", "Content-Length: 0", "Connection: close"),
			with(ok(0, fieldContentLength, fieldDrop), func(w *respWant) { w.close = true })},
		{"connection keep-alive", respHead("HTTP/1.1 200 OK", "Content-Length: 0", "Connection: Keep-Alive", "Keep-Alive: timeout=5"),
			ok(0, fieldContentLength, fieldDrop, fieldDrop)},
		{"connection names headers", respHead("HTTP/1.1 200 OK", "X-Hop: 1", "Content-Length: 0",
			"Connection: x-hop, , X-Other ,close", "x-other: 2", "X-Keep: 3"),
			with(ok(0, fieldDrop, fieldContentLength, fieldDrop, fieldDrop, fieldPass), func(w *respWant) { w.close = true })},
		{"connection never drops framing or date", respHead("HTTP/1.1 200 OK", "Content-Length: 0", "Date: x",
			"Connection: content-length, DATE, Transfer-Encoding"),
			with(ok(0, fieldContentLength, fieldDate, fieldDrop), func(w *respWant) { w.hasDate = true })},
		{"connection keeps chunked framing", respHead("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Connection: transfer-encoding"),
			with(ok(-1, fieldDrop, fieldDrop), func(w *respWant) { w.chunked = true })},
		{"hop-by-hop dropped", respHead("HTTP/1.1 200 OK", "Content-Length: 0", "Proxy-Connection: close",
			"Proxy-Authenticate: Basic", "Proxy-Authorization: x", "TE: trailers", "Upgrade: h2c"),
			ok(0, fieldContentLength, fieldDrop, fieldDrop, fieldDrop, fieldDrop, fieldDrop)},
		{"others pass", respHead("HTTP/1.1 200 OK", "Content-Length: 0", "Set-Cookie: a=1", "Set-Cookie: b=2",
			"Cookie: c", "Host: h", "X-Forwarded-For: 1.2.3.4", "Expect: x", "HTTP2-Settings: x", "Forwarded: for=x"),
			ok(0, fieldContentLength, fieldPass, fieldPass, fieldPass, fieldPass, fieldPass, fieldPass, fieldPass, fieldPass)},
		{"body until close", respHead("HTTP/1.1 200 OK", "Content-Type: text/plain"),
			with(ok(-1, fieldPass), func(w *respWant) { w.close = true })},
		{"204 without length", respHead("HTTP/1.1 204 No Content"),
			respWant{status: 204, minor: 1, contentLength: -1}},
		{"304 without length", respHead("HTTP/1.1 304 Not Modified", "ETag: \"x\""),
			respWant{status: 304, minor: 1, contentLength: -1, classes: []fieldClass{fieldPass}}},
		{"304 with length", respHead("HTTP/1.1 304 Not Modified", "Content-Length: 12"),
			respWant{status: 304, minor: 1, contentLength: 12, classes: []fieldClass{fieldContentLength}}},
		{"103 early hints", respHead("HTTP/1.1 103 Early Hints", "Link: </a.css>; rel=preload"),
			respWant{status: 103, minor: 1, contentLength: -1, classes: []fieldClass{fieldPass}}},
		{"100 lines", respHead("HTTP/1.1 200 OK", append(repeatField(99), "Content-Length: 0")...),
			with(ok(0), func(w *respWant) {
				for range 99 {
					w.classes = append(w.classes, fieldPass)
				}
				w.classes = append(w.classes, fieldContentLength)
			})},
	}
}

func TestParseResponseHeadAccepts(t *testing.T) {
	for _, tc := range acceptedResponses() {
		t.Run(tc.name, func(t *testing.T) {
			var h responseHead
			if err := parseResponseHead([]byte(tc.head), &h); err != nil {
				t.Fatalf("parseResponseHead(%q): %v", tc.head, err)
			}
			got := respWant{h.status, h.minor, h.contentLength, h.chunked, h.close, h.hasDate, nil}
			for _, f := range h.fields {
				got.classes = append(got.classes, f.class)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseResponseHead(%q)\n got %+v\nwant %+v", tc.head, got, tc.want)
			}
			checkResponseHead(t, []byte(tc.head+"body"))
		})
	}
}

// refusedResponses are response heads the fast path must not relay.
func refusedResponses() []struct {
	name string
	head string
	want error
} {
	ok := "HTTP/1.1 200 OK"
	return []struct {
		name string
		head string
		want error
	}{
		{"empty", "\r\n\r\n", errHeadStatusLine},
		{"two-digit status", respHead("HTTP/1.1 99 OK"), errHeadStatusLine},
		{"status 099", respHead("HTTP/1.1 099 OK"), errHeadStatusLine},
		{"status 600", respHead("HTTP/1.1 600 OK"), errHeadStatusLine},
		{"status 000", respHead("HTTP/1.1 000 OK"), errHeadStatusLine},
		{"four-digit status", respHead("HTTP/1.1 2000 OK"), errHeadStatusLine},
		{"signed status", respHead("HTTP/1.1 +20 OK"), errHeadStatusLine},
		{"letter in status", respHead("HTTP/1.1 20x OK"), errHeadStatusLine},
		{"double space", respHead("HTTP/1.1  200 OK"), errHeadStatusLine},
		{"tab after status", respHead("HTTP/1.1 200\tOK"), errHeadStatusLine},
		{"no status", respHead("HTTP/1.1"), errHeadStatusLine},
		{"HTTP/1.2", respHead("HTTP/1.2 200 OK"), errHeadStatusLine},
		{"HTTP/2", respHead("HTTP/2 200 OK"), errHeadStatusLine},
		{"HTTP/2.0", respHead("HTTP/2.0 200 OK"), errHeadStatusLine},
		{"lower-case version", respHead("http/1.1 200 OK"), errHeadStatusLine},
		{"ICY", respHead("ICY 200 OK"), errHeadStatusLine},
		{"NUL in reason", respHead("HTTP/1.1 200 O\x00K"), errHeadStatusLine},
		{"DEL in reason", respHead("HTTP/1.1 200 OK\x7f"), errHeadStatusLine},
		{"CR in reason", respHead("HTTP/1.1 200 O\rK"), errHeadStatusLine},
		{"bare LF after status", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", errHeadStatusLine},
		{"bare LF in header", "HTTP/1.1 200 OK\r\nContent-Length: 0\nX: y\r\n\r\n", errHeadLine},
		{"bare LF terminator", "HTTP/1.1 200 OK\r\nContent-Length: 0\n\n", errHeadLine},
		{"lone CR in value", respHead(ok, "X: a\rb"), errHeadLine},
		{"folded", respHead(ok, "X: a", " b"), errHeadLine},
		{"folded first", respHead(ok, "\tX: a"), errHeadLine},
		{"space before colon", respHead(ok, "Content-Length : 5"), errHeadLine},
		{"no colon", respHead(ok, "X"), errHeadLine},
		{"bad name", respHead(ok, "X/Y: a"), errHeadLine},
		{"NUL in value", respHead(ok, "X: \x00"), errHeadLine},
		{"no terminator", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", errHeadLine},
		{"bytes after head", respHead(ok, "Content-Length: 0") + "x", errHeadTrailing},
		{"101 lines", respHead(ok, repeatField(101)...), errHeadTooManyFields},
		{"empty length", respHead(ok, "Content-Length:"), errHeadContentLength},
		{"length letters", respHead(ok, "Content-Length: five"), errHeadContentLength},
		{"negative length", respHead(ok, "Content-Length: -1"), errHeadContentLength},
		{"length list", respHead(ok, "Content-Length: 5, 5"), errHeadContentLength},
		{"19-digit length", respHead(ok, "Content-Length: 1000000000000000000"), errHeadContentLength},
		{"bad length with chunked", respHead(ok, "Transfer-Encoding: chunked", "Content-Length: x"), errHeadContentLength},
		{"conflicting lengths", respHead(ok, "Content-Length: 5", "Content-Length: 6"), errHeadConflictingLength},
		{"equal numbers, other strings", respHead(ok, "Content-Length: 5", "Content-Length: 05"), errHeadConflictingLength},
		{"conflicting lengths with chunked", respHead(ok, "Content-Length: 5", "Transfer-Encoding: chunked", "Content-Length: 6"), errHeadConflictingLength},
		{"gzip", respHead(ok, "Transfer-Encoding: gzip"), errHeadTransferEncoding},
		{"identity", respHead(ok, "Transfer-Encoding: identity"), errHeadTransferEncoding},
		{"empty coding", respHead(ok, "Transfer-Encoding:"), errHeadTransferEncoding},
		{"coding list", respHead(ok, "Transfer-Encoding: gzip, chunked"), errHeadTransferEncoding},
		{"chunked twice in a list", respHead(ok, "Transfer-Encoding: chunked, chunked"), errHeadTransferEncoding},
		{"two coding lines", respHead(ok, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), errHeadTransferEncoding},
		{"chunked prefix", respHead(ok, "Transfer-Encoding: chunke"), errHeadTransferEncoding},
		{"chunked in HTTP/1.0", respHead("HTTP/1.0 200 OK", "Transfer-Encoding: chunked"), errHeadHTTP10Chunked},
		{"trailer names length", respHead(ok, "Transfer-Encoding: chunked", "Trailer: Content-Length"), errHeadTrailer},
		{"trailer names coding", respHead(ok, "Transfer-Encoding: chunked", "Trailer: X-Sum, transfer-encoding "), errHeadTrailer},
		{"trailer names trailer", respHead(ok, "Trailer: x", "Trailer: TRAILER", "Transfer-Encoding: chunked"), errHeadTrailer},
	}
}

func TestParseResponseHeadRefuses(t *testing.T) {
	for _, tc := range refusedResponses() {
		t.Run(tc.name, func(t *testing.T) {
			var h responseHead
			err := parseResponseHead([]byte(tc.head), &h)
			if err != tc.want {
				t.Errorf("parseResponseHead(%q) = %v, want %v", tc.head, err, tc.want)
			}
			if err != nil && err.Error() == "" {
				t.Errorf("parseResponseHead(%q) returned an error without text", tc.head)
			}
		})
	}
}

// TestParseHeadsDoNotAllocate guards the hot path: once fields has room,
// neither parser allocates, and neither does a refusal.
func TestParseHeadsDoNotAllocate(t *testing.T) {
	req, resp := []byte(browserRequest), []byte(appResponse)
	refusedReq := []byte(plainGet("Transfer-Encoding: chunked"))
	refusedResp := []byte(respHead("HTTP/1.1 200 OK", "Transfer-Encoding: gzip"))
	var rh requestHead
	var sh responseHead
	allocs := testing.AllocsPerRun(100, func() {
		parseRequestHead(req, &rh)
		parseRequestHead(refusedReq, &rh)
		parseResponseHead(resp, &sh)
		parseResponseHead(refusedResp, &sh)
		headEnd(req, 0)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

// checkRequestHead is the request oracle: if the fast path accepts the head
// at the start of data, net/http must read the same request, consume
// exactly the same bytes, and its server must find nothing to reject.
func checkRequestHead(t testing.TB, data []byte) {
	checkHeadEndResumes(t, data)
	var h requestHead
	n := headEnd(data, 0)
	if parseRequestHead(data, &h) && n != len(data) {
		t.Fatalf("accepted %q, which is not exactly one head (headEnd = %d)", data, n)
	}
	if n < 0 || !parseRequestHead(data[:n], &h) {
		return
	}
	br := bufio.NewReaderSize(bytes.NewReader(data), len(data)+16)
	req, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("accepted %q; net/http: %v", data[:n], err)
	}
	if used := len(data) - br.Buffered(); used != n {
		t.Fatalf("head %q: net/http read %d bytes, fast path %d", data, used, n)
	}
	if req.Method != string(h.method) || req.RequestURI != string(h.target) || req.Host != string(h.host) ||
		req.ContentLength != h.contentLength || req.Close != h.close || req.TransferEncoding != nil ||
		req.ProtoMajor != 1 || req.ProtoMinor != 1 {
		t.Fatalf("head %q\nnet/http: %q %q host=%q cl=%d close=%v te=%q %s\nfast path: %q %q host=%q cl=%d close=%v",
			data[:n], req.Method, req.RequestURI, req.Host, req.ContentLength, req.Close, req.TransferEncoding, req.Proto,
			h.method, h.target, h.host, h.contentLength, h.close)
	}
	if !validHostHeader(req.Host) {
		t.Fatalf("head %q: net/http's server rejects Host %q", data[:n], req.Host)
	}
	checkFields(t, data[:n], h.fields, req.Header, map[string]bool{"Host": true})
	checkLines(t, data[:n], h.fields)
}

// checkResponseHead is the response oracle: if the fast path accepts the
// head at the start of data, net/http's ReadResponse (for a GET) must agree
// on the status, framing and connection reuse, and consume the same bytes.
func checkResponseHead(t testing.TB, data []byte) {
	var h responseHead
	n := headEnd(data, 0)
	if parseResponseHead(data, &h) == nil && n != len(data) {
		t.Fatalf("accepted %q, which is not exactly one head (headEnd = %d)", data, n)
	}
	if n < 0 || parseResponseHead(data[:n], &h) != nil {
		return
	}
	br := bufio.NewReaderSize(bytes.NewReader(data), len(data)+16)
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("accepted %q; net/http: %v", data[:n], err)
	}
	if used := len(data) - br.Buffered(); used != n {
		t.Fatalf("head %q: net/http read %d bytes, fast path %d", data, used, n)
	}
	chunked := reflect.DeepEqual(resp.TransferEncoding, []string{"chunked"})
	if resp.StatusCode != h.status || resp.ProtoMajor != 1 || resp.ProtoMinor != h.minor || chunked != h.chunked ||
		resp.Close && !h.close {
		t.Fatalf("head %q\nnet/http: %d %s te=%q close=%v\nfast path: %d HTTP/1.%d chunked=%v close=%v",
			data[:n], resp.StatusCode, resp.Proto, resp.TransferEncoding, resp.Close, h.status, h.minor, h.chunked, h.close)
	}
	wantLength := h.contentLength
	if !h1BodyAllowed(h.status) {
		wantLength = 0 // net/http knows such a response has no body
	}
	if resp.ContentLength != wantLength {
		t.Fatalf("head %q: net/http ContentLength %d, fast path %d", data[:n], resp.ContentLength, h.contentLength)
	}
	if h.hasDate != (len(resp.Header["Date"]) > 0) {
		t.Fatalf("head %q: hasDate %v", data[:n], h.hasDate)
	}
	for _, f := range h.fields {
		if h.chunked && h1Lookup(f.name) == hdrContentLength && f.class != fieldDrop {
			t.Fatalf("head %q: Content-Length of a chunked response is relayed", data[:n])
		}
	}
	// net/http removes the framing and Connection lines it has applied.
	skip := map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Trailer": h.chunked}
	checkFields(t, data[:n], h.fields, resp.Header, skip)
	checkLines(t, data[:n], h.fields)
}

// checkFields checks that the fields' values are, name by name and in order,
// the values net/http has in header, apart from the names in skip; and that
// net/http's server would accept every name and value.
func checkFields(t testing.TB, head []byte, fields []field, header http.Header, skip map[string]bool) {
	ours := map[string][]string{}
	for _, f := range fields {
		if !validHeaderFieldName(string(f.name)) || !validHeaderFieldValue(string(f.value)) {
			t.Fatalf("head %q: net/http's server rejects field %q: %q", head, f.name, f.value)
		}
		k := http.CanonicalHeaderKey(string(f.name))
		ours[k] = append(ours[k], string(f.value))
	}
	for k, v := range ours {
		if !skip[k] && !reflect.DeepEqual(header[k], v) {
			t.Fatalf("head %q: %s is %q, net/http has %q", head, k, v, header[k])
		}
	}
	for k, v := range header {
		// net/http adds Cache-Control: no-cache for Pragma: no-cache.
		pragma := k == "Cache-Control" && len(ours["Pragma"]) > 0 && ours["Pragma"][0] == "no-cache"
		if _, ok := ours[k]; !ok && !pragma {
			t.Fatalf("head %q: net/http has %s: %q, the fast path none", head, k, v)
		}
	}
}

// checkLines checks that the fields' raw lines are the head's header lines,
// so a caller relaying them relays the head as it came.
func checkLines(t testing.TB, head []byte, fields []field) {
	rest := head[bytes.IndexByte(head, '\n')+1:]
	for _, f := range fields {
		if !bytes.HasPrefix(rest, f.line) || !bytes.HasPrefix(f.line, f.name) || !bytes.HasSuffix(f.line, []byte("\r\n")) {
			t.Fatalf("head %q: field line %q is not the next line of %q", head, f.line, rest)
		}
		rest = rest[len(f.line):]
	}
	if string(rest) != "\r\n" {
		t.Fatalf("head %q: %q left after the fields", head, rest)
	}
}

// validHeaderFieldName is httpguts.ValidHeaderFieldName, which net/http's
// server applies after ReadRequest.
func validHeaderFieldName(v string) bool {
	if v == "" {
		return false
	}
	for i := range len(v) {
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(v[i])) &&
			!('0' <= v[i] && v[i] <= '9' || 'a' <= v[i] && v[i] <= 'z' || 'A' <= v[i] && v[i] <= 'Z') {
			return false
		}
	}
	return true
}

// validHeaderFieldValue is httpguts.ValidHeaderFieldValue: no control bytes
// except SP and HT.
func validHeaderFieldValue(v string) bool {
	for i := range len(v) {
		if b := v[i]; (b < ' ' || b == 0x7f) && b != ' ' && b != '\t' {
			return false
		}
	}
	return true
}

// validHostHeader is httpguts.ValidHostHeader.
func validHostHeader(h string) bool {
	for i := range len(h) {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') &&
			!strings.ContainsRune("!$%&()*+,-.:;=['_]~", rune(c)) {
			return false
		}
	}
	return true
}

func FuzzParseRequestHead(f *testing.F) {
	for _, tc := range acceptedRequests() {
		f.Add([]byte(tc.head))
	}
	for _, tc := range refusedRequests() {
		f.Add([]byte(tc.head))
	}
	f.Add([]byte(browserRequest))
	f.Add([]byte(plainGet("Pragma: no-cache") + "body"))
	f.Add([]byte(plainGet("Content-Length: 3") + "abcGET / HTTP/1.1\r\n"))
	// Inputs the fuzzer found interesting.
	for _, s := range []string{
		"0 / HTTP/1.1\r\nHost:0\r\nConneCtion:cloSe\r\n\r\n",
		"0 /%0A0 HTTP/1.1\r\nHost:0\r\n\r\n",
		"0 / HTTP/1.1\r\nHost:0\r\n0A:\r\nX-FORWARDED-PROTO:\r\nForwArded:\r\n\r\n",
		"0 / HTTP/1.1\r\nHost:0 \r\n0:\r\n\r\n",
		"0 / HTTP/1.1\r\nHost:0\r\nHTTP2-Se000A00:\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRequestHead(t, data)
	})
}

func FuzzParseResponseHead(f *testing.F) {
	for _, tc := range acceptedResponses() {
		f.Add([]byte(tc.head))
	}
	for _, tc := range refusedResponses() {
		f.Add([]byte(tc.head))
	}
	f.Add([]byte(appResponse))
	f.Add([]byte(respHead("HTTP/1.1 200 OK", "Pragma: no-cache", "Transfer-Encoding: chunked") + "0\r\n\r\n"))
	// Inputs the fuzzer found interesting.
	for _, s := range []string{
		"HTTP/1.1 100 \r\nTrAnsfer-EnCoding:Chunked\r\nTrAiler:0, 0,\r\n\r\n",
		"HTTP/1.1 100 \r\nTrAnsfer-EnCoding:Chunked\r\nTrAiler:\",0\"\r\n\r\n",
		"HTTP/1.0 100 \r\nA0000:\r\nConneCtion:00000,X-Other \r\nx-other:\r\n\r\n",
		"HTTP/1.0 100 \r\nContent-Length:00000000\r\n\r\n",
		"HTTP/1.0 200 \r\n\r\n0",
		"HTTP/1.1 100 \r\nTr000000000000000:0000000\r\nConneCtion:tr100000000000000\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkResponseHead(t, data)
	})
}

// browserRequest is a typical request head from a browser: 10 header lines.
const browserRequest = "GET /products/42?ref=home HTTP/1.1\r\n" +
	"Host: shop.example.com\r\n" +
	"Connection: keep-alive\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"Referer: https://shop.example.com/\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Cookie: session=6f1c2b9a8e7d4c3b; theme=dark\r\n" +
	"\r\n"

// appResponse is a typical response head from an app: 5 header lines.
const appResponse = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Length: 5123\r\n" +
	"Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n" +
	"Cache-Control: private, max-age=0\r\n" +
	"Vary: Accept-Encoding\r\n" +
	"\r\n"

func BenchmarkParseRequestHead(b *testing.B) {
	head := []byte(browserRequest)
	var h requestHead
	b.ReportAllocs()
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		if !parseRequestHead(head[:headEnd(head, 0)], &h) {
			b.Fatal("refused")
		}
	}
}

func BenchmarkParseResponseHead(b *testing.B) {
	head := []byte(appResponse)
	var h responseHead
	b.ReportAllocs()
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		if err := parseResponseHead(head[:headEnd(head, 0)], &h); err != nil {
			b.Fatal(err)
		}
	}
}

// TestByteClassesAgreeWithNetHTTP puts every byte value in every place of a
// head where the parsers judge single bytes, and checks each result against
// net/http (the fuzz oracle). Where the fast path's rule is net/http's own
// (field names and values, reason phrases), acceptance must also be equal:
// the fast path must not send such heads to net/http needlessly.
func TestByteClassesAgreeWithNetHTTP(t *testing.T) {
	requests := []struct {
		template string
		same     bool   // the fast path accepts exactly what net/http's server does
		except   string // bytes where it differs by design
	}{
		{"G§T / HTTP/1.1\r\nHost: a\r\n\r\n", false, ""},
		{"GET /§ HTTP/1.1\r\nHost: a\r\n\r\n", false, ""},
		{"GET /?§ HTTP/1.1\r\nHost: a\r\n\r\n", false, ""},
		{"GET /%§0 HTTP/1.1\r\nHost: a\r\n\r\n", false, ""},
		{"GET / HTTP/1.1\r\nHost: a§b\r\n\r\n", false, ""},
		{"GET / HTTP/1.1\r\nHost: a\r\nX§Y: v\r\n\r\n", true, ""},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a§b\r\n\r\n", true, ""},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abc§efghijklmnopqrstuvwxyz\r\n\r\n", true, ""},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: §\r\n\r\n", true, "\n"}, // a bare LF ends the line for net/http
		{"GET / HTTP/1.1\r\nHost: a\r\n§X: v\r\n\r\n", false, ""},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close§\r\n\r\n", false, ""},
		{"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1§\r\n\r\n", false, ""},
	}
	for _, tc := range requests {
		for c := range 256 {
			head := []byte(strings.Replace(tc.template, "§", string([]byte{byte(c)}), 1))
			checkRequestHead(t, head)
			var h requestHead
			same := tc.same && !strings.ContainsRune(tc.except, rune(c))
			if got, want := parseRequestHead(head, &h), netHTTPServerAccepts(head); same && got != want {
				t.Errorf("%q: fast path %v, net/http %v", head, got, want)
			}
		}
	}
	responses := []struct {
		template string
		same     bool
		except   string
	}{
		{"HTTP/1.1 200 O§K\r\nContent-Length: 0\r\n\r\n", false, ""},
		{"HTTP/1.1 20§ OK\r\nContent-Length: 0\r\n\r\n", false, ""},
		{"HTTP/1.1 200 OK\r\nX§Y: v\r\nContent-Length: 0\r\n\r\n", true, " "}, // ReadResponse lets a space into a name
		{"HTTP/1.1 200 OK\r\nX: a§b\r\nContent-Length: 0\r\n\r\n", true, ""},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked§\r\n\r\n", false, ""},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1§\r\n\r\n", false, ""},
		{"HTTP/1.1 200 OK\r\nConnection: x§\r\nX: v\r\nContent-Length: 0\r\n\r\n", false, ""},
	}
	for _, tc := range responses {
		for c := range 256 {
			head := []byte(strings.Replace(tc.template, "§", string([]byte{byte(c)}), 1))
			checkResponseHead(t, head)
			var h responseHead
			_, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), &http.Request{Method: "GET"})
			same := tc.same && !strings.ContainsRune(tc.except, rune(c))
			if got, want := parseResponseHead(head, &h) == nil, err == nil; same && got != want {
				t.Errorf("%q: fast path %v, net/http %v", head, got, want)
			}
		}
	}
}

// netHTTPServerAccepts reports whether net/http's server would read head as
// a request: ReadRequest and the checks its server adds.
func netHTTPServerAccepts(head []byte) bool {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil || !validHostHeader(req.Host) {
		return false
	}
	for k, vv := range req.Header {
		if !validHeaderFieldName(k) {
			return false
		}
		for _, v := range vv {
			if !validHeaderFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// TestHasControl checks the word-at-a-time test against the byte-wise one
// for every pair of byte values at every pair of places, the other bytes
// being harmless ones that are close to the limits.
func TestHasControl(t *testing.T) {
	for _, fill := range []byte{'a', ' ', 0x21, 0x7e, 0x80, 0x9f, 0xa0, 0xff} {
		for i := range 8 {
			for j := i; j < 8; j++ {
				for a := range 256 {
					for b := range 256 {
						var w [8]byte
						for k := range w {
							w[k] = fill
						}
						w[i], w[j] = byte(a), byte(b)
						want := false
						for _, c := range w {
							want = want || c < 0x20 || c == 0x7f
						}
						if got := h1HasControl(binary.LittleEndian.Uint64(w[:])); got != want {
							t.Fatalf("h1HasControl(% x) = %v, want %v", w, got, want)
						}
					}
				}
			}
		}
	}
}
