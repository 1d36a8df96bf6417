package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/bascule/bascule/internal/yamldoc"
)

// Webhook formats accepted by notify[].format.
const (
	FormatJSON  = "json"  // bascule's event, as JSON
	FormatSlack = "slack" // {"text": …}, what Slack's incoming webhooks accept
)

// NotifyKinds are the kinds of event a webhook may ask for in
// notify[].events; a webhook without events gets them all.
var NotifyKinds = []string{"deployment", "guard", "flag"}

// minSecretLen is the shortest signing secret accepted: shorter ones can
// be guessed from a signed body by brute force.
const minSecretLen = 16

// Webhook is one entry of notify: where bascule POSTs events, which kinds,
// in which format, signed with which secret.
type Webhook struct {
	// URL is the http:// or https:// URL the events are POSTed to, written
	// in the file or read from the environment variable URLEnv (a Slack
	// webhook's URL is itself a secret).
	URL    string
	URLEnv string
	// Secret signs each delivery (HMAC-SHA256); it is read from the
	// environment variable SecretEnv. Empty: deliveries are not signed.
	Secret    string
	SecretEnv string
	Events    []string // kinds sent, from NotifyKinds; default all of them
	Format    string   // FormatJSON (default) or FormatSlack
}

// webhooks decodes notify: a list of mappings.
func (d *decoder) webhooks(path string, n yamldoc.Node, dst *[]Webhook) {
	out := []Webhook{}
	if !d.list(path, n, `webhooks such as [{url: "https://hooks.example.com/bascule"}]`, func(p string, item yamldoc.Node) {
		w := Webhook{Format: FormatJSON}
		d.mapping(p, item, section{
			"url":        d.str(&w.URL),
			"url_env":    d.str(&w.URLEnv),
			"secret_env": d.str(&w.SecretEnv),
			"events":     d.strs(&w.Events),
			"format":     d.str(&w.Format),
		})
		if w.Events == nil {
			w.Events = slices.Clone(NotifyKinds)
		}
		out = append(out, w)
	}) {
		return
	}
	*dst = out
}

// webhookEnv reads each notify[].url_env and secret_env. Neither value is
// ever part of a message.
func (v *validator) webhookEnv(list []Webhook, lookup lookupFunc) {
	for i := range list {
		w := &list[i]
		p := fmt.Sprintf("notify[%d]", i)
		w.URL = v.secret(p+".url", w.URL, w.URLEnv, lookup)
		w.Secret = v.secret(p+".secret", "", w.SecretEnv, lookup)
		if w.Secret != "" && len(w.Secret) < minSecretLen {
			v.errorf(p+".secret_env", "environment variable %s holds %d characters; a signing secret needs at least %d (e.g. `openssl rand -hex 32`)",
				w.SecretEnv, len(w.Secret), minSecretLen)
		}
	}
}

// webhooks checks notify. A webhook URL often holds a secret (Slack's do,
// in their path), so messages never repeat more of it than scheme and host.
func (v *validator) webhooks(list []Webhook) {
	seen := map[string]string{}
	for i, w := range list {
		p := fmt.Sprintf("notify[%d]", i)
		urlPath := p + ".url"
		if w.URLEnv != "" {
			urlPath = p + ".url_env"
		}
		switch {
		case w.URL == "" && w.URLEnv == "":
			v.errorf(urlPath, "required (or url_env), e.g. \"https://hooks.example.com/bascule\"")
		case w.URL != "":
			v.webhookURL(urlPath, w.URL)
			if first, dup := seen[w.URL]; dup {
				v.errorf(urlPath, "the same URL as %s; list each webhook once", first)
			}
			seen[w.URL] = p
		}
		v.notifyEvents(p+".events", w.Events)
		if w.Format != FormatJSON && w.Format != FormatSlack {
			v.errorf(p+".format", "unknown format %q; want %q or %q", w.Format, FormatJSON, FormatSlack)
		}
	}
}

func (v *validator) webhookURL(path, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Opaque != "":
		v.errorf(path, "not a URL; want e.g. \"https://hooks.example.com/bascule\"")
	case u.Scheme == "":
		v.errorf(path, "no scheme; write the whole URL, e.g. \"https://hooks.example.com/bascule\"")
	case u.Scheme != "http" && u.Scheme != "https":
		v.errorf(path, "scheme %q: want http:// or https://", u.Scheme)
	case !validHost(u.Host):
		v.errorf(path, "%s://… names no valid host", u.Scheme)
	case u.Fragment != "":
		v.errorf(path, "%s://%s…: remove the #fragment, which is never sent", u.Scheme, u.Host)
	}
}

func (v *validator) notifyEvents(path string, events []string) {
	if len(events) == 0 {
		v.errorf(path, "lists no kind of event; leave it out to get all of %s", strings.Join(NotifyKinds, ", "))
	}
	seen := map[string]bool{}
	for i, e := range events {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case !slices.Contains(NotifyKinds, e):
			msg := fmt.Sprintf("unknown kind of event %q; want one of %s", e, strings.Join(NotifyKinds, ", "))
			if s := yamldoc.Suggest(e, NotifyKinds); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			v.errorf(p, "%s", msg)
		case seen[e]:
			v.errorf(p, "%q is listed twice", e)
		}
		seen[e] = true
	}
}
