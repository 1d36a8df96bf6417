package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// hundredFlagsYAML is a realistic bulk: a third static, a third 50 %
// rollouts, a third a segment rule then a 10 % rollout.
func hundredFlagsYAML() string {
	var b strings.Builder
	b.WriteString("segments:\n  - key: internal-users\n    conditions:\n      - {attribute: email, op: ends_with, value: \"@example.com\"}\nflags:\n")
	for i := range 100 {
		fmt.Fprintf(&b, "  - key: flag-%03d\n    enabled: true\n", i)
		switch i % 3 {
		case 1:
			b.WriteString("    rules:\n      - percentage: 50\n")
		case 2:
			b.WriteString("    rules:\n      - {segment: internal-users, variant: \"on\"}\n      - percentage: 10\n")
		}
	}
	return b.String()
}

// benchOFREP measures one OFREP request over loopback HTTP to the real
// server, API key authentication included, on a kept-alive connection.
func benchOFREP(b *testing.B, path string) {
	s := startServer(b)
	s.apply(b, hundredFlagsYAML())
	key := s.token(b, "evaluator")
	body := `{"context":{"targetingKey":"user-12345","email":"bob@gmail.com"}}`
	url := s.base + path
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("POST %s = %d", path, resp.StatusCode)
		}
	}
}

func BenchmarkOFREPBulk100(b *testing.B) { benchOFREP(b, "/ofrep/v1/evaluate/flags") }

func BenchmarkOFREPSingle(b *testing.B) { benchOFREP(b, "/ofrep/v1/evaluate/flags/flag-002") }
