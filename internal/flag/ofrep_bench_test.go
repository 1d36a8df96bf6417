package flag

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bascule/bascule/feature"
)

// hundredFlags is a realistic bulk: a third static, a third 50 % rollouts,
// a third a segment rule then a 10 % rollout.
func hundredFlags() []*Flag {
	var flags []*Flag
	for i := range 100 {
		f := &Flag{Key: fmt.Sprintf("flag-%03d", i), Enabled: true}
		switch i % 3 {
		case 1:
			f.Rules = []Rule{{Split: feature.Percent(50000)}}
		case 2:
			f.Rules = []Rule{{Segment: "internal-users", Variant: "on"}, {Split: feature.Percent(10000)}}
		}
		flags = append(flags, f)
	}
	return flags
}

// benchOFREP serves one request to the handler without a network: the
// server's own time per request, counting evaluations as the server does.
func benchOFREP(b *testing.B, path string) {
	cur := &Current{}
	cur.Store(mustSnapshot(b, hundredFlags(), internalUsers()))
	var counts evalCounts
	counts.track(cur.Snapshot())
	h := NewOFREPHandler(cur, OFREPOptions{EventStreamURL: "/api/v1/flags/stream?format=ofrep", Observe: counts.observe})
	body := `{"context":{"targetingKey":"user-12345","email":"bob@gmail.com","plan":"pro"}}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("POST %s = %d %s", path, w.Code, w.Body)
		}
	}
}

func BenchmarkOFREPHandlerBulk100(b *testing.B) { benchOFREP(b, "/ofrep/v1/evaluate/flags") }

func BenchmarkOFREPHandlerSingle(b *testing.B) { benchOFREP(b, "/ofrep/v1/evaluate/flags/flag-002") }
