package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/spf13/cobra"
)

// cli holds what every command shares: where to write and how to reach the
// server. It is built per run, so tests drive run() like a user would.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	server, token  string
	json           bool
	quiet          bool // token create: the secret alone, for scripts
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		msg := err.Error()
		var ae *client.Error
		if errors.As(err, &ae) {
			msg = ae.Message
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			msg += "\nno bascule answers at " + c.client().BaseURL + ": is it running, and is BASCULE_URL (or --server) right?"
		}
		// One prefix on every line: a config with three problems gives
		// three lines that all say where they come from.
		for line := range strings.SplitSeq(strings.TrimRight(msg, "\n"), "\n") {
			fmt.Fprintf(stderr, "bascule: %s\n", line)
		}
		var ex exitError
		if errors.As(err, &ex) {
			return int(ex)
		}
		return 1
	}
	return 0
}

// exitError carries a specific exit status.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "bascule",
		Short: "Continuous delivery in one binary: blue-green deploys, one-click go-live and rollback",
		Long: `bascule deploys a release to the idle color of a blue-green pair, verifies it,
and switches production traffic to it in one click — and back in one click.

Start it with 'bascule serve -c bascule.yaml', or try it with 'bascule demo'.
The other commands talk to a running bascule through its API: set
BASCULE_URL (default http://127.0.0.1:8081) and BASCULE_TOKEN.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&c.server, "server", "", "API address (env BASCULE_URL; default http://127.0.0.1:8081)")
	root.PersistentFlags().StringVar(&c.token, "token", "", "API token (env BASCULE_TOKEN)")
	root.AddCommand(c.serveCommand(), c.demoCommand(), c.releaseCommand(), c.deployCommand(),
		c.goLiveCommand(), c.rollbackCommand(), c.finalizeCommand(), c.statusCommand(), c.historyCommand(), c.sampleAppCommand(), c.routerCommand())
	root.AddCommand(c.userCommand(), c.tokenCommand(), c.adminCommand())
	root.AddCommand(c.migrateCommand())
	root.AddCommand(c.flagsCommand())
	root.AddCommand(c.notificationsCommand())
	return root
}

func (c *cli) client() *client.Client {
	server := c.server
	if server == "" {
		server = c.getenv("BASCULE_URL")
	}
	if server == "" {
		server = "http://127.0.0.1:8081"
	}
	token := c.token
	if token == "" {
		token = c.getenv("BASCULE_TOKEN")
	}
	return &client.Client{BaseURL: server, Token: token}
}

func (c *cli) printf(format string, args ...any) { fmt.Fprintf(c.stdout, format, args...) }

func round(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
