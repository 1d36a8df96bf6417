package server_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/server"
)

const shopOrigin = "https://shop.example"

// withOrigins allows browser pages of origins to use OFREP.
func withOrigins(origins ...string) func(*config.Config) {
	return func(c *config.Config) { c.OFREP.CORSOrigins = origins }
}

// announcedStream evaluates every flag with key, as an OFREP provider does
// first, and returns the stream URL the answer announces.
func (s *testServer) announcedStream(t *testing.T, key string) string {
	t.Helper()
	r := s.call(t, "POST", "/ofrep/v1/evaluate/flags", key, `{"context":{"targetingKey":"u1"}}`)
	if r.status != http.StatusOK {
		t.Fatalf("bulk evaluation = %d %s", r.status, r.body)
	}
	streams, _ := r.json(t)["eventStreams"].([]any)
	if len(streams) != 1 {
		t.Fatalf("bulk answer announces %d streams, want 1: %s", len(streams), r.body)
	}
	u, _ := streams[0].(map[string]any)["url"].(string)
	return u
}

// eventSource opens a stream as a browser's EventSource does on a page of
// origin: a plain GET that can carry no Authorization nor X-API-Key header.
func eventSource(t *testing.T, streamURL, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", streamURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", streamURL, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// A browser app on another origin follows the stream the bulk answer
// announces, with no header to send its key in: the URL carries a
// credential of its own, never the API key, that reads this stream only.
func TestOFREPStreamForBrowsers(t *testing.T) {
	s := startServerWith(t, withOrigins(shopOrigin))
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")
	streamURL := s.announcedStream(t, key)
	if strings.Contains(streamURL, key) {
		t.Fatalf("the announced stream URL %s holds the API key", streamURL)
	}

	resp := eventSource(t, streamURL, shopOrigin)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("EventSource on the announced URL = %d %s, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != shopOrigin {
		t.Errorf("stream Access-Control-Allow-Origin = %q, want %s", got, shopOrigin)
	}
	events := readEvents(resp)
	if ev := nextEvent(t, events); ev.id != "1" || !strings.Contains(ev.data, "refetchEvaluation") {
		t.Errorf("first event = %+v, want version 1 as refetchEvaluation", ev)
	}
	s.call(t, "POST", "/api/v1/flags/banner/disable", adminToken, "")
	if ev := nextEvent(t, events); ev.id != "2" || !strings.HasPrefix(ev.data, `{"type":"refetchEvaluation","etag":"\"v2\""`) {
		t.Errorf("event after a change = %+v, want version 2 as refetchEvaluation", ev)
	}

	u, err := url.Parse(streamURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	token := q.Get("token")
	refused := map[string]string{
		"without the credential": s.base + "/api/v1/flags/stream?format=ofrep",
		"with a forged one":      s.base + "/api/v1/flags/stream?format=ofrep&token=" + url.QueryEscape(forge(token)),
		"the snapshot endpoint":  s.base + "/api/v1/flags/snapshot?token=" + url.QueryEscape(token),
	}
	for name, target := range refused {
		if resp := eventSource(t, target, shopOrigin); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: GET %s = %d, want 401", name, target, resp.StatusCode)
		}
	}
	// The credential reads the change notices, never the flags themselves.
	q.Del("format")
	u.RawQuery = q.Encode()
	resp = eventSource(t, u.String(), shopOrigin)
	if ev := nextEvent(t, readEvents(resp)); ev.name == "snapshot" || strings.Contains(ev.data, "checkout-v2") {
		t.Errorf("the credential without format=ofrep got %+v, want only the OFREP notice", ev)
	}
}

// forge changes the last character of a credential's MAC.
func forge(token string) string {
	last := token[len(token)-1]
	c := byte('A')
	if last == 'A' {
		c = 'B'
	}
	return token[:len(token)-1] + string(c)
}

// CORS: preflights are answered without credentials for the configured
// origins, and answers to them carry Access-Control-Allow-Origin and expose
// the ETag; other origins get nothing a browser would let a page read.
func TestOFREPCORS(t *testing.T) {
	s := startServerWith(t, withOrigins(shopOrigin))
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")

	preflight := func(path, origin, method string) reply {
		return s.call(t, "OPTIONS", path, "", "", "Origin", origin, "Access-Control-Request-Method", method,
			"Access-Control-Request-Headers", "authorization,content-type,if-none-match")
	}
	for _, c := range []struct{ path, method string }{
		{"/ofrep/v1/evaluate/flags", "POST"},
		{"/ofrep/v1/evaluate/flags/checkout-v2", "POST"},
		{"/api/v1/flags/stream", "GET"},
	} {
		r := preflight(c.path, shopOrigin, c.method)
		h := r.header
		if r.status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != shopOrigin ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), c.method) ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "If-None-Match") {
			t.Errorf("preflight of %s from %s = %d %v, want 204 allowing %s with Authorization and If-None-Match",
				c.path, shopOrigin, r.status, h, c.method)
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight of %s allows credentials (cookies); want none", c.path)
		}
		if r := preflight(c.path, "https://evil.example", c.method); r.status == http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight of %s from another origin = %d %v, want refused", c.path, r.status, r.header)
		}
	}

	r := s.call(t, "POST", "/ofrep/v1/evaluate/flags", key, `{"context":{"targetingKey":"u1"}}`, "Origin", shopOrigin)
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != shopOrigin ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Errorf("bulk from %s = %d %v, want 200 with Access-Control-Allow-Origin and ETag exposed", shopOrigin, r.status, r.header)
	}
	r = s.call(t, "POST", "/ofrep/v1/evaluate/flags", key, `{"context":{"targetingKey":"u1"}}`, "Origin", "https://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("bulk from another origin carries Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
	}
}

