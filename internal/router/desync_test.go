package router

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The desync suite: raw bytes from a client that may lie, through each
// front, to an app that may misbehave. Whatever the case, two invariants
// must hold:
//
//  1. The sequence of requests the app receives is the sequence the client
//     sent, as net/http reads the client's bytes (the reference), or a
//     prefix of it when a connection closes early. No request is split in
//     two, none is invented from the bytes of a body.
//  2. No client receives bytes produced for another request: every answer
//     from the app names the request it answers (X-Req), and the answers
//     the app produced for nobody (marked SMUGGLED) reach no one, neither
//     the client of the case nor the clients that come after it.

// sentReq is one request as an app or the reference reads it.
type sentReq struct {
	Method, URI, Body string
	Cut               bool // its body ended early: compare method and target only
}

func (r sentReq) String() string {
	s := r.Method + " " + r.URI
	if r.Cut {
		return s + " (body cut)"
	}
	return s + fmt.Sprintf(" (%d-byte body)", len(r.Body))
}

// reference reads raw as net/http's server does: requests up to the first
// one it cannot parse, or whose body it cannot read to the end (that one is
// included, cut), or that asks to close the connection.
func reference(raw []byte) []sentReq {
	var out []sentReq
	br := bufio.NewReader(bytes.NewReader(raw))
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return out
		}
		if req.ProtoAtLeast(1, 1) && req.Host == "" {
			return out // net/http's server refuses these
		}
		body, err := io.ReadAll(req.Body)
		r := sentReq{Method: req.Method, URI: req.RequestURI, Body: string(body), Cut: err != nil}
		out = append(out, r)
		if r.Cut || req.Close {
			return out
		}
	}
}

// desyncApp is an app on a raw socket that records every request it reads
// and answers according to the request's path; some paths misbehave.
type desyncApp struct {
	addr   string
	events chan string // "hungup", "smuggled": what the app did, for the test to wait on
	fuzz   fuzzAnswer  // how /fuzz is answered; set between requests

	mu   sync.Mutex
	got  []sentReq
	conn []int // the connection each request came on
}

const smuggled = "HTTP/1.1 200 OK\r\nX-Evil: 1\r\nContent-Length: 8\r\n\r\nSMUGGLED"

func startDesyncApp(t testing.TB) *desyncApp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &desyncApp{addr: ln.Addr().String(), events: make(chan string, 16)}
	var wg sync.WaitGroup
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		a.mu.Lock()
		for _, nc := range conns { // the router's pool keeps some open
			nc.Close()
		}
		a.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for id := 0; ; id++ {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			a.mu.Lock()
			conns = append(conns, nc)
			a.mu.Unlock()
			wg.Go(func() { a.serveConn(nc, id) })
		}
	})
	return a
}

func (a *desyncApp) serveConn(nc net.Conn, id int) {
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(nc)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		q := req.URL.Query()
		r := sentReq{Method: req.Method, URI: req.RequestURI}
		tag := "X-Req: " + req.Method + " " + req.RequestURI + "\r\n"
		switch req.URL.Path {
		case "/hangup": // reads ?after= bytes of the body, then resets the connection
			n, _ := strconv.ParseInt(q.Get("after"), 10, 64)
			b, _ := io.ReadAll(io.LimitReader(req.Body, n))
			r.Body, r.Cut = string(b), true
			a.record(r, id)
			nc.(*net.TCPConn).SetLinger(0)
			nc.Close()
			a.events <- "hungup"
			return
		case "/fuzz": // whatever the fuzzer says (FuzzUpstreamMisbehaves)
			if !a.misbehave(nc, br, req, r, id) {
				return
			}
			continue
		case "/early": // a final answer before the body, then it hangs up
			r.Cut = true
			a.record(r, id)
			io.WriteString(nc, "HTTP/1.1 413 Payload Too Large\r\n"+tag+"Connection: close\r\nContent-Length: 4\r\n\r\nbig\n")
			return
		}
		body, err := io.ReadAll(req.Body)
		r.Body, r.Cut = string(body), err != nil
		a.record(r, id)
		if err != nil {
			return
		}
		if req.URL.Path == "/vanish" { // it read the request, and crashes before answering
			return
		}
		answer := "HTTP/1.1 200 OK\r\n" + tag + "Content-Length: 2\r\n\r\nok"
		switch req.URL.Path {
		case "/headbody": // a HEAD answered with a body, at once or a moment later
			answer = "HTTP/1.1 200 OK\r\n" + tag + "Content-Length: 8\r\n\r\n"
		case "/nocontent":
			answer = "HTTP/1.1 " + q.Get("status") + " X\r\n" + tag + "\r\n"
		}
		later := q.Get("later") != ""
		if q.Get("smuggle") != "" && !later {
			answer += smuggled
		}
		if _, err := io.WriteString(nc, answer); err != nil {
			return
		}
		if q.Get("smuggle") != "" {
			if later {
				time.Sleep(30 * time.Millisecond) // the app's own misbehaviour, not synchronisation
				io.WriteString(nc, smuggled)
			}
			a.events <- "smuggled"
		}
	}
}

