package router

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestConfigureChangesPreviewOnBothFronts: a router started without
// preview (a `bascule router` before its control plane's first word) gets
// the control plane's preview settings by Configure: from then on the
// preview header reaches the idle color on both fronts, and the app never
// sees the token; settings without a token turn preview off again.
func TestConfigureChangesPreviewOnBothFronts(t *testing.T) {
	r, _, _ := newPair(t, Options{}, nil, nil)
	fronts := map[string]string{"fast": serve(t, r)}
	std := httptest.NewServer(r)
	t.Cleanup(std.Close)
	fronts["net/http"] = std.URL
	c := newClient(true)
	through := func(front, token string) seen {
		t.Helper()
		req := mustRequest(t, http.MethodGet, fronts[front]+"/echo")
		req.Header.Set("X-Shop-Preview", token)
		req.Header.Set("Cookie", "shop_preview="+token+"; other=1")
		status, _, body := get(t, c, req)
		var s seen
		if status != http.StatusOK || json.Unmarshal([]byte(body), &s) != nil {
			t.Fatalf("%s front: %d %q", front, status, body)
		}
		return s
	}
	for front := range fronts {
		if s := through(front, "tok"); s.Color != Blue {
			t.Errorf("%s front without preview settings: answered by %s, want blue", front, s.Color)
		}
	}

	want := Settings{PreviewToken: "tok", PreviewHeader: "X-Shop-Preview", PreviewCookie: "shop_preview",
		PreviewHosts: []string{"preview.shop"}, Concurrency: 8, QueueTimeout: time.Second}
	r.Configure(want)
	if got := r.Settings(); !got.Equal(want) {
		t.Errorf("Settings() = %+v, want %+v", got, want)
	}
	for front := range fronts {
		s := through(front, "tok")
		if s.Color != Green {
			t.Errorf("%s front after Configure: answered by %s, want green (the preview)", front, s.Color)
		}
		if v := s.Header.Get("X-Shop-Preview"); v != "" {
			t.Errorf("%s front: the app saw the preview header %q", front, v)
		}
		if v := s.Header.Get("Cookie"); v != "other=1" {
			t.Errorf("%s front: the app saw Cookie %q, want other=1 (the preview cookie stripped)", front, v)
		}
		if s := through(front, "nope"); s.Color != Blue {
			t.Errorf("%s front: a wrong token answered by %s, want blue", front, s.Color)
		}
	}

	r.Configure(Settings{})
	for front := range fronts {
		if s := through(front, "tok"); s.Color != Blue {
			t.Errorf("%s front with preview turned off: answered by %s, want blue", front, s.Color)
		}
	}
}

func TestSettingsEqual(t *testing.T) {
	a := Settings{PreviewHosts: []string{"a"}, PreviewToken: "t", Concurrency: 2}
	b := a
	b.PreviewHosts = []string{"a"}
	if !a.Equal(b) {
		t.Error("equal settings reported different")
	}
	for _, change := range []func(*Settings){
		func(s *Settings) { s.PreviewHosts = []string{"b"} },
		func(s *Settings) { s.PreviewToken = "u" },
		func(s *Settings) { s.Concurrency = 3 },
		func(s *Settings) { s.QueueTimeout = time.Second },
		func(s *Settings) { s.CohortKeyHeader = "X-User" },
	} {
		c := a
		c.PreviewHosts = []string{"a"}
		change(&c)
		if a.Equal(c) {
			t.Errorf("%+v reported equal to %+v", c, a)
		}
	}
}
