package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/server"
	"github.com/spf13/cobra"
)

// addrFlags are the overrides `serve` and `demo` share.
type addrFlags struct {
	listen, control, data string
	verbose               bool
}

func (f *addrFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.listen, "listen", "", "router address, production traffic (default 127.0.0.1:8080)")
	cmd.Flags().StringVar(&f.control, "control", "", "control plane address: API, UI, metrics (default 127.0.0.1:8081)")
	cmd.Flags().StringVar(&f.data, "data", "", "data directory (default: the user's state dir, or the config's data_dir)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log debug messages")
}

func (f *addrFlags) apply(cfg *config.Config) error {
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.control != "" {
		cfg.Control = f.control
	}
	if f.data != "" {
		cfg.DataDir = f.data
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid settings: %w", err)
	}
	return nil
}

// explain rewrites an address already in use to name where it was set:
// the config file's line, the flag, or the default.
func (f *addrFlags) explain(cfg config.Config, err error) error {
	var le *server.ListenError
	if !errors.As(err, &le) || !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	flag := map[string]string{"listen": f.listen, "control": f.control}[le.Key]
	const who = "another bascule, or another program, listens there"
	switch {
	case flag != "":
		return fmt.Errorf("--%s %s is in use: %s", le.Key, le.Addr, who)
	case cfg.Path != "":
		if line := config.KeyLine(cfg.Path, le.Key); line > 0 {
			return fmt.Errorf("%s:%d: %s: %s is in use: %s", cfg.Path, line, le.Key, le.Addr, who)
		}
		return fmt.Errorf("%s: %s: %s (the default) is in use: %s; set %s: in %s, or --%s", cfg.Path, le.Key, le.Addr, who, le.Key, cfg.Path, le.Key)
	}
	return fmt.Errorf("%s %s (the default) is in use: %s; choose another with --%s", le.Key, le.Addr, who, le.Key)
}

func (c *cli) logger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: level}))
}

func (c *cli) serveCommand() *cobra.Command {
	var flags addrFlags
	var path string
	var keepApps bool
	cmd := &cobra.Command{
		Use:   "serve -c bascule.yaml",
		Short: "Run the router and the control plane",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			if err := flags.apply(&cfg); err != nil {
				return err
			}
			return flags.explain(cfg, c.serve(cmd.Context(), cfg, flags.verbose, !keepApps, nil))
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "bascule.yaml", "config file")
	cmd.Flags().BoolVar(&keepApps, "keep-apps", false,
		"on SIGTERM, leave the apps running for the next bascule to adopt (for upgrading bascule itself)")
	flags.register(cmd)
	return cmd
}

// serve runs bascule until ctx ends. ready, if set, runs once it listens.
func (c *cli) serve(ctx context.Context, cfg config.Config, verbose, stopApps bool, ready func(*server.Server) error) error {
	log := c.logger(verbose)
	srv, err := server.Open(ctx, server.Options{Config: cfg, Logger: log,
		AdminToken: c.getenv("BASCULE_ADMIN_TOKEN"), AdminPassword: c.getenv("BASCULE_ADMIN_PASSWORD"),
		StopAppsOnClose: stopApps})
	if err != nil {
		return err
	}
	if ready == nil {
		c.showInitialCredentials(cfg, srv)
	}
	if ready != nil {
		if err := ready(srv); err != nil {
			srv.Run(canceled())
			return err
		}
	}
	return srv.Run(ctx)
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// showInitialCredentials prints the admin token and password created at
// this start, once: they are stored hashed. The server creates them only
// once it listens, so a start that fails creates none and the next one
// shows them.
func (c *cli) showInitialCredentials(cfg config.Config, srv *server.Server) {
	recovery := "lost? 'bascule admin reset-password admin --data " + cfg.DataDir + "'"
	if srv.InitialToken != "" {
		if c.getenv("BASCULE_ADMIN_TOKEN") != "" {
			fmt.Fprintf(c.stderr, "initial admin token: the one in BASCULE_ADMIN_TOKEN (stored hashed)\n")
		} else {
			// Shown once, on the terminal only: it is stored hashed. The
			// file is for a start whose terminal no one watches.
			tokenFile := filepath.Join(cfg.DataDir, "initial-admin-token")
			where := "also in " + tokenFile + "; delete that file once saved"
			if err := writeDataFile(cfg.DataDir, "initial-admin-token", srv.InitialToken+"\n"); err != nil {
				where = "could not also write it to " + tokenFile + ": " + err.Error()
			}
			fmt.Fprintf(c.stderr, "initial admin token (shown once, %s):\n  %s\n", where, srv.InitialToken)
		}
	}
	if srv.InitialPassword != "" && c.getenv("BASCULE_ADMIN_PASSWORD") == "" {
		fmt.Fprintf(c.stderr, "initial web UI login (shown once): user admin, password %s\n  (%s)\n", srv.InitialPassword, recovery)
	}
}

// writeDataFile writes a private file in the data directory, through
// os.Root since the directory is the operator's input.
func writeDataFile(dataDir, name, content string) error {
	root, err := os.OpenRoot(dataDir)
	if err != nil {
		return err
	}
	defer root.Close()
	return root.WriteFile(name, []byte(content), 0o600)
}
