package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/bascule/bascule/internal/artifact"
	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/migrate"
	"github.com/bascule/bascule/internal/store"
	"github.com/spf13/cobra"
)

func (c *cli) releaseCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "release", Short: "Register and list releases"}
	var image, migrations string
	add := &cobra.Command{
		Use:   "add VERSION PATH | add VERSION --image NAME@sha256:DIGEST [--migrations DIR]",
		Short: "Register a release artifact (a file, or a directory packed reproducibly), or a container image by digest",
		Long: "Register a release: the artifact at PATH (a file, or a directory packed reproducibly), or,\n" +
			"with --image, a container image named by digest (a tag alone is refused: it can be moved to\n" +
			"other bytes) whose migrations, from --migrations DIR, are uploaded beside it as migrations/.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if image != "" || cmd.Flags().Changed("image") {
				if len(args) != 1 {
					return errors.New("release add --image takes no PATH: the image is the program, --migrations DIR its migrations")
				}
				return c.addImageRelease(cmd, args[0], image, migrations)
			}
			if migrations != "" {
				return errors.New("--migrations goes with --image; an artifact release carries its migrations in its own migrations/ directory")
			}
			if len(args) != 2 {
				return errors.New("release add needs VERSION and PATH (or --image)")
			}
			f, name, cleanup, err := openArtifact(args[1])
			if err != nil {
				return err
			}
			defer cleanup()
			digest, err := fileDigest(f)
			if err != nil {
				return err
			}
			rel, created, err := c.client().AddRelease(cmd.Context(), args[0], name, digest, f)
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(rel)
			}
			verb := "registered"
			if !created {
				verb = "already registered, same bytes:"
			}
			c.printf("release %s %s %s (%d bytes)\n", verb, rel.Version, rel.Digest, rel.Size)
			return nil
		},
	}
	add.Flags().BoolVar(&c.json, "json", false, "print JSON")
	add.Flags().StringVar(&image, "image", "", "register a container image, by digest: NAME@sha256:<64 hex>")
	add.Flags().StringVar(&migrations, "migrations", "", "with --image: the release's migrations directory (expand/, contract/)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List releases, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rels, err := c.client().Releases(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(rels)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tDIGEST\tSIZE\tCREATED BY\tCREATED\tARTIFACT\tIMAGE")
			for _, r := range rels {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.Version, shortDigest(r.Digest), r.Size, r.CreatedBy,
					r.CreatedAt.Local().Format(time.DateTime), artifactState(r), r.Image)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&c.json, "json", false, "print JSON")
	cmd.AddCommand(add, list, c.pruneCommand())
	return cmd
}

// artifactState says whether a release's artifact is kept or was
// collected, and when.
func artifactState(r store.Release) string {
	if r.Collected() {
		return "collected " + r.CollectedAt.Local().Format(time.DateTime)
	}
	return "kept"
}

func (c *cli) pruneCommand() *cobra.Command {
	var dry bool
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete now the artifacts of old releases that artifacts.keep lets go (admin)",
		Long: "Delete now, from the store and the disks, the artifacts of the releases beyond the newest\n" +
			"artifacts.keep, except those on a color's slot, of a deployment not finished, or added\n" +
			"within artifacts.grace. The releases stay in the history. bascule also does this after each\n" +
			"deployment ends and every artifacts.interval.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			col, err := c.client().PruneReleases(cmd.Context(), dry)
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(col)
			}
			verb := "removed"
			if dry {
				verb = "would remove"
			}
			for _, r := range col.Releases {
				c.printf("%s the artifact of %s (%s, %d bytes)\n", verb, r.Version, shortDigest(r.Digest), r.Size)
			}
			c.printf("%s %d artifact(s), %d bytes (artifacts.keep: %d)\n", verb, len(col.Releases), col.Bytes, col.Keep)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dry, "dry-run", false, "print what would be removed, remove nothing")
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