func (a *desyncApp) record(r sentReq, conn int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, r)
	a.conn = append(a.conn, conn)
}

func (a *desyncApp) received() []sentReq {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]sentReq(nil), a.got...)
}

// await waits for the app to report ev.
func (a *desyncApp) await(t *testing.T, ev string) {
	t.Helper()
	select {
	case got := <-a.events:
		if got != ev {
			t.Fatalf("app did %q, want %q", got, ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for the app to report %q", ev)
	}
}

// desyncClient is one raw client connection of a case.
type desyncClient struct {
	nc   net.Conn
	br   *bufio.Reader
	sent bytes.Buffer // everything written, for the reference
	resp []*desyncResp
}

type desyncResp struct {
	status int
	req    string // X-Req: which request the app said it answered; "" when bascule answered
	close  bool
	raw    string // head and body, to look for bytes meant for nobody
}

// send writes s; a write error is fine (the router may have closed), the
// bytes still count as sent.
func (c *desyncClient) send(s string) {
	c.sent.WriteString(s)
	c.nc.Write([]byte(s))
}

// read reads one response; false at the end of the connection.
func (c *desyncClient) read(t *testing.T) bool {
	t.Helper()
	method := "GET"
	if ref := reference(c.sent.Bytes()); len(c.resp) < len(ref) {
		method = ref[len(c.resp)].Method
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("timed out reading answer #%d", len(c.resp)+1)
		}
		return false
	}
	body, _ := io.ReadAll(resp.Body)
	head, _ := httpDumpHead(resp)
	c.resp = append(c.resp, &desyncResp{status: resp.StatusCode, req: resp.Header.Get("X-Req"),
		close: resp.Close, raw: head + string(body)})
	return true
}

func httpDumpHead(resp *http.Response) (string, error) {
	var b strings.Builder
	err := resp.Header.Write(&b)
	return resp.Status + "\r\n" + b.String(), err
}

// step is one action of a case's client.
type step func(t *testing.T, c *desyncClient, app *desyncApp)

func send(s string) step { return func(_ *testing.T, c *desyncClient, _ *desyncApp) { c.send(s) } }
func await(ev string) step {
	return func(t *testing.T, _ *desyncClient, a *desyncApp) { a.await(t, ev) }
}
func readOne() step {
	return func(t *testing.T, c *desyncClient, _ *desyncApp) {
		if !c.read(t) {
			t.Fatalf("the connection ended before an answer")
		}
	}
}

func sendAll(s string) []step { return []step{send(s)} }

// block is a request for path padded to n bytes with a header: the kind a
// client hides in a body to see whether it comes out as a request.
func block(path string, n int) string {
	head := "GET " + path + " HTTP/1.1\r\nHost: x\r\nX-Pad: "
	return head + strings.Repeat("a", n-len(head)-4) + "\r\n\r\n"
}

var desyncCases = []struct {
	name  string
	steps []step
	// wantServed, if set, is how many of the reference's requests the app
	// must have received in full: what a correct proxy does not refuse.
	wantServed int
}{
	// Request framing: each ambiguous head is read exactly as net/http
	// reads it, or refused.
	{name: "te then cl", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "cl then te", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "duplicate equal cl", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "duplicate different cl", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 30\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "cl list", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 30\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "cl with sign", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "te chunked, identity", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "te identity, chunked", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "te mixed case", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ChUnKeD\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "te leading space", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "te space before colon", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "te repeated", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "te vertical tab", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\x0bchunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "obs-fold", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n Content-Length: 30\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "bare lf head", steps: sendAll("POST /a HTTP/1.1\nHost: x\nContent-Length: 5\n\nhelloGET /next HTTP/1.1\nHost: x\n\n")},
	{name: "bare lf inside a line", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nX-A: 1\nContent-Length: 30\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "bare cr", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nX-A: 1\rContent-Length: 30\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "chunk size overflow", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "chunk extension", wantServed: 2, steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name=\"v;al\"\r\nhello\r\n0;x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "chunk missing crlf", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "chunk lf only", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "chunk 0x prefix", steps: sendAll("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "pipelined bodies in one write", wantServed: 3, steps: sendAll(
		"POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\ndeGET /3 HTTP/1.1\r\nHost: x\r\n\r\n")},
	{name: "pipelined bodies split", wantServed: 3, steps: []step{
		send("POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nab"), send("cPOST /2 HTTP/1.1\r\nHost: x\r\nCont"),
		send("ent-Length: 2\r\n\r\nd"), send("eGET /3 HTTP/1.1\r\nHost: x\r\n\r\n")}},
	{name: "pipelined large body", wantServed: 2, steps: sendAll(
		"POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + strings.Repeat(block("/inside", 7000), 10) + "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")},
	// A client that lies: it declares a body, stops, and then sends what
	// looks like requests, still inside the declared length.
	{name: "app hangs up mid-body", steps: []step{
		send("POST /hangup?after=983040 HTTP/1.1\r\nHost: x\r\nContent-Length: 33554432\r\n\r\n" + strings.Repeat("b", 1<<20)),
		await("hungup"),
		send(block("/smuggled-1", 8192) + block("/smuggled-2", 8192) + block("/smuggled-3", 8192)),
		send(strings.Repeat("b", 32<<20-1<<20-3*8192))}},
	{name: "app hangs up after the head", steps: []step{
		send("POST /hangup?after=0 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"),
		await("hungup"),
		send(block("/smuggled-1", 8192) + block("/smuggled-2", 8192) + strings.Repeat("b", 100000-2*8192))}},
	{name: "app hangs up on a small body", steps: []step{
		send("POST /hangup?after=0 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + block("/smuggled", 100))}},
	{name: "expect continue, early answer", steps: []step{
		send("POST /early HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 8192\r\n\r\n"),
		readOne(),
		send(block("/smuggled", 8192))}},
	{name: "early answer to a streamed body", steps: []step{
		send("POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("c", 20000) +
			block("/smuggled", 8192) + strings.Repeat("c", 100000-20000-8192))}},
	// An app that read a request and hung up without answering may have
	// acted on it: a POST must not reach it twice (a GET may).
	{name: "app vanishes after a post", wantServed: 2, steps: []step{
		send("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n"), readOne(),
		send("POST /vanish HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"), readOne()}},
	// An app that misbehaves: bytes after its answer, a body on HEAD, 204
	// or 304, at once or a moment later. They reach no client.
	{name: "extra bytes after an answer", wantServed: 1, steps: []step{send("GET /x?smuggle=1 HTTP/1.1\r\nHost: x\r\n\r\n"), await("smuggled")}},
	{name: "extra bytes a moment later", wantServed: 1, steps: []step{send("GET /x?smuggle=1&later=1 HTTP/1.1\r\nHost: x\r\n\r\n"), await("smuggled")}},
	{name: "body on head", wantServed: 1, steps: []step{send("HEAD /headbody?smuggle=1 HTTP/1.1\r\nHost: x\r\n\r\n"), await("smuggled")}},
	{name: "body on head a moment later", wantServed: 1, steps: []step{send("HEAD /headbody?smuggle=1&later=1 HTTP/1.1\r\nHost: x\r\n\r\n"), await("smuggled")}},
	{name: "body on 204", wantServed: 1, steps: []step{send("GET /nocontent?status=204&smuggle=1 HTTP/1.1\r\nHost: x\r\n\r\n"), await("smuggled")}},
	{name: "body on 304 a moment later", wantServed: 1, steps: []step{send("GET /nocontent?status=304&smuggle=1&later=1 HTTP/1.1\r\nHost: x\r\n\r\n"), await("smuggled")}},
}

// TestDesync runs every case through both fronts.
func TestDesync(t *testing.T) { bothFronts(t, testDesync) }

func testDesync(t *testing.T, serve front) {
	for _, tc := range desyncCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := startDesyncApp(t)
			r := New(Options{})
			r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: app.addr}})
			base := strings.TrimPrefix(serve(t, r), "http://")
			c := dialDesync(t, base)
			for _, s := range tc.steps {
				s(t, c, app)
			}
			// The client is done: a last request asks the router to close,
			// so the answers can be read to the end. (A half-close would do
			// too, but net/http takes it for a client gone and cancels what
			// is in flight.)
			c.send("GET /end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			for c.read(t) {
			}
			ref := reference(c.sent.Bytes())
			checkDesync(t, ref, app.received(), c.resp, tc.wantServed)
			// Later clients, on a connection of their own, get their own
			// answers and nothing the app produced for nobody.
			probe := dialDesync(t, base)
			for i := range 3 {
				probe.send(fmt.Sprintf("GET /probe?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", i))
				if !probe.read(t) {
					t.Fatalf("probe #%d: connection closed", i)
				}
				p := probe.resp[i]
				if want := fmt.Sprintf("GET /probe?n=%d", i); p.status != 200 || p.req != want {
					t.Errorf("probe #%d got %d for %q, want 200 for %q:\n%s", i, p.status, p.req, want, p.raw)
				}
			}
			checkNoSmuggled(t, probe.resp)
		})
	}
}

