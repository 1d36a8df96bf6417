package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// Kinds of event; a webhook's events setting picks among them.
const (
	KindDeployment = "deployment"
	KindGuard      = "guard"
	KindFlag       = "flag"
)

// Types of event. A type starts with its kind and a full stop.
const (
	DeploymentStarted      = "deployment.started"
	DeploymentReady        = "deployment.ready"
	DeploymentLive         = "deployment.live"
	DeploymentStep         = "deployment.step" // a progressive go-live reached a step
	DeploymentRolledBack   = "deployment.rolled_back"
	DeploymentFailed       = "deployment.failed"
	DeploymentFinalized    = "deployment.finalized"
	DeploymentSwitchFailed = "deployment.switch_failed" // a go-live or rollback was tried and failed
	GuardBreach            = "guard.breach"             // the guard judged the live release harmful
	GuardPassed            = "guard.passed"             // the guard's window ended without a breach
	FlagChanged            = "flag.changed"
)

// Event is what a webhook receives (format json). Fields that do not apply
// to an event are left out.
type Event struct {
	// ID identifies the event; every webhook sent it gets the same ID.
	ID   int64     `json:"id"`
	Kind string    `json:"kind"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	App  string    `json:"app"`
	// Actor is who caused the event: who deployed, went live or rolled
	// back ("guard" when the guard rolled back), who changed the flags.
	Actor string `json:"actor,omitempty"`
	// Version is the release concerned; Deployment its deployment and
	// Color the color it runs on, when known.
	Version    string `json:"version,omitempty"`
	Deployment int64  `json:"deployment,omitempty"`
	Color      string `json:"color,omitempty"`
	// Text says what happened in one line, for people.
	Text string `json:"text"`
	// Detail is the longer story: the reason given, the error, the flag
	// changes one per line.
	Detail string `json:"detail,omitempty"`
	// Data holds the figures behind a guard verdict or a step (error rate,
	// requests seen, share of traffic …), as the publisher gave them.
	Data map[string]any `json:"data,omitempty"`
}

// fromStore turns a recorded event into what webhooks are told; ok is
// false for an event no webhook is told of (a deployment moving between
// pipeline steps, a switch told by its audit entry instead).
func fromStore(se store.Event, app string) (ev Event, ok bool, err error) {
	switch se.Source {
	case store.EventDeployment:
		var p store.DeploymentEvent
		if err := json.Unmarshal(se.Payload, &p); err != nil {
			return ev, false, fmt.Errorf("decode deployment event %d: %w", se.ID, err)
		}
		ev, ok = deploymentEvent(p)
	case store.EventAudit:
		var p store.AuditEvent
		if err := json.Unmarshal(se.Payload, &p); err != nil {
			return ev, false, fmt.Errorf("decode audit event %d: %w", se.ID, err)
		}
		ev, ok = switchEvent(p)
	case store.EventFlags:
		var p store.FlagEvent
		if err := json.Unmarshal(se.Payload, &p); err != nil {
			return ev, false, fmt.Errorf("decode flag event %d: %w", se.ID, err)
		}
		ev, ok = flagEvent(p), true
	case store.EventPublished:
		if err := json.Unmarshal(se.Payload, &ev); err != nil {
			return ev, false, fmt.Errorf("decode published event %d: %w", se.ID, err)
		}
		ok = true
	default:
		return ev, false, fmt.Errorf("event %d: unknown source %q", se.ID, se.Source)
	}
	ev.ID, ev.At = se.ID, se.At.UTC()
	if ev.App == "" {
		ev.App = app
	}
	return ev, ok, nil
}

func deploymentEvent(p store.DeploymentEvent) (Event, bool) {
	ev := Event{Kind: KindDeployment, App: p.App, Actor: p.RequestedBy, Version: p.Version, Deployment: p.ID, Color: p.Color}
	switch {
	case p.From == "":
		ev.Type, ev.Detail = DeploymentStarted, p.Reason
		ev.Text = fmt.Sprintf("deployment #%d of %s to %s started by %s", p.ID, p.Version, p.Color, p.RequestedBy)
		if p.Reason != "" {
			ev.Text += ": " + firstLine(p.Reason)
		}
	case p.To == store.StateReady:
		ev.Type = DeploymentReady
		ev.Text = fmt.Sprintf("%s is ready on %s (deployment #%d): preview it, then go live", p.Version, p.Color, p.ID)
	case p.To == store.StateFailed:
		ev.Type, ev.Detail = DeploymentFailed, p.Error
		ev.Text = fmt.Sprintf("deployment #%d of %s failed: %s", p.ID, p.Version, firstLine(p.Error))
	case p.To == store.StateFinalized:
		ev.Type, ev.Actor = DeploymentFinalized, ""
		ev.Text = fmt.Sprintf("%s is finalized: its contract migrations ran; rolling back past it is refused", p.Version)
	default:
		// Pipeline steps are the deployment page's business; going live
		// and rolling back are told from the audit log, which knows who.
		return ev, false
	}
	return ev, true
}

func switchEvent(p store.AuditEvent) (Event, bool) {
	ev := Event{Kind: KindDeployment, Actor: p.Actor, Version: p.Target, Detail: p.Detail}
	switch {
	case p.Outcome == "ok" && p.Action == "go-live":
		ev.Type = DeploymentLive
		ev.Text = fmt.Sprintf("%s is live (go-live by %s)", p.Target, p.Actor)
	case p.Outcome == "ok" && p.Action == "rollback":
		ev.Type = DeploymentRolledBack
		ev.Text = fmt.Sprintf("rolled back to %s by %s", p.Target, p.Actor)
	case p.Outcome == "failed":
		ev.Type = DeploymentSwitchFailed
		ev.Text = fmt.Sprintf("%s to %s by %s failed", p.Action, p.Target, p.Actor)
	default:
		return ev, false
	}
	if p.Detail != "" {
		ev.Text += ": " + firstLine(p.Detail)
	}
	return ev, true
}

func flagEvent(p store.FlagEvent) Event {
	lines := strings.Split(strings.TrimSpace(p.Summary), "\n")
	text := fmt.Sprintf("flags changed by %s (version %d): %s", p.Actor, p.Version, lines[0])
	if len(lines) > 1 {
		text += fmt.Sprintf(" and %d more", len(lines)-1)
	}
	return Event{Kind: KindFlag, Type: FlagChanged, Actor: p.Actor, Text: text, Detail: p.Summary,
		Data: map[string]any{"flags_version": p.Version}}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