// addImageRelease registers version as image, with the migrations of dir
// (none when dir is empty) packed reproducibly as migrations/, so that
// registering the same release twice is recognised.
func (c *cli) addImageRelease(cmd *cobra.Command, version, image, dir string) error {
	if err := artifact.CheckImage(image); err != nil {
		return err
	}
	if st, err := os.Stat(dir); dir != "" && (err != nil || !st.IsDir()) {
		return fmt.Errorf("--migrations %s: not a directory", dir)
	}
	if dir == "" {
		// No migrations: an empty migrations/ directory, packed from one.
		empty, err := os.MkdirTemp("", "bascule-no-migrations-*")
		if err != nil {
			return fmt.Errorf("pack migrations: %w", err)
		}
		defer os.Remove(empty)
		dir = empty
	}
	f, cleanup, err := packTemp("bascule-migrations-*.tar.gz", dir, migrate.MigrationsDir)
	if err != nil {
		return err
	}
	defer cleanup()
	digest, err := fileDigest(f)
	if err != nil {
		return err
	}
	rel, created, err := c.client().AddImageRelease(cmd.Context(), version, image, digest, f)
	if err != nil {
		return err
	}
	if c.json {
		return c.writeJSON(rel)
	}
	verb := "registered"
	if !created {
		verb = "already registered, same image and migrations:"
	}
	c.printf("release %s %s %s (migrations %s)\n", verb, rel.Version, rel.Image, shortDigest(rel.Digest))
	return nil
}

// openArtifact opens a file as is, or packs a directory reproducibly into a
// temporary file, so that the same tree always gives the same digest. The
// upload then streams from disk: artifacts can be large.
func openArtifact(path string) (*os.File, string, func(), error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("read artifact: %w", err)
	}
	if !st.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", nil, fmt.Errorf("read artifact: %w", err)
		}
		return f, filepath.Base(path), func() { f.Close() }, nil
	}
	f, cleanup, err := packTemp("bascule-release-*.tar.gz", path, "")
	if err != nil {
		return nil, "", nil, err
	}
	return f, filepath.Base(filepath.Clean(path)) + ".tar.gz", cleanup, nil
}

// packTemp packs dir reproducibly (artifact.PackDirAs, under prefix) into
// a temporary file named after pattern, from which an upload then streams;
// cleanup closes and removes it.
func packTemp(pattern, dir, prefix string) (f *os.File, cleanup func(), err error) {
	f, err = os.CreateTemp("", pattern)
	if err != nil {
		return nil, nil, fmt.Errorf("pack %s: %w", dir, err)
	}
	cleanup = func() { f.Close(); os.Remove(f.Name()) }
	if err := artifact.PackDirAs(f, dir, prefix); err != nil {
		cleanup()
		return nil, nil, err
	}
	return f, cleanup, nil
}

// fileDigest hashes f from its start and rewinds it, so the server can
// check that the bytes it received are the bytes that were read here.
func fileDigest(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash artifact: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func (c *cli) writeJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) deployCommand() *cobra.Command {
	var reason string
	var detach bool
	cmd := &cobra.Command{
		Use:   "deploy VERSION",
		Short: "Deploy a release to the idle color and follow its steps until it is ready",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl := c.client()
			d, err := cl.Deploy(cmd.Context(), args[0], reason)
			if err != nil {
				return err
			}
			if detach {
				if c.json {
					return c.writeJSON(d)
				}
				c.printf("deployment #%d of %s queued\n", d.ID, d.Version)
				return nil
			}
			p := &stepPrinter{c: c}
			var last store.Deployment
			last = d
			err = cl.Follow(cmd.Context(), d.ID, func(d store.Deployment) {
				last = d
				p.update(d)
			})
			if cmd.Context().Err() == nil && (err != nil && connectionLost(err) || err == nil && store.Active(last.State)) {
				return serverWentAway(last, err)
			}
			if err != nil {
				return err
			}
			return p.finish(last)
		},
	}
	cmd.Flags().StringVarP(&reason, "reason", "m", "", "why you deploy (kept in the history and the audit log)")
	cmd.Flags().BoolVar(&detach, "detach", false, "return once the deployment is queued")
	cmd.Flags().BoolVar(&c.json, "json", false, "print each update as a JSON line")
	return cmd
}