// No origin is allowed unless bascule.yaml says so.
func TestOFREPCORSNoneByDefault(t *testing.T) {
	s := startServer(t)
	r := s.call(t, "OPTIONS", "/ofrep/v1/evaluate/flags", "", "", "Origin", shopOrigin, "Access-Control-Request-Method", "POST")
	if r.status == http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight with no cors_origins = %d %v, want refused", r.status, r.header)
	}
	s = startServerWith(t, withOrigins("*"))
	r = s.call(t, "OPTIONS", "/ofrep/v1/evaluate/flags", "", "", "Origin", shopOrigin, "Access-Control-Request-Method", "POST")
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != shopOrigin {
		t.Errorf(`preflight with cors_origins ["*"] = %d %v, want allowed`, r.status, r.header)
	}
}

// The control plane is to be put behind http.CrossOriginProtection, which
// refuses cross-site POSTs. Configured with the exemptions bascule declares,
// it still lets a browser app of an allowed origin evaluate with its key,
// and still refuses a cross-site POST to the API.
func TestOFREPBehindCrossOriginProtection(t *testing.T) {
	s := startServerWith(t, withOrigins(shopOrigin))
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")
	target, err := url.Parse(s.base)
	if err != nil {
		t.Fatal(err)
	}
	cop := http.NewCrossOriginProtection()
	for _, p := range server.CrossOriginExempt() {
		cop.AddInsecureBypassPattern(p)
	}
	front := httptest.NewServer(cop.Handler(httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(front.Close)

	post := func(path, auth string) *http.Response {
		req, _ := http.NewRequest("POST", front.URL+path, strings.NewReader(`{"context":{"targetingKey":"u1"}}`))
		req.Header.Set("Authorization", "Bearer "+auth)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", shopOrigin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("/ofrep/v1/evaluate/flags", key); resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != shopOrigin {
		t.Errorf("cross-site OFREP bulk through CrossOriginProtection = %d, want 200 with CORS", resp.StatusCode)
	}
	if resp := post("/api/v1/flags/banner/disable", adminToken); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST to the API through CrossOriginProtection = %d, want 403", resp.StatusCode)
	}
}

// ofrep.rate_limit applies per key, shows in /metrics and is logged when it
// bites; without it there is no limit.
func TestOFREPRateLimitConfigurable(t *testing.T) {
	var logs lockedBuffer
	s := startServerLogging(t, func(c *config.Config) { c.OFREP.RateLimit, c.OFREP.RateBurst = 1, 2 }, logs.logger())
	s.apply(t, storyFlags)
	key := s.token(t, "evaluator")
	var statuses []int
	for range 4 {
		statuses = append(statuses, s.call(t, "POST", "/ofrep/v1/evaluate/flags/checkout-v2", key, `{"context":{"targetingKey":"u1"}}`).status)
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[3] != http.StatusTooManyRequests {
		t.Errorf("4 requests at once with rate 1/s, burst 2 = %v, want 200 200 … 429", statuses)
	}
	metrics := string(s.call(t, "GET", "/metrics", s.token(t, "viewer"), "").body)
	for _, want := range []string{"bascule_ofrep_rate_limit 1", `bascule_ofrep_rate_limited_total{key="token:test-evaluator"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if out := logs.String(); strings.Count(out, "OFREP rate limit reached") != 1 || !strings.Contains(out, "token:test-evaluator") || strings.Contains(out, key) {
		t.Errorf("log = %s\nwant one line naming the key token:test-evaluator, never its secret", out)
	}

	s = startServer(t)
	if metrics := string(s.call(t, "GET", "/metrics", s.token(t, "viewer"), "").body); !strings.Contains(metrics, "bascule_ofrep_rate_limit 0") {
		t.Error("/metrics lacks bascule_ofrep_rate_limit 0 (no limit) by default")
	}
}

// lockedBuffer collects a logger's output from concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, nil))
}
