package web_test

import (
	"net/http"
	"testing"
)

// BenchmarkOverviewPage is one GET / by a logged-in user: the session
// lookup, the status of both colors (each probed), the releases, and the
// page rendered.
func BenchmarkOverviewPage(b *testing.B) {
	s := newStack(b)
	s.liveWithNext()
	ada := s.login("ada")
	req, _ := http.NewRequest("GET", s.srv.URL+"/", nil)
	b.ReportAllocs()
	for b.Loop() {
		if r := ada.do(req); r.status != http.StatusOK {
			b.Fatalf("GET / = %d", r.status)
		}
	}
}

// BenchmarkDeploymentPage is one GET of a finished deployment's page.
func BenchmarkDeploymentPage(b *testing.B) {
	s := newStack(b)
	s.liveWithNext()
	ada := s.login("ada")
	req, _ := http.NewRequest("GET", s.srv.URL+"/deployments/2", nil)
	b.ReportAllocs()
	for b.Loop() {
		if r := ada.do(req); r.status != http.StatusOK {
			b.Fatalf("GET /deployments/2 = %d", r.status)
		}
	}
}
