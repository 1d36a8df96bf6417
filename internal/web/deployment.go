package web

import (
	"context"
	"slices"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/store"
)

// logLines is how much of the app's log a deployment page shows.
const logLines = 60

// deploymentView is one deployment as its page shows it.
type deploymentView struct {
	D          store.Deployment
	Steps      []stepView
	Active     bool // the pipeline still runs: the page listens for updates
	Log        []string
	LogNote    string // why there is no live log
	PreviewURL string
}

type stepView struct {
	Name, Label, State, Message string
	Dur                         string
	Secs                        float64 // how long a running step has run
	Running, Pending            bool
}

// pipelineSteps are the steps every deployment goes through, in order, to
// show those still to come.
var pipelineSteps = []string{deploy.StepFetch, deploy.StepMigrate, deploy.StepReplace, deploy.StepStart, deploy.StepHealth, deploy.StepSmoke}

var stepLabels = map[string]string{
	deploy.StepFinalize: "Finalize the previous release",
	deploy.StepFetch:    "Fetch and verify the artifact",
	deploy.StepMigrate:  "Migrations (expand)",
	deploy.StepReplace:  "Free the idle color",
	deploy.StepStart:    "Start",
	deploy.StepHealth:   "Health checks",
	deploy.StepSmoke:    "Smoke test",
	deploy.StepGoLive:   "Go live",
}

func (h *Handler) deploymentView(ctx context.Context, d store.Deployment) deploymentView {
	now := h.now()
	v := deploymentView{D: d, Active: store.Active(d.State) || h.opts.Deploy.Running(d.ID), PreviewURL: h.opts.PreviewURL}
	for _, s := range d.Steps {
		v.Steps = append(v.Steps, stepView{Name: s.Name, Label: label(s.Name), State: s.State, Message: s.Message,
			Dur: duration(s.Duration(now)), Secs: s.Duration(now).Seconds(), Running: s.State == store.StepRunning})
	}
	if store.Active(d.State) {
		v.Steps = append(v.Steps, pendingSteps(d.Steps)...)
	}
	v.Log, v.LogNote = h.logFor(ctx, d)
	return v
}

func label(step string) string {
	if l, ok := stepLabels[step]; ok {
		return l
	}
	return step
}

// pendingSteps are the pipeline's steps after the last one begun.
func pendingSteps(begun []store.Step) []stepView {
	next := 0
	for _, s := range begun {
		if i := slices.Index(pipelineSteps, s.Name); i >= 0 {
			next = i + 1
		}
	}
	var out []stepView
	for _, name := range pipelineSteps[next:] {
		out = append(out, stepView{Name: name, Label: label(name), State: "pending", Pending: true})
	}
	return out
}

// logFor returns the app log worth showing with d: the live log while d
// runs or its release still holds the color, the tail kept at failure
// otherwise.
func (h *Handler) logFor(ctx context.Context, d store.Deployment) ([]string, string) {
	if store.Active(d.State) || h.holdsColor(ctx, d) {
		lines := h.opts.Deploy.Logs(d.Color, logLines)
		if len(lines) == 0 {
			return nil, "No log lines yet."
		}
		return lines, ""
	}
	if len(d.LogTail) > 0 {
		return d.LogTail, ""
	}
	return nil, "This release no longer runs on " + d.Color + ", so its live log is gone."
}

func (h *Handler) holdsColor(ctx context.Context, d store.Deployment) bool {
	slots, err := h.opts.Store.Slots(ctx, h.opts.Deploy.App())
	return err == nil && slots[d.Color].DeploymentID == d.ID
}

// LogPane is the log pane's content, as the live stream also renders it.
func (v deploymentView) LogPane() logView { return logView{Lines: v.Log, Note: v.LogNote} }
