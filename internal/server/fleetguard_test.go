package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/store"
)

// TestMalformedHeartbeatIsRefused: a router's heartbeat whose guard
// counters it could not have read is answered 400 with the API's JSON
// error saying what is wrong, and registers nothing; a good one is
// accepted.
func TestMalformedHeartbeatIsRefused(t *testing.T) {
	s := startServerWith(t, func(c *config.Config) {
		c.Guard = config.Guard{Window: time.Minute, MaxErrorRate: 0.02, MinRequests: 20}
	})
	tok := s.token(t, store.RoleRouter)
	lat := "0" + strings.Repeat(",0", 37)
	hb := func(requests int) string {
		return fmt.Sprintf(`{"id":"r1","traffic":{"boot":"b1","uptime_ms":10,"colors":{"blue":{"requests":%d,"errors":0,"latency":[%s]}}}}`, requests, lat)
	}
	for _, tc := range []struct{ body, want string }{
		{hb(-1), "heartbeat from r1: traffic: blue: requests -1: want 0 to 9007199254740992"},
		{`{"id":"r1","traffic":{"boot":"b1","colors":{"blue":{"requests":1,"latency":[1]}}}}`, "latency: 1 buckets, want 38"},
		{`{"id":"r1",`, "invalid heartbeat"},
	} {
		r := s.call(t, http.MethodPost, "/api/v1/routers/heartbeat", tok, tc.body)
		msg, _ := r.json(t)["error"].(map[string]any)["message"].(string)
		if r.status != http.StatusBadRequest || r.errorCode() != "bad_request" || !strings.Contains(msg, tc.want) {
			t.Errorf("heartbeat %s = %d %s, want 400 bad_request saying %q", tc.body, r.status, r.body, tc.want)
		}
	}
	f, err := s.admin.Routers(context.Background())
	if err != nil || len(f.Routers) != 1 {
		t.Errorf("routers after refused heartbeats = %+v, %v; want the embedded router alone", f.Routers, err)
	}
	if r := s.call(t, http.MethodPost, "/api/v1/routers/heartbeat", tok, hb(0)); r.status != http.StatusNoContent {
		t.Errorf("a good heartbeat = %d %s, want 204", r.status, r.body)
	}
}
