package server

import (
	"net/http"
	"strings"
)

// corsAllowHeaders are the request headers an OFREP provider in a browser
// sends: its API key, a JSON body, the bulk answer's ETag, and the stream's
// resumption and cache headers.
const corsAllowHeaders = "Authorization, X-API-Key, Content-Type, If-None-Match, Last-Event-ID, Cache-Control"

// corsExposeHeaders are the answer headers a browser lets the page read:
// the bulk answer's ETag, which the provider sends back in If-None-Match,
// and the 429's Retry-After.
const corsExposeHeaders = "ETag, Retry-After"

// corsMaxAge is how long, in seconds, a browser may reuse a preflight answer.
const corsMaxAge = "600"

// cors lets pages of the configured origins (ofrep.cors_origins) call OFREP
// and read the flag stream from a browser. It allows no cookies: requests
// carry an API key, or the stream credential, explicitly, so there is no
// ambient authority for another site to borrow.
type cors struct {
	any     bool
	origins map[string]bool // lower-cased scheme://host[:port]
}

// newCORS allows the origins listed; "*" allows any; none allows none.
func newCORS(origins []string) *cors {
	c := &cors{origins: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			c.any = true
		}
		c.origins[strings.ToLower(o)] = true
	}
	return c
}

func (c *cors) allows(origin string) bool {
	return c.any || c.origins[strings.ToLower(origin)]
}

// handle answers preflight requests itself, before any authentication (a
// browser never sends credentials with a preflight), and marks the answers
// of allowed origins readable. methods are the methods next serves.
// Requests without an Origin header (servers, the Go SDK) pass untouched.
func (c *cors) handle(methods string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		switch {
		case preflight && !c.allows(origin):
			ofrepError(w, http.StatusForbidden, "origin "+origin+" is not in ofrep.cors_origins")
		case preflight:
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", methods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
		default:
			// A disallowed origin still gets its answer; without the header
			// below the browser keeps it from the page.
			if c.allows(origin) {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			}
			next.ServeHTTP(w, r)
		}
	})
}
