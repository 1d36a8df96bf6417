package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/store"
)

// TestBrowserRouters: in real Chromium, the overview lists a router that
// reported to the control plane, and marks it stale, live, once its
// heartbeats stop (three intervals: 3 s).
func TestBrowserRouters(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test starts Chromium")
	}
	b := startBascule(t)
	ctx := context.Background()
	_, secret, err := b.cl.CreateToken(ctx, "edge-1", store.RoleRouter, "")
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := json.Marshal(fleet.Heartbeat{ID: "edge-1", Host: "edge-host", Listen: "10.0.0.5:8080", Installed: 1, Drained: 1})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.base+fleet.HeartbeatPath, bytes.NewReader(hb))
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("heartbeat with a router token = %s, want 204", resp.Status)
	}
	tb := newTab(t, b.base)
	tb.login("admin")
	row := `document.querySelector('tr[data-router="edge-1"]')`
	tb.waitFor("edge-1 in the routers list", row)
	if got := tb.text(`tr[data-router="edge-1"] td:nth-child(2)`); got != "edge-host" {
		t.Errorf("edge-1's host cell = %q, want edge-host", got)
	}
	eval[bool](tb, `window.notReloaded = true`)
	tb.waitFor("edge-1 marked stale without a reload", row+` && `+row+`.classList.contains("is-stale")`)
	if !eval[bool](tb, `window.notReloaded === true`) {
		t.Error("the page reloaded; want the stale mark to arrive over the event stream")
	}
	if got := tb.text(`tr[data-router="edge-1"] td:last-child`); got != "stale" {
		t.Errorf("edge-1's state cell = %q, want stale", got)
	}
	tb.shot("routers-stale")
	tb.checkProblems()
}
