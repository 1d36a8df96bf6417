package flag

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bascule/bascule/feature"
)

// ofrepServer serves the handler over a real loopback HTTP server.
func ofrepServer(t *testing.T, opts OFREPOptions, flags ...*Flag) (*httptest.Server, *Current) {
	t.Helper()
	cur := &Current{}
	if flags != nil {
		cur.Store(mustSnapshot(t, flags, internalUsers()))
	}
	srv := httptest.NewServer(NewOFREPHandler(cur, opts))
	t.Cleanup(srv.Close)
	return srv, cur
}

func testFlags() []*Flag {
	return []*Flag{
		{Key: "checkout-v2", Enabled: true, Rules: []Rule{{Segment: "internal-users", Variant: "on"}}},
		{Key: "rollout", Enabled: true, Rules: []Rule{{Split: feature.Percent(100000)}}},
		{Key: "color", Enabled: true, Variants: map[string]any{"off": "red", "blue": "blue"}, DefaultVariant: "blue"},
		{Key: "killed", Enabled: false},
	}
}

// post sends body and returns status, headers and the decoded JSON body.
func post(t *testing.T, url, body string, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("POST %s: body %q is not JSON: %v", url, data, err)
		}
	}
	return resp.StatusCode, resp.Header, out
}

func TestOFREPSingle(t *testing.T) {
	srv, _ := ofrepServer(t, OFREPOptions{}, testFlags()...)
	staff := `{"context": {"targetingKey": "u1", "email": "ada@example.com"}}`
	tests := []struct {
		name, key, body string
		status          int
		want            map[string]any
	}{
		{"segment match", "checkout-v2", staff, 200,
			map[string]any{"key": "checkout-v2", "value": true, "variant": "on", "reason": "TARGETING_MATCH"}},
		{"empty body is an empty context", "checkout-v2", "", 200,
			map[string]any{"key": "checkout-v2", "value": false, "variant": "off", "reason": "DEFAULT"}},
		{"null context", "color", `{"context": null}`, 200,
			map[string]any{"key": "color", "value": "blue", "variant": "blue", "reason": "STATIC"}},
		{"disabled", "killed", staff, 200,
			map[string]any{"key": "killed", "value": false, "variant": "off", "reason": "DISABLED"}},
		{"split", "rollout", staff, 200,
			map[string]any{"key": "rollout", "value": true, "variant": "on", "reason": "SPLIT"}},
		{"unknown flag", "nope", staff, 404,
			map[string]any{"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": `flag "nope" not found`}},
		{"malformed JSON", "checkout-v2", `{"context": `, 400,
			map[string]any{"key": "checkout-v2", "errorCode": "PARSE_ERROR", "errorDetails": "parse request body: unexpected end of JSON input"}},
		{"context not an object", "checkout-v2", `{"context": [1]}`, 400,
			map[string]any{"key": "checkout-v2", "errorCode": "INVALID_CONTEXT", "errorDetails": "context must be a JSON object"}},
		{"targeting key not a string", "checkout-v2", `{"context": {"targetingKey": 7}}`, 400,
			map[string]any{"key": "checkout-v2", "errorCode": "INVALID_CONTEXT", "errorDetails": "context.targetingKey must be a string"}},
		{"split without targeting key", "rollout", `{"context": {}}`, 400,
			map[string]any{"key": "rollout", "errorCode": "TARGETING_KEY_MISSING", "errorDetails": "a percentage rollout needs a targeting key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, got := post(t, srv.URL+"/ofrep/v1/evaluate/flags/"+tt.key, tt.body)
			if status != tt.status {
				t.Errorf("POST %s status = %d, want %d (body %v)", tt.key, status, tt.status, got)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("POST %s body mismatch (-want +got):\n%s", tt.key, diff)
			}
		})
	}
}

func TestOFREPOnlyPOST(t *testing.T) {
	srv, _ := ofrepServer(t, OFREPOptions{}, testFlags()...)
	resp, err := http.Get(srv.URL + "/ofrep/v1/evaluate/flags/checkout-v2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET status = %d, want 405", resp.StatusCode)
	}
}

func TestOFREPNoSnapshot(t *testing.T) {
	srv, _ := ofrepServer(t, OFREPOptions{})
	for _, path := range []string{"/ofrep/v1/evaluate/flags/x", "/ofrep/v1/evaluate/flags"} {
		status, _, body := post(t, srv.URL+path, "{}")
		if status != 500 || body["errorDetails"] != "internal error" {
			t.Errorf("POST %s without a snapshot = %d %v, want 500 with errorDetails", path, status, body)
		}
	}
}

