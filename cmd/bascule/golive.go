package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/store"
	"github.com/spf13/cobra"
)

// How `go-live --watch` follows the go-live.
const (
	watchPoll     = 500 * time.Millisecond
	watchProgress = 5 * time.Second // a progress line at most this often
)

// goLiveFlags are go-live's options beyond the reason.
type goLiveFlags struct {
	steps, interval        string
	watch                  bool
	promote, pause, resume bool
	reason                 string
}

func (c *cli) goLiveCommand() *cobra.Command {
	var f goLiveFlags
	cmd := &cobra.Command{
		Use:   "go-live",
		Short: "Switch production traffic to the ready color: all at once, or step by step with --steps",
		Long: `Switch all production traffic to the ready color at once, or, with --steps and
--interval, progressively: a sticky share of users at each step, the next step
after each interval, each guarded; the last step (100) is the switch.

  bascule go-live --steps 1,10,50,100 --interval 2m --watch
  bascule go-live --pause | --resume | --promote     (the go-live in progress)
  bascule rollback                                    (everyone back, at any step)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return c.goLive(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.reason, "reason", "m", "", "why (kept in the audit log)")
	fl.BoolVar(&c.json, "json", false, "print the status as JSON")
	fl.StringVar(&f.steps, "steps", "", "progressive: percentages of users on the new release, e.g. 1,10,50,100")
	fl.StringVar(&f.interval, "interval", "", "progressive: how long each step lasts, e.g. 2m")
	fl.BoolVar(&f.watch, "watch", false, "follow the go-live and the guard to the end; exit 1 if the release is rolled back (for CI)")
	fl.BoolVar(&f.promote, "promote", false, "take the progressive go-live in progress to 100% now")
	fl.BoolVar(&f.pause, "pause", false, "hold the progressive go-live in progress at its step")
	fl.BoolVar(&f.resume, "resume", false, "let a paused progressive go-live go on")
	cmd.MarkFlagsMutuallyExclusive("promote", "pause", "resume", "steps")
	cmd.MarkFlagsRequiredTogether("steps", "interval")
	return cmd
}

func (c *cli) goLive(ctx context.Context, f goLiveFlags) error {
	cl := c.client()
	var st deploy.Status
	var err error
	switch {
	case f.promote:
		st, err = cl.Promote(ctx, f.reason)
	case f.pause:
		st, err = cl.Pause(ctx, f.reason)
	case f.resume:
		st, err = cl.Resume(ctx, f.reason)
	case f.steps != "":
		steps, perr := deploy.ParseSteps(f.steps)
		if perr != nil {
			return perr
		}
		st, err = cl.GoLiveProgressive(ctx, f.reason, steps, f.interval)
	default:
		st, err = cl.GoLive(ctx, f.reason)
	}
	if err != nil {
		return err
	}
	if c.json {
		if err := c.writeJSON(st); err != nil {
			return err
		}
	} else {
		c.printSwitched(st)
	}
	if !f.watch {
		return nil
	}
	id := watchedDeployment(st)
	if id == 0 {
		return errors.New("nothing to watch: no release is live")
	}
	return c.watchGoLive(ctx, id)
}

// printSwitched says where production stands after a go-live action.
func (c *cli) printSwitched(st deploy.Status) {
	if p := st.Progressive; p != nil {
		c.printf("%s is going live progressively: %s.\n", p.Version, progressLine(p))
		return
	}
	for _, cs := range st.Colors {
		if cs.Live {
			c.printf("%s is live on %s (%s).\n", cs.Version, cs.Color, cs.State)
		}
	}
	if st.RollbackBlocked != "" {
		c.printf("rollback is now refused: %s\n", st.RollbackBlocked)
	}
}

// watchedDeployment is the deployment a go-live made (or is making) live.
func watchedDeployment(st deploy.Status) int64 {
	if p := st.Progressive; p != nil {
		return p.DeploymentID
	}
	for _, cs := range st.Colors {
		if cs.Live {
			return cs.DeploymentID
		}
	}
	return 0
}

func progressLine(p *deploy.Progressive) string {
	line := fmt.Sprintf("%d%% of users on %s, step %d of %d (%s)", p.Percent, p.To, p.Step+1, len(p.Steps), joinInts(p.Steps))
	switch {
	case p.Paused:
		line += ", paused"
	case !p.NextAt.IsZero():
		line += ", next step at " + p.NextAt.Local().Format(time.TimeOnly)
	}
	return line
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

// watchGoLive follows deployment id's go-live — its steps, if it is
// progressive, then the guard's watch — until both have ended, and fails
// when the release did not stay live.
func (c *cli) watchGoLive(ctx context.Context, id int64) error {
	cl := c.client()
	t := time.NewTicker(watchPoll)
	defer t.Stop()
	lastPercent, printed, announced, to := -1, time.Time{}, false, ""
	for {
		st, err := cl.GoLiveState(ctx)
		if err != nil {
			return err
		}
		p, g := st.Progressive, st.Guard
		inProgress := p != nil && p.DeploymentID == id
		switch {
		case inProgress && p.Percent != lastPercent:
			if lastPercent >= 0 {
				c.printf("%s\n", progressLine(p))
			}
			lastPercent, to = p.Percent, string(p.To)
		case !inProgress && lastPercent >= 0 && lastPercent < 100:
			lastPercent = 100
			if g == nil || g.DeploymentID != id || g.State != deploy.GuardRolledBack {
				c.printf("100%% of users on %s: the go-live is complete\n", to)
			}
		}
		switch {
		case g == nil || g.DeploymentID != id:
			if !inProgress {
				c.printf("the guard is off (no guard section in bascule.yaml): nothing more to watch\n")
				return c.checkStillLive(ctx, id)
			}
		case g.Final() && !inProgress:
			c.printf("%s\n", g.Summary())
			if watchFailed(*g) {
				return exitError(1)
			}
			return nil
		case !announced:
			until := "until " + g.EndsAt.Local().Format(time.TimeOnly)
			if g.EndsAt.IsZero() {
				until = "through the steps and a window after the last"
			}
			c.printf("guard: watching %s on %s %s (error rate limit %s)\n", g.Version, g.Color, until, guard.Percent(g.MaxErrorRate))
			announced, printed = true, time.Now()
		case time.Since(printed) >= watchProgress:
			c.printf("%s\n", g.Summary())
			printed = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// checkStillLive fails when deployment id did not stay live (rolled back
// during an unguarded progressive go-live, say).
func (c *cli) checkStillLive(ctx context.Context, id int64) error {
	list, err := c.client().Deployments(ctx, 20)
	if err != nil {
		return err
	}
	for _, d := range list {
		if d.ID == id && d.State == store.StateRolledBack {
			c.printf("%s was rolled back.\n", d.Version)
			return exitError(1)
		}
	}
	return nil
}

// watchFailed reports whether the watched release did not stay live: the
// guard rolled it back, could not, or a person rolled it back meanwhile.
func watchFailed(g deploy.GuardStatus) bool {
	switch g.State {
	case deploy.GuardRolledBack, deploy.GuardUnsafe:
		return true
	case deploy.GuardStoodDown:
		return strings.HasPrefix(g.Reason, "rollback by ")
	}
	return false
}