func dialDesync(t *testing.T, addr string) *desyncClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &desyncClient{nc: nc, br: bufio.NewReader(nc)}
}

// checkDesync asserts both invariants for one client connection.
func checkDesync(t *testing.T, ref, got []sentReq, resps []*desyncResp, wantServed int) {
	t.Helper()
	if len(got) > len(ref) {
		t.Errorf("the app received %d requests, the client sent %d:\napp:    %v\nclient: %v", len(got), len(ref), got, ref)
	}
	for i := range min(len(got), len(ref)) {
		g, w := got[i], ref[i]
		same := g.Method == w.Method && g.URI == w.URI && (g.Cut || w.Cut || g.Body == w.Body)
		if g.Cut && !w.Cut && !strings.HasPrefix(w.Body, g.Body) {
			same = false
		}
		if !same {
			t.Errorf("request #%d: the app received %v, the client sent %v", i+1, g, w)
		}
	}
	served := 0
	for i := range min(len(got), len(ref)) {
		if !got[i].Cut && got[i].Body == ref[i].Body {
			served++
		}
	}
	if served < wantServed {
		t.Errorf("the app received %d requests whole, want at least %d:\napp:    %v\nclient: %v", served, wantServed, got, ref)
	}
	// Answers: in order, each from the app for the request at its place,
	// or from bascule; at most one more than the requests (a refusal of
	// what could not be read), and that one last.
	for i, r := range resps {
		switch {
		case r.req == "" && r.status < 400:
			t.Errorf("answer #%d: %d without X-Req: not from the app, not an error from bascule:\n%s", i+1, r.status, r.raw)
		case r.req != "" && (i >= len(ref) || r.req != ref[i].Method+" "+ref[i].URI):
			t.Errorf("answer #%d is for %q, but request #%d is %v:\n%s", i+1, r.req, i+1, refAt(ref, i), r.raw)
		case i >= len(ref) && i != len(resps)-1:
			t.Errorf("answer #%d answers no request the client sent:\n%s", i+1, r.raw)
		}
	}
	if len(resps) > len(ref)+1 {
		t.Errorf("%d answers to %d requests", len(resps), len(ref))
	}
	checkNoSmuggled(t, resps)
}

