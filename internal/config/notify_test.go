package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseNotify(t *testing.T) {
	const secret = "0123456789abcdef0123"
	file := cmdOK + `notify:
  - url: https://hooks.example.com/bascule
    secret_env: HOOK_SECRET
    events: [deployment, guard]
  - url_env: SLACK_URL
    format: slack
`
	got, err := parse("b.yaml", []byte(file), env(map[string]string{"HOOK_SECRET": secret, "SLACK_URL": "https://hooks.slack.com/services/T0/B0/XXXX"}))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := []Webhook{
		{URL: "https://hooks.example.com/bascule", Secret: secret, SecretEnv: "HOOK_SECRET", Events: []string{"deployment", "guard"}, Format: FormatJSON},
		{URL: "https://hooks.slack.com/services/T0/B0/XXXX", URLEnv: "SLACK_URL", Events: []string{"deployment", "guard", "flag"}, Format: FormatSlack},
	}
	if diff := cmp.Diff(want, got.Notify); diff != "" {
		t.Errorf("notify (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate() of a loaded config = %v", err)
	}
}

func TestParseNotifyInvalid(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		{"not a list", "notify: {url: https://h.example}\n", nil,
			[]string{`b.yaml:2: notify: expected a list of webhooks such as [{url: "https://hooks.example.com/bascule"}], got a mapping`}},
		{"item not a mapping", "notify:\n  - https://h.example\n", nil,
			[]string{`b.yaml:3: notify[0]: expected a mapping, got a string`}},
		{"missing url and unknown key", "notify:\n  - secret: x\n", nil,
			[]string{`b.yaml:3: unknown key "secret" in notify[0] (did you mean "secret_env"?)`,
				`b.yaml:3: notify[0].url: required (or url_env), e.g. "https://hooks.example.com/bascule"`}},
		{"bad urls, secrets not echoed", "notify:\n  - url: ftp://h.example/T0KEN\n  - url: hooks.example.com/T0KEN\n  - url: https://h.example/T0KEN#frag\n", nil,
			[]string{
				`b.yaml:3: notify[0].url: scheme "ftp": want http:// or https://`,
				`b.yaml:4: notify[1].url: no scheme; write the whole URL, e.g. "https://hooks.example.com/bascule"`,
				`b.yaml:5: notify[2].url: https://h.example…: remove the #fragment, which is never sent`,
			}},
		{"duplicate url", "notify:\n  - url: https://h.example/a\n  - url: https://h.example/a\n", nil,
			[]string{`b.yaml:4: notify[1].url: the same URL as notify[0]; list each webhook once`}},
		{"url and url_env", "notify:\n  - url: https://h.example/a\n    url_env: HOOK_URL\n", map[string]string{"HOOK_URL": "https://h.example/b"},
			[]string{`b.yaml:4: notify[0].url_env: set url or url_env, not both`}},
		{"url_env unset, no cascade", "notify:\n  - url_env: HOOK_URL\n", nil,
			[]string{`b.yaml:3: notify[0].url_env: environment variable HOOK_URL is not set`}},
		{"url from the environment checked, not echoed", "notify:\n  - url_env: HOOK_URL\n  - url: https://h.example/T0KEN\n",
			map[string]string{"HOOK_URL": "https://h.example/T0KEN"},
			[]string{`b.yaml:4: notify[1].url: the same URL as notify[0]; list each webhook once`}},
		{"bad url from the environment", "notify:\n  - url_env: HOOK_URL\n", map[string]string{"HOOK_URL": "hooks.slack.com/services/T0KEN"},
			[]string{`b.yaml:3: notify[0].url_env: no scheme; write the whole URL, e.g. "https://hooks.example.com/bascule"`}},
		{"events and format", "notify:\n  - url: https://h.example/a\n    events: [deploymnt, flag, flag]\n    format: teams\n", nil,
			[]string{
				`b.yaml:4: notify[0].events[0]: unknown kind of event "deploymnt"; want one of deployment, guard, flag (did you mean "deployment"?)`,
				`b.yaml:4: notify[0].events[2]: "flag" is listed twice`,
				`b.yaml:5: notify[0].format: unknown format "teams"; want "json" or "slack"`,
			}},
		{"no events", "notify:\n  - url: https://h.example/a\n    events: []\n", nil,
			[]string{`b.yaml:4: notify[0].events: lists no kind of event; leave it out to get all of deployment, guard, flag`}},
		{"secret unset", "notify:\n  - url: https://h.example/a\n    secret_env: HOOK_SECRET\n", nil,
			[]string{`b.yaml:4: notify[0].secret_env: environment variable HOOK_SECRET is not set`}},
		{"secret too short, not echoed", "notify:\n  - url: https://h.example/a\n    secret_env: HOOK_SECRET\n", map[string]string{"HOOK_SECRET": "hunter2"},
			[]string{"b.yaml:4: notify[0].secret_env: environment variable HOOK_SECRET holds 7 characters; a signing secret needs at least 16 (e.g. `openssl rand -hex 32`)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse("b.yaml", []byte(cmdOK+tc.yaml), env(tc.env))
			if err == nil {
				t.Fatalf("parse(%q) = nil error, want:\n%s", tc.yaml, strings.Join(tc.want, "\n"))
			}
			if diff := cmp.Diff(tc.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("parse(%q) errors mismatch (-want +got):\n%s", tc.yaml, diff)
			}
			if strings.Contains(err.Error(), "T0KEN") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("an error repeats a secret: %v", err)
			}
		})
	}
}
