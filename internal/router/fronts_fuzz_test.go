package router

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// upstreamView is what an app receives of a request, as net/http parses it.
type upstreamView struct {
	Method, Path, RawQuery, Host, Body string
	Header                             http.Header
}

// FuzzFrontsAgree sends each request head the fast path accepts through
// both fronts, the fast path and net/http with ReverseProxy, to the same
// app: the app must receive the same request either way. The fast path
// forwards a target and header lines as the client sent them, where
// ReverseProxy rebuilds them, so the comparison is of what an app sees
// after parsing: method, decoded path, query, host, headers and body.
func FuzzFrontsAgree(f *testing.F) {
	// Inputs are the parts of a request, so that most of them make a
	// request the fast path takes: method, target, header lines separated
	// by "\n", body.
	f.Add("GET", "/", "", "")
	f.Add("GET", "/a/b%20c?x=1&y=%2F", "Accept: */*\nCookie: a=1; bascule_preview=tok; b=2; bascule_session=s", "")
	f.Add("POST", "/form", "Content-Type: text/plain", "hello")
	f.Add("DELETE", "/x", "X-Forwarded-For: 6.6.6.6\nForwarded: for=6.6.6.6\nConnection: keep-alive, close", "")
	f.Add("GET", "/p", "X-Bascule-Preview: nope\nX-Multi: 1\nX-Multi: 2\nProxy-Authorization: x", "")
	f.Add("PUT", "/%7Euser/\"q\"", "Keep-Alive: 5\nx-lower:  spaced value \t\nHost: [::1]:80", "")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := r.Header.Clone()
		// Framing: net/http's client writes "Content-Length: 0" only for
		// some methods; the fast path forwards what the client sent.
		h.Del("Content-Length")
		_ = json.NewEncoder(w).Encode(upstreamView{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Host: r.Host, Body: string(body), Header: h})
	}))
	f.Cleanup(app.Close)
	addr := app.Listener.Addr().String()
	newRouter := func() *Router {
		r := New(Options{PreviewToken: "tok", StripCookies: []string{"bascule_session"}})
		r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: addr}})
		return r
	}
	fast := startFront(f, NewServer("", newRouter()).Serve)
	std := startFront(f, (&http.Server{Handler: newRouter()}).Serve)
	f.Fuzz(func(t *testing.T, method, target, lines, body string) {
		raw := method + " " + target + " HTTP/1.1\r\n"
		if !strings.Contains(strings.ToLower(lines), "host:") {
			raw += "Host: app.example\r\n"
		}
		for l := range strings.SplitSeq(lines, "\n") {
			if l != "" {
				raw += l + "\r\n"
			}
		}
		raw += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
		var h requestHead
		n := headEnd([]byte(raw), 0)
		if n < 0 || !parseRequestHead([]byte(raw[:n]), &h) || int64(len(raw)-n) != h.contentLength {
			t.Skip("not a whole request the fast path takes")
		}
		if strings.EqualFold(string(h.method), "HEAD") {
			t.Skip("no body to compare")
		}
		start := time.Now()
		got := roundTripRaw(t, fast, raw)
		if d := time.Since(start); d > time.Second {
			t.Errorf("the fast path took %v to answer %q", d, raw)
		}
		want := roundTripRaw(t, std, raw)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("the app saw a different request through the fast path (-net/http +fast):\n%s\nrequest: %q", d, raw)
		}
	})
}

// startFront serves on a loopback port with serve and returns the address.
func startFront(f *testing.F, serve func(net.Listener) error) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go serve(ln)
	f.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// roundTripRaw writes raw to addr and returns the status and body.
func roundTripRaw(t *testing.T, addr, raw string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var v upstreamView
	if resp.StatusCode != 200 || json.Unmarshal(body, &v) != nil {
		return resp.Status + " " + string(bytes.TrimSpace(body))
	}
	out, _ := json.MarshalIndent(v, "", " ")
	return string(out)
}