func refAt(ref []sentReq, i int) any {
	if i < len(ref) {
		return ref[i]
	}
	return "none"
}

func checkNoSmuggled(t *testing.T, resps []*desyncResp) {
	t.Helper()
	for i, r := range resps {
		if strings.Contains(r.raw, "SMUGGLED") || strings.Contains(r.raw, "X-Evil") {
			t.Errorf("answer #%d carries bytes the app produced for nobody:\n%s", i+1, r.raw)
		}
	}
}

// fuzzAnswer is how the app answers /fuzz: the bytes it writes, and how it
// behaves around them.
type fuzzAnswer struct {
	bytes string
	mode  byte
}

// The modes of fuzzAnswer.
const (
	fuzzKeepOpen   = iota // write the bytes, then serve the next request
	fuzzClose             // write the bytes, then hang up
	fuzzSplit             // write the bytes in two parts a moment apart, then go on
	fuzzEarly             // write the bytes before reading the body, then hang up
	fuzzSlowReader        // read the body a byte at a time, then write the bytes and go on
	fuzzModes
)

// misbehave answers /fuzz; false when the connection ends.
func (a *desyncApp) misbehave(nc net.Conn, br *bufio.Reader, req *http.Request, r sentReq, id int) bool {
	a.mu.Lock()
	f := a.fuzz
	a.mu.Unlock()
	defer func() {
		select {
		case a.events <- "answered":
		default: // a retried request: the test waits for one report only
		}
	}()
	if f.mode == fuzzEarly {
		r.Cut = true
		a.record(r, id)
		io.WriteString(nc, f.bytes)
		return false
	}
	var body []byte
	var err error
	if f.mode == fuzzSlowReader {
		var b [1]byte
		for {
			var n int
			n, err = req.Body.Read(b[:])
			body = append(body, b[:n]...)
			if err != nil {
				break
			}
		}
		if err == io.EOF {
			err = nil
		}
	} else {
		body, err = io.ReadAll(req.Body)
	}
	r.Body, r.Cut = string(body), err != nil
	a.record(r, id)
	if err != nil {
		return false
	}
	out := f.bytes
	if f.mode == fuzzSplit {
		half := len(out) / 2
		io.WriteString(nc, out[:half])
		time.Sleep(5 * time.Millisecond) // the app's own pace, not synchronisation
		out = out[half:]
	}
	if _, err := io.WriteString(nc, out); err != nil {
		return false
	}
	return f.mode != fuzzClose
}

