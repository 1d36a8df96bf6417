package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// TestReplaceDrainsBeforeStopping: a preview request in flight on the idle
// color when the next deployment replaces it finishes; the old release is
// stopped only once it has drained.
func TestReplaceDrainsBeforeStopping(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	// v2 drops its in-flight requests when told to stop, as an impatient
	// app does: only draining before the stop saves them.
	in.addRelease("v2", "grace=1ms\n")
	if d := in.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s", d.State)
	}
	type result struct {
		rel  string
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+in.listen+"/sleep?ms=1500", nil)
		req.Header.Set("X-Bascule-Preview", previewToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{rel: resp.Header.Get("X-Release"), code: resp.StatusCode}
	}()
	waitFor(t, 5*time.Second, "the preview request to be in flight on green", func() bool {
		st, err := in.cl.Status(t.Context())
		return err == nil && st.Colors[1].InFlight > 0
	})
	in.addRelease("v3", "")
	if d := in.deploy("v3"); d.State != store.StateReady || d.Color != "green" {
		t.Fatalf("deploy v3 = %s on %s", d.State, d.Color)
	}
	if r := <-done; r.err != nil || r.code != 200 || r.rel != "v2" {
		t.Errorf("preview request in flight across the replacement = %s %d %v, want v2 200", r.rel, r.code, r.err)
	}
}
