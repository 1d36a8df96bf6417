package web

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// logPoll is how often a deployment stream looks for new app log lines.
// The driver keeps the log in a file; reading its tail is cheap.
const logPoll = 500 * time.Millisecond

// deploymentEvents streams a deployment to its page, as the API's events
// endpoint does but with the session: a "deployment" event with the steps
// rendered as on the page at each change, a "log" event with the app's log
// tail when it grows, and "end" when the pipeline has finished.
func (h *Handler) deploymentEvents(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := deploymentID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	updates, cancel := h.opts.Deploy.Subscribe(id)
	defer cancel()
	d, err := h.opts.Store.Deployment(ctx, id)
	if err != nil {
		return fmt.Errorf("deployment #%d: %w", id, err)
	}
	es := startStream(w)
	f := &deploymentFeed{h: h, es: es, r: r}
	f.send(d)
	logs := time.NewTicker(logPoll)
	defer logs.Stop()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for store.Active(d.State) || h.opts.Deploy.Running(id) {
		select {
		case <-ctx.Done():
			return nil
		case u := <-updates:
			if u.UpdatedAt.Before(d.UpdatedAt) && store.Active(u.State) {
				continue // published before our first read
			}
			d = u
			f.send(d)
		case <-logs.C:
			f.sendLog(d)
		case <-keep.C:
			es.keepAlive()
		}
	}
	f.send(d)
	es.send("end", string(d.State))
	return nil
}

// deploymentFeed remembers what a stream sent, to send only changes.
type deploymentFeed struct {
	h    *Handler
	es   *eventStream
	r    *http.Request
	log  []string
	sent bool
}

func (f *deploymentFeed) send(d store.Deployment) {
	v := f.h.deploymentView(f.r.Context(), d)
	html, err := f.h.pages.exec("deployment", "deployment-live", v)
	if err != nil {
		f.h.log.Error("render deployment", "id", d.ID, "err", err)
		return
	}
	f.es.send("deployment", html)
	f.sendLines(v.Log, v.LogNote)
}

func (f *deploymentFeed) sendLog(d store.Deployment) {
	lines, note := f.h.logFor(f.r.Context(), d)
	f.sendLines(lines, note)
}

func (f *deploymentFeed) sendLines(lines []string, note string) {
	if f.sent && slices.Equal(lines, f.log) {
		return
	}
	html, err := f.h.pages.exec("deployment", "log-lines", logView{Lines: lines, Note: note})
	if err != nil {
		f.h.log.Error("render log", "err", err)
		return
	}
	f.log, f.sent = lines, true
	f.es.send("log", html)
}

// logView is the app log pane.
type logView struct {
	Lines []string
	Note  string
}
