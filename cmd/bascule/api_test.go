package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAPIBadInput: every bad request gets a JSON error with the right
// status, and nothing changes.
func TestAPIBadInput(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.addRelease("v1", "")
	base := "http://" + in.control
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"no token", "POST", "/api/v1/deployments", "", `{"version":"v1"}`, 401, "unauthenticated"},
		{"wrong token", "POST", "/api/v1/deployments", "bsc_wrong", `{"version":"v1"}`, 401, "unauthenticated"},
		{"no token on reads", "GET", "/api/v1/status", "", "", 401, "unauthenticated"},
		{"malformed JSON", "POST", "/api/v1/deployments", adminToken, `{"version":`, 400, "bad_request"},
		{"unknown field", "POST", "/api/v1/deployments", adminToken, `{"version":"v1","colour":"green"}`, 400, "bad_request"},
		{"two values", "POST", "/api/v1/deployments", adminToken, `{"version":"v1"}{}`, 400, "bad_request"},
		{"missing version", "POST", "/api/v1/deployments", adminToken, `{}`, 400, "bad_request"},
		{"oversized body", "POST", "/api/v1/deployments", adminToken, `{"version":"v1","reason":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "too_large"},
		{"unknown version", "POST", "/api/v1/deployments", adminToken, `{"version":"v9"}`, 404, "unknown_release"},
		{"bad id", "GET", "/api/v1/deployments/abc", adminToken, "", 400, "bad_request"},
		{"unknown id", "GET", "/api/v1/deployments/999", adminToken, "", 404, "not_found"},
		{"unknown release", "GET", "/api/v1/releases/v9", adminToken, "", 404, "not_found"},
		{"bad release version", "POST", "/api/v1/releases?version=../x", adminToken, "bytes", 400, "bad_request"},
		{"same version, other bytes", "POST", "/api/v1/releases?version=v1", adminToken, "other bytes", 409, "release_exists"},
		{"archive climbing out by chained links", "POST", "/api/v1/releases?version=v2&filename=v2.tar.gz", adminToken, escapingArchive(t), 422, "unsafe_archive"},
		{"unknown endpoint", "GET", "/api/v1/nope", adminToken, "", 404, "not_found"},
		{"bad limit", "GET", "/api/v1/deployments?limit=0", adminToken, "", 400, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &e); err != nil || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s %s = %d %q, want a JSON error", tc.method, tc.path, resp.StatusCode, body)
			}
			if resp.StatusCode != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Errorf("%s %s = %d %s %q, want %d %s", tc.method, tc.path, resp.StatusCode, e.Error.Code, e.Error.Message, tc.status, tc.code)
			}
		})
	}
	list, err := in.cl.Deployments(context.Background(), 10)
	if err != nil || len(list) != 0 {
		t.Errorf("deployments after bad requests = %d, %v; want none", len(list), err)
	}
	rels, err := in.cl.Releases(context.Background())
	if err != nil || len(rels) != 1 {
		t.Errorf("releases after bad requests = %d, %v; want only v1", len(rels), err)
	}
	// The same bytes again is not an error: CI may retry an upload.
	var buf bytes.Buffer
	demoArtifact(&buf, "v1", "")
	if _, created, err := in.cl.AddRelease(context.Background(), "v1", "v1.tar.gz", "", &buf); err != nil || created {
		t.Errorf("re-registering v1 with the same bytes = created %v, %v; want 200, not created", created, err)
	}
}

// TestAuditExport: every action is in the audit log with who, what, from
// where and the outcome; ?format=jsonl exports it one object a line,
// oldest first, and filters narrow it.
func TestAuditExport(t *testing.T) {
	in := newInstance(t, "")
	in.start()
	in.liveWith("v1")
	get := func(query string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+in.control+"/api/v1/audit"+query, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("?format=jsonl")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	var first, last struct{ Actor, Action, Target, Outcome, Source string }
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("first line %q: %v", lines[0], err)
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if first.Action != "release.add" || last.Action != "go-live" || last.Outcome != "ok" || last.Actor != "token:admin" {
		t.Errorf("export runs %s … %s (%s by %s), want release.add first and go-live by token:admin last", first.Action, last.Action, last.Outcome, last.Actor)
	}
	if !strings.HasPrefix(last.Source, "127.0.0.1 via token") {
		t.Errorf("go-live source = %q, want the client address and how it authenticated", last.Source)
	}
	_, body = get("?action=deploy&format=jsonl")
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.Contains(l, `"action":"deploy"`) {
			t.Errorf("filtered export has %s", l)
		}
	}
	if resp, _ := get("?format=xml"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("format=xml = %d, want 400", resp.StatusCode)
	}
}

// escapingArchive is a tar.gz whose links, each harmless lexically, chain
// out of the release directory (issue 11).
func escapingArchive(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeSymlink, Name: "a", Linkname: "."},
		{Typeflag: tar.TypeSymlink, Name: "b", Linkname: "a/.."},
		{Typeflag: tar.TypeReg, Name: "b/x", Mode: 0o644},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.String()
}