// FuzzUpstreamMisbehaves: an app answers one request with any bytes at
// all, in any of the modes above; through either front, the client of that
// request gets an answer or a closed connection, the app receives exactly
// the requests sent, and the clients that come after get their own answers
// and nothing of those bytes.
func FuzzUpstreamMisbehaves(f *testing.F) {
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	f.Add(ok+smuggled, byte(fuzzKeepOpen), "GET", 0)
	f.Add(ok+smuggled, byte(fuzzSplit), "HEAD", 0)
	f.Add("HTTP/1.1 204 No Content\r\n\r\n"+smuggled, byte(fuzzKeepOpen), "GET", 10)
	f.Add("HTTP/1.1 304 Not Modified\r\nContent-Length: 8\r\n\r\nSMUGGLED", byte(fuzzSplit), "GET", 0)
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED", byte(fuzzKeepOpen), "HEAD", 0)
	f.Add("HTTP/1.1 413 Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", byte(fuzzEarly), "POST", 100000)
	f.Add("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"+smuggled, byte(fuzzSlowReader), "POST", 300)
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", byte(fuzzClose), "GET", 0)
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"+smuggled, byte(fuzzKeepOpen), "GET", 0)
	f.Add("HTTP/1.1 200 OK\r\n\r\nto the end", byte(fuzzClose), "POST", 20000)
	app := startDesyncApp(f)
	r := New(Options{})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: app.addr}})
	fronts := map[string]string{
		"fast":     startFront(f, NewServer("", r).Serve),
		"net-http": startFront(f, (&http.Server{Handler: r}).Serve),
	}
	f.Fuzz(func(t *testing.T, answer string, mode byte, method string, bodyLen int) {
		if len(answer) > 4096 || bodyLen < 0 || bodyLen > 200000 {
			t.Skip()
		}
		switch method {
		case "GET", "HEAD", "POST":
		default:
			t.Skip()
		}
		app.mu.Lock()
		app.fuzz = fuzzAnswer{bytes: answer, mode: mode % fuzzModes}
		app.mu.Unlock()
		for name, addr := range fronts {
			app.mu.Lock()
			app.got, app.conn = nil, nil
			app.mu.Unlock()
			c := dialDesync(t, addr)
			raw := fmt.Sprintf("%s /fuzz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", method, bodyLen, strings.Repeat("b", bodyLen))
			want := bodyLen
			if method != "POST" {
				raw, want = method+" /fuzz HTTP/1.1\r\nHost: x\r\n\r\n", 0
			}
			c.send(raw)
			// An answer the app never finishes leaves the router waiting, as
			// it should: the client gives up after a moment.
			c.nc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
			readQuietly(c)
			c.nc.Close()
			select {
			case <-app.events:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: the app never got the request", name)
			}
			// A request safe to repeat is sent again once when the app hung
			// up without a word; any other, never.
			got := app.received()
			n := 1
			if method != "POST" && len(got) == 2 {
				n = 2
			}
			if len(got) != n {
				t.Fatalf("%s: the app received %v, want one %s /fuzz", name, got, method)
			}
			for _, g := range got {
				if g.Method != method || g.URI != "/fuzz" || (!g.Cut && len(g.Body) != want) {
					t.Fatalf("%s: the app received %v, want %s /fuzz with %d bytes", name, got, method, want)
				}
			}
			checkNoSmuggledButOwn(t, name, c.resp, answer)
			final := 0
			for _, r := range c.resp {
				if r.status >= 200 {
					final++
				}
			}
			if final > 1 {
				t.Fatalf("%s: one request got %d answers", name, final)
			}
			probe := dialDesync(t, addr)
			for i := range 3 {
				probe.send(fmt.Sprintf("GET /probe?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", i))
				if !probe.read(t) {
					t.Fatalf("%s: probe #%d: connection closed", name, i)
				}
				p := probe.resp[i]
				if want := fmt.Sprintf("GET /probe?n=%d", i); p.status != 200 || p.req != want || !strings.HasSuffix(p.raw, "\r\nok") {
					t.Fatalf("%s: after the app wrote %q (mode %d), probe #%d got:\n%s", name, answer, mode%fuzzModes, i, p.raw)
				}
			}
			probe.nc.Close()
		}
	})
}

// readQuietly reads answers until the connection ends or its deadline.
func readQuietly(c *desyncClient) {
	for {
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(resp.Body)
		head, _ := httpDumpHead(resp)
		c.resp = append(c.resp, &desyncResp{status: resp.StatusCode, req: resp.Header.Get("X-Req"), raw: head + string(body)})
	}
}

// checkNoSmuggledButOwn: the client of the misbehaving request may get what
// the app wrote for it, but the marked bytes only if they were its own.
func checkNoSmuggledButOwn(t *testing.T, front string, resps []*desyncResp, answer string) {
	t.Helper()
	for i, r := range resps {
		if strings.Contains(r.raw, "X-Evil") && !strings.Contains(answer, "X-Evil") {
			t.Errorf("%s: answer #%d carries bytes the app never wrote for it:\n%s", front, i+1, r.raw)
		}
	}
}