// connectionLost reports whether err means the server closed the
// connection or cannot be reached, rather than answered.
func connectionLost(err error) bool {
	var ae *client.Error
	if errors.As(err, &ae) {
		return false
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// serverWentAway explains a deployment the CLI lost track of because
// bascule stopped answering, instead of "unexpected EOF".
func serverWentAway(last store.Deployment, err error) error {
	cause := "it closed the event stream"
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		cause = "the connection broke"
	case err != nil:
		cause = err.Error()
	}
	return fmt.Errorf("bascule went away while deployment #%d of %s was %s (%s): it stopped, restarted or crashed.\n"+
		"Once it is back, 'bascule status' and 'bascule history' show how the deployment ended: one that a restart "+
		"interrupted is marked failed, its candidate stopped, and production traffic did not move", last.ID, last.Version, last.State, cause)
}

// stepPrinter prints each step once, when it ends, like `kubectl rollout
// status`; with --json it prints every update as one JSON line.
type stepPrinter struct {
	c       *cli
	printed int
	header  bool
}

func (p *stepPrinter) update(d store.Deployment) {
	if p.c.json {
		b, _ := json.Marshal(d)
		p.c.printf("%s\n", b)
		return
	}
	if !p.header {
		p.c.printf("deployment #%d: %s → %s\n", d.ID, d.Version, d.Color)
		p.header = true
	}
	for ; p.printed < len(d.Steps) && d.Steps[p.printed].EndedAt != nil; p.printed++ {
		st := d.Steps[p.printed]
		mark := map[string]string{store.StepDone: "✓", store.StepFailed: "✗", store.StepSkipped: "-"}[st.State]
		p.c.printf("  %s %-8s %8s  %s\n", mark, st.Name, round(st.Duration(time.Now())), firstLine(st.Message))
	}
}

func (p *stepPrinter) finish(d store.Deployment) error {
	if p.c.json {
		if d.State == store.StateFailed {
			return exitError(1)
		}
		return nil
	}
	switch d.State {
	case store.StateFailed:
		p.c.printf("deployment #%d failed: %s\n", d.ID, d.Error)
		if len(d.LogTail) > 0 {
			p.c.printf("last lines of the app's log:\n")
			for _, l := range d.LogTail {
				p.c.printf("  | %s\n", l)
			}
		}
		p.c.printf("production traffic did not move.\n")
		return exitError(1)
	case store.StateReady:
		p.c.printf("%s is ready on %s in %s. Preview it, then: bascule go-live\n", d.Version, d.Color, round(d.UpdatedAt.Sub(d.CreatedAt)))
	case store.StateLive:
		p.c.printf("%s is live on %s.\n", d.Version, d.Color)
	default:
		p.c.printf("deployment #%d is %s\n", d.ID, d.State)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func (c *cli) switchCommand(use, short string, do func(cmd *cobra.Command, reason string) (deploy.Status, error)) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := do(cmd, reason)
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(st)
			}
			for _, cs := range st.Colors {
				if cs.Live {
					c.printf("%s is live on %s (%s).\n", cs.Version, cs.Color, cs.State)
				}
			}
			if st.RollbackBlocked != "" {
				c.printf("rollback is now refused: %s\n", st.RollbackBlocked)
			} else if use == "finalize" && st.FinalizeEffect != "" {
				c.printf("%s.\n", st.FinalizeEffect)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&reason, "reason", "m", "", "why (kept in the audit log)")
	cmd.Flags().BoolVar(&c.json, "json", false, "print the status as JSON")
	return cmd
}

func (c *cli) rollbackCommand() *cobra.Command {
	var force bool
	cmd := c.switchCommand("rollback", "Switch all production traffic back to the previous color",
		func(cmd *cobra.Command, reason string) (deploy.Status, error) {
			return c.client().Rollback(cmd.Context(), reason, force)
		})
	cmd.Flags().BoolVar(&force, "force", false, "roll back even though the live release is finalized (recorded in the audit log)")
	return cmd
}

func (c *cli) finalizeCommand() *cobra.Command {
	return c.switchCommand("finalize", "Run the contract migrations of the live release; with a database, rollback to the one before is then refused",
		func(cmd *cobra.Command, reason string) (deploy.Status, error) {
			return c.client().Finalize(cmd.Context(), reason)
		})
}

func (c *cli) statusCommand() *cobra.Command {
	var wide bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show both colors, their releases and health, and the deployment in progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := c.client().Status(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(st)
			}
			if err := printStatus(c.stdout, st, wide); err != nil {
				return err
			}
			return c.printFleet(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON, with every detail")
	cmd.Flags().BoolVarP(&wide, "wide", "w", false, "add each app's pid and why it is unhealthy")
	return cmd
}

// printStatus prints one line per color, each cell a short state that
// keeps the table narrow; wide adds the pid and the health check's error,
// which can be long (the JSON has everything).
func printStatus(w io.Writer, st deploy.Status, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "COLOR\tROLE\tRELEASE\tSTATE\tHEALTH\tIN FLIGHT\tADDR"
	if wide {
		header += "\tPID\tHEALTH DETAIL"
	}
	fmt.Fprintln(tw, header)
	var unhealthy []string
	for _, cs := range st.Colors {
		role := "idle"
		if cs.Live {
			role = "LIVE"
		}
		version, state := cs.Version, cs.State
		if d := st.Deployment; d != nil && d.Color == cs.Color {
			// The release being deployed here, not the one it replaces.
			version, state = d.Version, d.State
		}
		health := "stopped"
		if cs.Running {
			health = "healthy"
			if !cs.Healthy {
				health = "unhealthy"
				unhealthy = append(unhealthy, cs.Color)
			}
		}
		inFlight := strconv.FormatInt(cs.InFlight, 10)
		if cs.Queued > 0 {
			inFlight += " (" + strconv.FormatInt(cs.Queued, 10) + " queued)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s", cs.Color, role, dash(version), dash(string(state)), health, inFlight, dash(cs.Addr))
		if wide {
			pid := "-"
			if cs.PID != 0 {
				pid = strconv.Itoa(cs.PID)
			}
			fmt.Fprintf(tw, "\t%s\t%s", pid, dash(cs.HealthError))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if d := st.Deployment; d != nil {
		fmt.Fprintf(w, "\ndeployment #%d of %s to %s is %s (asked by %s)\n", d.ID, d.Version, d.Color, d.State, d.RequestedBy)
	}
	if p := st.Progressive; p != nil {
		fmt.Fprintf(w, "\n%s is going live step by step: %s\n", p.Version, progressLine(p))
	}
	if g := st.Guard; g != nil {
		fmt.Fprintf(w, "\n%s\n", g.Summary())
	}
	if len(unhealthy) > 0 && !wide {
		fmt.Fprintf(w, "\nwhy %s is unhealthy: bascule status --wide\n", strings.Join(unhealthy, " and "))
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *cli) historyCommand() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List deployments, newest first, with their outcome",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := c.client().Deployments(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(list)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tRELEASE\tCOLOR\tSTATE\tBY\tSTARTED\tDURATION\tREASON / ERROR")
			for _, d := range list {
				note := d.Reason
				if d.Error != "" {
					note = firstLine(d.Error)
				}
				dur := "-"
				if d.FinishedAt != nil {
					dur = round(d.FinishedAt.Sub(d.CreatedAt)).String()
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Version, d.Color, d.State, d.RequestedBy,
					d.CreatedAt.Local().Format(time.DateTime), dur, note)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many deployments")
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

// printFleet lists the routers under the status when there is more than
// the one inside `bascule serve`, or when one is stale or lagging: a
// single machine's status reads as before.
func (c *cli) printFleet(ctx context.Context) error {
	f, err := c.client().Routers(ctx)
	if err != nil {
		return err
	}
	show := len(f.Routers) > 1
	for _, r := range f.Routers {
		show = show || r.Stale || r.Lagging
	}
	if !show {
		return nil
	}
	fmt.Fprintf(c.stdout, "\nrouters (generation %d):\n", f.Generation)
	return printRouters(c.stdout, f, time.Now())
}
