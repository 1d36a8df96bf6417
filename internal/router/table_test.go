package router

import "testing"

// TestGenerationKept: the generation a table is installed with is what
// Table reports, through later upstream changes and switches, so a router
// can tell its control plane which table it serves.
func TestGenerationKept(t *testing.T) {
	r := New(Options{})
	r.Install(Table{Generation: 7, Live: Blue, Upstreams: map[Color]string{Blue: "127.0.0.1:1", Green: "127.0.0.1:2"}})
	if g := r.Table().Generation; g != 7 {
		t.Fatalf("Table().Generation after Install(generation 7) = %d, want 7", g)
	}
	if err := r.Switch(Green); err != nil {
		t.Fatal(err)
	}
	r.SetUpstream(Blue, "")
	if g := r.Table().Generation; g != 7 {
		t.Errorf("Table().Generation after Switch and SetUpstream = %d, want 7 (only Install sets it)", g)
	}
}