func TestOFREPBulk(t *testing.T) {
	srv, cur := ofrepServer(t, OFREPOptions{EventStreamURL: "http://127.0.0.1/ofrep/v1/events"}, testFlags()...)
	url := srv.URL + "/ofrep/v1/evaluate/flags"
	body := `{"context": {"email": "ada@example.com"}}`
	status, h, got := post(t, url, body)
	if status != 200 {
		t.Fatalf("bulk status = %d, want 200", status)
	}
	want := map[string]any{
		"flags": []any{
			map[string]any{"key": "checkout-v2", "value": true, "variant": "on", "reason": "TARGETING_MATCH"},
			map[string]any{"key": "color", "value": "blue", "variant": "blue", "reason": "STATIC"},
			map[string]any{"key": "killed", "value": false, "variant": "off", "reason": "DISABLED"},
			map[string]any{"key": "rollout", "errorCode": "TARGETING_KEY_MISSING", "errorDetails": "a percentage rollout needs a targeting key"},
		},
		"eventStreams": []any{map[string]any{"type": "sse", "url": "http://127.0.0.1/ofrep/v1/events"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bulk body mismatch (-want +got):\n%s", diff)
	}
	etag := h.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("bulk ETag = %q, want a quoted entity tag", etag)
	}

	if status, h, got := post(t, url, body, "If-None-Match", etag); status != 304 || got != nil || h.Get("ETag") != etag {
		t.Errorf("bulk with If-None-Match: %s = %d %v, want 304, no body, same ETag", etag, status, got)
	}
	if status, _, _ := post(t, url, body, "If-None-Match", `"other", W/`+etag); status != 304 {
		t.Errorf("bulk with a weak tag in a list = %d, want 304", status)
	}
	if status, h, _ := post(t, url, `{"context": {"email": "bob@gmail.com"}}`, "If-None-Match", etag); status != 200 || h.Get("ETag") == etag {
		t.Errorf("bulk with another context = %d ETag %s, want 200 and a new ETag", status, h.Get("ETag"))
	}

	next := testFlags()
	next[2].DefaultVariant = "off"
	s, err := feature.NewSnapshot(2, next, []*Segment{internalUsers()})
	if err != nil {
		t.Fatal(err)
	}
	cur.Store(s)
	status, h, got = post(t, url, body, "If-None-Match", etag)
	if status != 200 || h.Get("ETag") == etag {
		t.Fatalf("bulk after a flag change = %d ETag %s, want 200 and a new ETag", status, h.Get("ETag"))
	}
	if v := got["flags"].([]any)[1].(map[string]any)["value"]; v != "red" {
		t.Errorf("bulk after a flag change: color = %v, want red", v)
	}
}

func TestOFREPBadBulkRequest(t *testing.T) {
	srv, _ := ofrepServer(t, OFREPOptions{}, testFlags()...)
	status, _, got := post(t, srv.URL+"/ofrep/v1/evaluate/flags", "not json")
	if status != 400 || got["errorCode"] != "PARSE_ERROR" {
		t.Errorf("bulk with bad JSON = %d %v, want 400 PARSE_ERROR", status, got)
	}
	if _, ok := got["key"]; ok {
		t.Errorf("bulk failure has a key: %v", got)
	}
}

func BenchmarkOFREPBulk100(b *testing.B) {
	var flags []*Flag
	for i := range 100 {
		flags = append(flags, &Flag{Key: fmt.Sprintf("flag-%03d", i), Enabled: true, Rules: []Rule{
			{Segment: "internal-users", Variant: "on"}, {Split: feature.Percent(50000)},
		}})
	}
	cur := &Current{}
	cur.Store(mustSnapshot(b, flags, internalUsers()))
	h := NewOFREPHandler(cur, OFREPOptions{})
	body := `{"context": {"targetingKey": "user-12345", "email": "bob@gmail.com", "plan": "pro"}}`
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags", strings.NewReader(body)))
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}

func BenchmarkOFREPSingle(b *testing.B) {
	cur := &Current{}
	cur.Store(mustSnapshot(b, testFlags(), internalUsers()))
	h := NewOFREPHandler(cur, OFREPOptions{})
	body := `{"context": {"targetingKey": "user-12345", "email": "bob@gmail.com"}}`
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags/checkout-v2", strings.NewReader(body)))
	}
}

func TestBulkEncodingMatchesEncodingJSON(t *testing.T) {
	values := []any{true, false, "", "a\"b\\c\n\x01é🚀<>&", "\xff", 0.0, 1.0, -1.5, 1e6, 1e20, 1e21, 1.5e-7, 1e-6, -1e-7, 123.456,
		map[string]any{"limit": 10.0, "tags": []any{"a", 1.0}}}
	for _, v := range values {
		got, err := appendValue(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("appendValue(%#v) = %s, not JSON: %v", v, got, err)
		}
		_ = json.Unmarshal(want, &b)
		if !cmp.Equal(a, b) {
			t.Errorf("appendValue(%#v) = %s, encoding/json writes %s", v, got, want)
		}
		if _, isFloat := v.(float64); isFloat && string(got) != string(want) {
			t.Errorf("appendValue(%v) = %s, want the same text as encoding/json: %s", v, got, want)
		}
	}
}

// The stream credential goes into the announced URL as its token parameter,
// escaped, and the ETag holds while the credential does.
func TestOFREPBulkStreamToken(t *testing.T) {
	var tok atomic.Value
	tok.Store("t+1/a")
	srv, _ := ofrepServer(t, OFREPOptions{EventStreamURL: "/api/v1/flags/stream?format=ofrep",
		EventStreamToken: func() string { return tok.Load().(string) }}, testFlags()...)
	bulk := srv.URL + "/ofrep/v1/evaluate/flags"
	_, h, got := post(t, bulk, `{}`)
	streams, _ := got["eventStreams"].([]any)
	want := srv.URL + "/api/v1/flags/stream?format=ofrep&token=t%2B1%2Fa"
	if len(streams) != 1 || streams[0].(map[string]any)["url"] != want {
		t.Errorf("eventStreams = %v, want one at %s", got["eventStreams"], want)
	}
	if status, _, _ := post(t, bulk, `{}`, "If-None-Match", h.Get("ETag")); status != http.StatusNotModified {
		t.Errorf("bulk with its ETag, same credential = %d, want 304", status)
	}
	tok.Store("rotated")
	if status, _, _ := post(t, bulk, `{}`, "If-None-Match", h.Get("ETag")); status != http.StatusOK {
		t.Errorf("bulk with its ETag after the credential rotated = %d, want 200 with the new URL", status)
	}
}
