package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRateLimitedAnswers429WithRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	l := newKeyLimiter(1, 2)
	l.now = func() time.Time { return now }
	h := rateLimited(l, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	call := func(key string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags", nil)
		req.Header.Set("X-API-Key", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i := 0; i < 2; i++ {
		if rec := call("a"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst = %d, want 200", i, rec.Code)
		}
	}
	rec := call("a")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("request over the rate = %d, Retry-After %q; want 429 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := call("b"); rec.Code != http.StatusOK {
		t.Errorf("another key = %d, want 200: limits are per key", rec.Code)
	}
	now = now.Add(time.Second)
	if rec := call("a"); rec.Code != http.StatusOK {
		t.Errorf("after a second = %d, want 200 again", rec.Code)
	}
}
