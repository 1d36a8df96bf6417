package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/server"
	"github.com/bascule/bascule/internal/store"
	"github.com/spf13/cobra"
)

func (c *cli) demoCommand() *cobra.Command {
	var flags addrFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run bascule with a bundled two-release sample app (v1 live on blue, v2 registered)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, cleanup, err := demoConfig(flags.data)
			if err != nil {
				return err
			}
			defer cleanup()
			flags.data = ""
			if err := flags.apply(&cfg); err != nil {
				return err
			}
			return c.serve(cmd.Context(), cfg, flags.verbose, true, func(srv *server.Server) error {
				return c.startDemo(cmd.Context(), cfg, srv)
			})
		},
	}
	flags.register(cmd)
	return cmd
}

// demoConfig is the embedded default with bascule itself as the app: each
// release is a tiny artifact naming its version, run by the hidden
// `bascule sample-app` command, so the demo needs no build step.
func demoConfig(dataDir string) (config.Config, func(), error) {
	cleanup := func() {}
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "bascule-demo-*")
		if err != nil {
			return config.Config{}, nil, err
		}
		dataDir, cleanup = dir, func() { os.RemoveAll(dir) }
	}
	self, err := os.Executable()
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("find bascule's own binary: %w", err)
	}
	cfg := config.Default()
	cfg.App = "shop"
	cfg.DataDir = dataDir
	cfg.Runtime.Process.Command = []string{self, "sample-app"}
	cfg.Preview.Hosts = []string{"preview.localhost"}
	cfg.HealthCheck.Path = "/healthz"
	// A demo is tried from pages served anywhere (a local dev server, a
	// playground), so browser apps of every origin may use OFREP; startDemo
	// says so. A real bascule.yaml lists its origins, and allows none by
	// default.
	cfg.OFREP.CORSOrigins = []string{"*"}
	return cfg, cleanup, nil
}

// startDemo registers v1 and v2 through the API, as CI would, and puts v1
// live on blue.
func (c *cli) startDemo(ctx context.Context, cfg config.Config, srv *server.Server) error {
	token := srv.InitialToken
	if token == "" {
		token = c.getenv("BASCULE_TOKEN")
	}
	cl := &client.Client{BaseURL: "http://" + srv.ControlAddr(), Token: token}
	for _, v := range []string{"v1", "v2"} {
		var buf bytes.Buffer
		if err := demoArtifact(&buf, v, ""); err != nil {
			return err
		}
		if _, _, err := cl.AddRelease(ctx, v, "shop-"+v+".tar.gz", "", &buf); err != nil {
			return fmt.Errorf("register demo release %s: %w", v, err)
		}
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return err
	}
	if st.Colors[0].Version == "" && st.Colors[1].Version == "" {
		d, err := cl.Deploy(ctx, "v1", "demo: first release")
		if err != nil {
			return err
		}
		if d, err = srv.Deploy().Wait(ctx, d.ID); err != nil || d.State != store.StateReady {
			return fmt.Errorf("demo: deploy v1 ended %s: %s %v", d.State, d.Error, err)
		}
		if _, err := cl.GoLive(ctx, "demo: first release"); err != nil {
			return err
		}
	}
	_, port, _ := net.SplitHostPort(srv.RouterAddr())
	c.printf(`
bascule demo is running: the sample shop, v1 live on blue, v2 registered.

  production   http://%[1]s/
  preview      http://preview.localhost:%[2]s/?bascule_preview=%[3]s
               (or any URL with the header  %[4]s: %[3]s)
  control/API  http://%[5]s/
  OFREP        http://%[5]s/ofrep/v1/  (demo: browser apps of any origin allowed,
               ofrep.cors_origins: ["*"]; a bascule.yaml allows none unless it lists them)
  login        admin / %[8]s  (web UI; shown once)
  data         %[6]s

  export BASCULE_URL=http://%[5]s BASCULE_TOKEN=%[7]s

Then, in another terminal:
  bascule deploy v2     # to the idle color, with health check; preview it
  bascule go-live       # all traffic to v2, at once
  bascule rollback      # back to v1, still warm
  bascule status; bascule history

Ctrl-C stops the demo and its apps.
`, srv.RouterAddr(), port, srv.PreviewToken, cfg.Preview.Header, srv.ControlAddr(), cfg.DataDir, token, dash(srv.InitialPassword))
	return nil
}

// demoArtifact writes the release artifact of the sample app: a tar.gz that
// holds its version.
func demoArtifact(buf *bytes.Buffer, version, extra string) error {
	dir, err := os.MkdirTemp("", "bascule-artifact-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "release.txt"), []byte(version+"\n"+extra), 0o644); err != nil {
		return err
	}
	return artifact.PackDir(buf, dir)
}
