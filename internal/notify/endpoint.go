package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Formats of a webhook's body.
const (
	FormatJSON  = "json"  // the Event as JSON
	FormatSlack = "slack" // {"text": …}, as Slack's incoming webhooks accept
)

// Endpoint is one webhook, as configured (config.Webhook).
type Endpoint struct {
	URL string
	// Secret signs every delivery; empty: deliveries are not signed.
	Secret string
	// Events lists the kinds it is sent (KindDeployment, …); empty: all.
	Events []string
	Format string // FormatJSON (default) or FormatSlack
}

// EndpointInfo describes an endpoint without its secrets, to be shown.
type EndpointInfo struct {
	Key    string   `json:"endpoint"`
	Target string   `json:"target"`
	Events []string `json:"events"`
	Format string   `json:"format"`
	Signed bool     `json:"signed"`
}

// key names the endpoint in the store: deliveries are matched with the
// configuration again when they are sent, so the store never holds a
// secret, and a webhook whose URL changed is no longer delivered to.
func (e Endpoint) key() string {
	sum := sha256.Sum256([]byte(e.URL))
	return hex.EncodeToString(sum[:8])
}

// target is the URL fit to be shown and logged: scheme and host only, for
// the path of a webhook URL is often its secret (Slack's is).
func (e Endpoint) target() string {
	u, err := url.Parse(e.URL)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	t := u.Scheme + "://" + u.Host
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		t += "/…"
	}
	return t
}

func (e Endpoint) wants(kind string) bool {
	return len(e.Events) == 0 || slices.Contains(e.Events, kind)
}

func (e Endpoint) info() EndpointInfo {
	events := e.Events
	if len(events) == 0 {
		events = []string{KindDeployment, KindGuard, KindFlag}
	}
	format := e.Format
	if format == "" {
		format = FormatJSON
	}
	return EndpointInfo{Key: e.key(), Target: e.target(), Events: events, Format: format, Signed: e.Secret != ""}
}

// render is the request body of ev for this endpoint.
func (e Endpoint) render(ev Event) ([]byte, error) {
	if e.Format == FormatSlack {
		return json.Marshal(map[string]string{"text": slackText(ev)})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event %d: %w", ev.ID, err)
	}
	return b, nil
}

// slackText is ev as a Slack message: the app in bold, a warning sign on
// bad news, the text, and the detail when it says more than the text.
// Slack reads &, < and > as markup, so they are escaped.
func slackText(ev Event) string {
	var b strings.Builder
	switch ev.Type {
	case DeploymentFailed, DeploymentRolledBack, DeploymentSwitchFailed, GuardBreach:
		b.WriteString(":warning: ")
	}
	fmt.Fprintf(&b, "*%s* · %s", slackEscape(ev.App), slackEscape(ev.Text))
	if d := strings.TrimSpace(ev.Detail); d != "" && !strings.Contains(ev.Text, d) {
		b.WriteString("\n```" + slackEscape(d) + "```")
	}
	return b.String()
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackEscape(s string) string { return slackEscaper.Replace(s) }
