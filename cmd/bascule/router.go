package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/endpoints"
	"github.com/bascule/bascule/internal/fleet"
	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/runtime/kubernetes"
	"github.com/spf13/cobra"
)

// routerFlags are `bascule router`'s settings.
type routerFlags struct {
	control          []string
	listen, data, id string
	drain            time.Duration
	verbose          bool
	// In a Kubernetes cluster: follow the EndpointSlices of namespace to
	// expand the table's references (ADR 0017).
	kubernetes            bool
	kubeconfig, namespace string
}

func (c *cli) routerCommand() *cobra.Command {
	var f routerFlags
	cmd := &cobra.Command{
		Use:   "router --control URL --token TOKEN --listen ADDR --data DIR",
		Short: "Run a router alone, following a control plane's routing table",
		Long: `router runs the data plane alone, on a machine of its own if you like: it serves
production traffic with the routing table it installed last (kept in --data, served at
once on start, even when the control plane cannot be reached), follows the control
plane's routing stream, and reports a heartbeat every second. A go-live or rollback
completes only when every live router has installed the new table and drained the old
color. Create its token with: bascule token create --role router NAME.

In a Kubernetes cluster (--kubernetes, or --kubeconfig PATH from outside), the router
resolves each color's ready pods itself from the EndpointSlices of --namespace: a pod that
restarts with a new address, or a scale-up, reaches it without the control plane. Without
either, a table naming a color by its Service (k8s:NAMESPACE/SERVICE:PORT) is refused.

  bascule router forget ID   removes a router gone for good from the registry
  bascule router list        lists the routers (bascule status shows them too)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return c.runRouter(cmd.Context(), f) },
	}
	cmd.Flags().StringSliceVar(&f.control, "control", nil, "the control plane's URL, e.g. http://10.0.0.1:8081 (required); several instances: repeat it\nor separate with commas, and the router moves to the next when one fails")
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:8080", "address production traffic comes to")
	cmd.Flags().StringVar(&f.data, "data", "", "directory where the last table installed is kept (required)")
	cmd.Flags().StringVar(&f.id, "id", "", "the router's name in the registry (default HOST:PORT)")
	cmd.Flags().DurationVar(&f.drain, "drain-timeout", 30*time.Second, "on SIGTERM, how long requests in flight may finish")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log debug messages")
	cmd.Flags().BoolVar(&f.kubernetes, "kubernetes", false, "run in a Kubernetes cluster: follow the colors' pods through the pod's service account")
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "follow the colors' pods in the cluster of this kubeconfig file (its current context)")
	cmd.Flags().StringVar(&f.namespace, "namespace", "", "the namespace of the colors' Services (default: the pod's own, with --kubernetes)")
	cmd.AddCommand(c.routerListCommand(), c.routerForgetCommand())
	return cmd
}

func (c *cli) runRouter(ctx context.Context, f routerFlags) error {
	token := c.token
	if token == "" {
		token = c.getenv("BASCULE_TOKEN")
	}
	switch {
	case len(f.control) == 0:
		return errors.New("--control URL is required: the control plane this router follows")
	case f.data == "":
		return errors.New("--data DIR is required: where the router keeps the table it serves")
	case token == "":
		return errors.New("--token (or BASCULE_TOKEN) is required: a token with the router role (bascule token create --role router NAME)")
	}
	for _, u := range f.control {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("--control %q: want a URL such as http://10.0.0.1:8081", u)
		}
	}
	log := c.logger(f.verbose)
	resolver, err := startResolver(ctx, f, log.With("component", "endpoints"))
	if err != nil {
		return err
	}
	if resolver != nil {
		defer resolver.Close()
	}
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(f.data, "routing.json")
	table, err := router.LoadTable(path)
	if err != nil {
		return err
	}
	// Per-color counters for the control plane's guard, reported in each
	// heartbeat: three atomic adds a request, as in bascule serve. Their
	// past is kept by the control plane, not here.
	counts := guard.NewMeter(0, time.Second)
	// Bucket as bascule serve does: a progressive go-live's split is
	// bucketed the same on every router, so a user stays on one side
	// whichever router a request goes through.
	opts := router.Options{Logger: log.With("component", "router"), StripCookies: []string{auth.CookieName},
		Bucket: feature.Bucket, Observe: func(c router.Color, status int, d time.Duration) { counts.Observe(string(c), status, d) }}
	if resolver != nil {
		opts.Resolver = resolver
	}
	r := router.New(opts)
	// The control plane's settings (preview, cohort keys, the concurrency
	// limit) as last received, so that a restart serves as before.
	settingsPath := filepath.Join(f.data, "settings.json")
	settings, found, err := fleet.LoadSettings(settingsPath)
	if err != nil {
		return err
	}
	if found {
		r.Configure(settings)
	}
	if err := r.CheckTable(table); err != nil {
		// Served anyway: what it can serve of it beats serving nothing,
		// and the control plane's next table replaces it.
		log.Error("the routing table kept from before cannot be served whole", "err", err)
	}
	r.Install(table)
	if resolver != nil {
		rctx, stopResolving := context.WithCancel(ctx)
		resolved := make(chan struct{})
		go func() {
			defer close(resolved)
			resolver.Run(rctx, r.Refresh)
		}()
		defer func() { stopResolving(); <-resolved }()
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", f.listen, err)
	}
	srv := router.NewServer(f.listen, r)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	host, _ := os.Hostname()
	id := f.id
	if id == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		id = host + ":" + port
	}
	log.Info("router listening", "addr", ln.Addr().String(), "id", id, "generation", table.Generation, "live", table.Live)
	agent := fleet.NewAgent(fleet.AgentOptions{ID: id, Host: host, Listen: ln.Addr().String(), Router: r, Path: path,
		SettingsPath: settingsPath, Counts: counts, Logger: log.With("component", "fleet")})
	// The router follows the control plane until it took its last request:
	// a switch while it finishes those in flight is still acknowledged.
	fctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	follower := &fleet.Follower{URLs: f.control, Token: token, Agent: agent, Logger: log.With("component", "fleet")}
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		follower.Run(fctx)
	}()
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	sctx, cancel := context.WithTimeout(context.Background(), f.drain)
	defer cancel()
	srv.Shutdown(sctx)
	stop()
	<-followed
	// Then it leaves the fleet, so that switches stop waiting for it and
	// naming it (a pod replaced in a rolling update, say).
	lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer lcancel()
	if lerr := follower.Leave(lctx); lerr != nil {
		log.Warn("could not tell the control plane this router leaves; forget it with bascule router forget "+id, "err", lerr)
	} else {
		log.Info("left the fleet", "id", id)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("router: %w", err)
	}
	return nil
}

// kubeSyncTimeout bounds the router's first listing of the EndpointSlices:
// it does not listen before it knows the pods, so that a Service sends it
// nothing it would answer 502.
const kubeSyncTimeout = time.Minute

// startResolver starts following the namespace's EndpointSlices when the
// router runs in (or reaches) a Kubernetes cluster, and waits for their
// first listing; nil when it does not.
func startResolver(ctx context.Context, f routerFlags, log *slog.Logger) (*endpoints.Watcher, error) {
	switch {
	case !f.kubernetes && f.kubeconfig == "":
		if f.namespace != "" {
			return nil, errors.New("--namespace needs --kubernetes (in the cluster) or --kubeconfig PATH")
		}
		return nil, nil
	case f.kubernetes && f.kubeconfig != "":
		return nil, errors.New("--kubernetes and --kubeconfig exclude each other: in the cluster, the pod's service account; outside, a kubeconfig file")
	}
	ns := f.namespace
	if ns == "" && f.kubernetes {
		b, err := os.ReadFile(serviceAccountNamespace)
		if err != nil {
			return nil, fmt.Errorf("--namespace not given, and the pod's own is unknown: %w", err)
		}
		ns = strings.TrimSpace(string(b))
	}
	if ns == "" {
		return nil, errors.New("--namespace is required with --kubeconfig: the namespace of the colors' Services")
	}
	client, err := kubernetes.NewClient(f.kubeconfig)
	if err != nil {
		return nil, err
	}
	w, err := endpoints.Start(endpoints.Options{Client: client, Namespace: ns, Logger: log})
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, kubeSyncTimeout)
	defer cancel()
	if err := w.WaitSynced(sctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("follow the pods of namespace %s (may the router's service account list and watch endpointslices there? deploy/kubernetes/rbac.yaml): %w", ns, err)
	}
	log.Info("following the pods of the colors' Services", "namespace", ns)
	return w, nil
}

// serviceAccountNamespace is where Kubernetes tells a pod its namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

func (c *cli) routerListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the routers, marking the stale and the lagging",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := c.client().Routers(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(f)
			}
			return printRouters(c.stdout, f, time.Now())
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) routerForgetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "forget ID",
		Short: "Remove a router gone for good, which every switch would otherwise name as not confirmed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.client().ForgetRouter(cmd.Context(), args[0]); err != nil {
				return err
			}
			c.printf("router %s forgotten\n", args[0])
			return nil
		},
	}
}

// printRouters prints one line per router: the generation it serves, its
// load per color, when it was last heard from, and whether it is stale
// (no heartbeat for three intervals) or lagging (behind the fleet).
func printRouters(w io.Writer, f fleet.Fleet, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ROUTER\tHOST\tLISTEN\tGENERATION\tBLUE\tGREEN\tLAST SEEN\tSTATE\n")
	for _, r := range f.Routers {
		state := "ok"
		switch {
		case r.Stale:
			state = "STALE (no heartbeat for " + f.StaleAfter + ")"
		case r.Installed < f.Generation:
			state = "LAGGING (has not installed " + strconv.FormatInt(f.Generation, 10) + ")"
		case r.Drained < f.Generation:
			state = "draining"
		}
		id := r.ID
		if r.Embedded {
			id += " (serve)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s ago\t%s\n", id, dash(r.Host), dash(r.Listen), r.Installed,
			load(r.Colors[router.Blue]), load(r.Colors[router.Green]), round(now.Sub(r.LastSeen)), state)
	}
	return tw.Flush()
}

func load(l fleet.Load) string {
	s := strconv.FormatInt(l.InFlight, 10)
	if l.Queued > 0 {
		s += "+" + strconv.FormatInt(l.Queued, 10) + "q"
	}
	return s
}
