package main

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"time"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/server"
	"github.com/spf13/cobra"
)

// localFlags name bascule's store on this machine, for the commands that
// work on it directly instead of through the API: the recovery path when
// no one can log in any more.
type localFlags struct {
	config, data string
}

func (f *localFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVarP(&f.config, "config", "c", "", "the config bascule serves with (its data_dir and store); "+what)
	cmd.Flags().StringVar(&f.data, "data", "", "bascule's data directory (overrides the config's data_dir); "+what)
}

func (f *localFlags) set() bool { return f.config != "" || f.data != "" }

// open opens the store for local administration, auditing as the
// operating system user who runs the command.
func (c *cli) openLocal(ctx context.Context, f localFlags) (*server.Local, error) {
	cfg := config.Default()
	switch {
	case f.config != "":
		var err error
		if cfg, err = config.Load(f.config); err != nil {
			return nil, err
		}
	case f.data == "":
		return nil, errors.New("say where bascule keeps its data: --data DIR, or -c bascule.yaml")
	}
	if f.data != "" {
		cfg.DataDir = f.data
	}
	return server.OpenLocal(ctx, cfg, localActor(c.getenv), c.logger(false))
}

// localActor is how the audit log names someone acting on the store
// directly: their operating system account.
func localActor(getenv func(string) string) string {
	name := getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return "local:" + name
}

func (c *cli) adminCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Recover access on the machine that runs bascule, without the API (audited)",
		Long: `Commands that work directly on bascule's store, on the machine that holds it,
for when no one can log in any more: the initial credentials are lost, or the
last admin forgot their password. Reading and writing bascule's data
directory (or its PostgreSQL store) is the authority; every change is in the
audit log with the source "` + server.LocalSource + `".

  bascule admin reset-password admin --data DIR
  bascule token create rescue --role admin --data DIR`,
	}
	cmd.AddCommand(c.adminResetPasswordCommand())
	return cmd
}

func (c *cli) adminResetPasswordCommand() *cobra.Command {
	var f localFlags
	cmd := &cobra.Command{
		Use:   "reset-password USER --data DIR",
		Short: "Give a user a new random password (shown once), enable the account and end its sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := c.openLocal(cmd.Context(), f)
			if err != nil {
				return err
			}
			defer l.Close()
			pw, err := l.ResetPassword(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			c.printf("password of %s reset; the account is enabled and its sessions ended\n", args[0])
			c.printf("new password (shown once): %s\n", pw)
			return nil
		},
	}
	f.register(cmd, "one of the two is required")
	return cmd
}

// createTokenLocally is `bascule token create --data DIR`: the token is
// made in the store directly, so it works when no token is left.
func (c *cli) createTokenLocally(ctx context.Context, f localFlags, name, role, expires string) error {
	var ttl time.Duration
	switch expires {
	case "", "never":
		// A rescue token is for the operator at the machine: no expiry
		// unless asked, like BASCULE_ADMIN_TOKEN.
	default:
		var err error
		if ttl, err = time.ParseDuration(expires); err != nil || ttl <= 0 {
			return fmt.Errorf("--expires %q: want a positive duration such as 720h, or \"never\"", expires)
		}
	}
	l, err := c.openLocal(ctx, f)
	if err != nil {
		return err
	}
	defer l.Close()
	tok, secret, err := l.CreateToken(ctx, name, role, ttl)
	if err != nil {
		return err
	}
	return c.printToken(tok, secret, ", in the store directly", "secret (shown once)")
}
