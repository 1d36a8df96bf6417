package main

import (
	"context"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/guard"
	"github.com/spf13/cobra"
)

// How `go-live --watch` follows the guard.
const (
	watchPoll     = 500 * time.Millisecond
	watchProgress = 5 * time.Second // a progress line at most this often
)

func (c *cli) goLiveCommand() *cobra.Command {
	var watch bool
	var live deploy.Status
	cmd := c.switchCommand("go-live", "Switch all production traffic to the ready color",
		func(cmd *cobra.Command, reason string) (deploy.Status, error) {
			st, err := c.client().GoLive(cmd.Context(), reason)
			live = st
			return st, err
		})
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := run(cmd, args); err != nil || !watch {
			return err
		}
		for _, cs := range live.Colors {
			if cs.Live {
				return c.watchGuard(cmd.Context(), cs.DeploymentID)
			}
		}
		return nil
	}
	cmd.Flags().BoolVar(&watch, "watch", false,
		"follow the guard until its window ends; exit 1 if the release is rolled back (for CI)")
	return cmd
}

// watchGuard follows the guard's watch of deployment id, which just went
// live, until it ends, and fails when the release did not stay live.
func (c *cli) watchGuard(ctx context.Context, id int64) error {
	cl := c.client()
	st, err := cl.GoLiveState(ctx)
	if err != nil {
		return err
	}
	g := st.Guard
	if g == nil || g.DeploymentID != id {
		c.printf("the guard is off (no guard section in bascule.yaml): nothing to watch\n")
		return nil
	}
	c.printf("guard: watching %s on %s until %s (error rate limit %s)\n", g.Version, g.Color,
		g.EndsAt.Local().Format(time.TimeOnly), guard.Percent(g.MaxErrorRate))
	printed := time.Now()
	t := time.NewTicker(watchPoll)
	defer t.Stop()
	for {
		if !g.Final() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
			st, err := cl.GoLiveState(ctx)
			if err != nil {
				return err
			}
			g = st.Guard
		}
		if g == nil || g.DeploymentID != id {
			c.printf("guard: the watch of deployment #%d was replaced by another go-live\n", id)
			return nil
		}
		if g.Final() {
			c.printf("%s\n", g.Summary())
			if watchFailed(*g) {
				return exitError(1)
			}
			return nil
		}
		if time.Since(printed) >= watchProgress {
			c.printf("%s\n", g.Summary())
			printed = time.Now()
		}
	}
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
