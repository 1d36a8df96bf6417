package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/deploy"
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
			return flags.explain(cfg, c.serve(cmd.Context(), cfg, flags.verbose, true, func(srv *server.Server) error {
				return c.startDemo(cmd.Context(), cfg, srv)
			}))
		},
	}
	flags.register(cmd)
	cmd.Flags().Lookup("data").Usage = "data directory, kept for the next run (default: a temporary directory, deleted at exit)"
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
	login, err := demoCredentials(ctx, cfg.DataDir, srv)
	if err != nil {
		return err
	}
	cl := &client.Client{BaseURL: "http://" + srv.ControlAddr(), Token: login.Token}
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
		st, err = cl.Status(ctx)
		if err != nil {
			return err
		}
	}
	_, port, _ := net.SplitHostPort(srv.RouterAddr())
	c.printf(`
bascule demo is running: the sample shop, %[9]s.

  production   http://%[1]s/
  preview      http://preview.localhost:%[2]s/?bascule_preview=%[3]s
               (or any URL with the header  %[4]s: %[3]s)
  control/API  http://%[5]s/
  OFREP        http://%[5]s/ofrep/v1/  (demo: browser apps of any origin allowed,
               ofrep.cors_origins: ["*"]; a bascule.yaml allows none unless it lists them)
  login        admin / %[8]s  (web UI)
  data         %[6]s

  export BASCULE_URL=http://%[5]s BASCULE_TOKEN=%[7]s PREVIEW_TOKEN=%[3]s

Then, in another terminal:
  bascule deploy v2     # to the idle color, with health check; preview it
  bascule go-live       # all traffic to v2, at once
  bascule rollback      # back to v1, still warm
  bascule status; bascule history

Ctrl-C stops the demo and its apps.
`, srv.RouterAddr(), port, srv.PreviewToken, cfg.Preview.Header, srv.ControlAddr(), cfg.DataDir, login.Token, login.Password,
		demoSummary(st))
	return nil
}

// demoSummary says what runs where, for the banner: on a restarted demo it
// is whatever the last run left.
func demoSummary(st deploy.Status) string {
	var live, registered string
	for _, cs := range st.Colors {
		if cs.Live && cs.Version != "" {
			live = fmt.Sprintf("%s live on %s", cs.Version, cs.Color)
		}
	}
	if live == "" {
		live = "nothing live"
	}
	if st.Colors[0].Version == "v1" && st.Colors[1].Version == "" || st.Colors[1].Version == "v1" && st.Colors[0].Version == "" {
		registered = ", v2 registered"
	}
	return live + registered
}

// demoLogin is what the demo prints for logging in: the web UI password of
// the user admin and an admin API token.
type demoLogin struct {
	Password string `json:"password"`
	Token    string `json:"token"`
}

// demoCredentialsFile keeps the demo's credentials in its data directory,
// so that a demo restarted on the same directory shows how to log in. The
// demo is no production system: its data directory is private (0700) and
// the file 0600, as the initial-admin-token file of `bascule serve` is.
const demoCredentialsFile = "demo-credentials.json"

// demoCredentials returns the demo's login: the one created at this start,
// else the one saved by an earlier run if it still works, else a new
// password and token made through the local admin path (and audited).
func demoCredentials(ctx context.Context, dataDir string, srv *server.Server) (demoLogin, error) {
	root, err := os.OpenRoot(dataDir)
	if err != nil {
		return demoLogin{}, fmt.Errorf("open the data directory: %w", err)
	}
	defer root.Close()
	local := srv.Local("demo")
	login := demoLogin{Password: srv.InitialPassword, Token: srv.InitialToken}
	var saved demoLogin
	if b, err := root.ReadFile(demoCredentialsFile); err == nil {
		json.Unmarshal(b, &saved) // an unreadable file is replaced below
	}
	if login.Token == "" && saved.Token != "" {
		if p, err := local.Authenticate(ctx, saved.Token); err == nil && p.Role == store.RoleAdmin {
			login.Token = saved.Token
		}
	}
	if login.Token == "" {
		if _, login.Token, err = local.CreateToken(ctx, "demo", store.RoleAdmin, 0); err != nil {
			return demoLogin{}, fmt.Errorf("demo: create an admin token: %w", err)
		}
	}
	if login.Password == "" && saved.Password != "" && local.CheckPassword(ctx, "admin", saved.Password) == nil {
		login.Password = saved.Password
	}
	if login.Password == "" {
		if login.Password, err = local.ResetPassword(ctx, "admin"); err != nil {
			return demoLogin{}, fmt.Errorf("demo: reset the password of admin: %w", err)
		}
	}
	if login != saved {
		b, _ := json.Marshal(login)
		if err := root.WriteFile(demoCredentialsFile, append(b, '\n'), 0o600); err != nil {
			return demoLogin{}, fmt.Errorf("demo: save its credentials: %w", err)
		}
	}
	return login, nil
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
