package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/bascule/bascule/internal/migrate"
	"github.com/spf13/cobra"
)

func (c *cli) migrateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Lint database migrations and show what the app's database has applied"}
	cmd.AddCommand(c.migrateLintCommand(), c.migrateStatusCommand())
	return cmd
}

func (c *cli) migrateLintCommand() *cobra.Command {
	var driver, release, since string
	cmd := &cobra.Command{
		Use:   "lint [DIR]",
		Short: "Lint a migrations folder (DIR holds expand/ and contract/), or a registered release with --release",
		Long: `Lint checks migrations with PostgreSQL's own parser and prints each finding
as file:line, the rule, why it breaks the live release or locks production,
and the safe multi-step alternative. Expand migrations get every rule;
contract migrations only the locking ones. A finding is accepted by a
"-- bascule:allow RULE REASON" comment before the statement.

A migrations folder usually carries the files of every release. With
--since PREV (the previous release's migrations folder) only the files new
since then are linted, as a deployment would apply them: a table one of
them creates is new and empty for the others. Without it, each file is
linted as if the files before it were applied, so a DROP COLUMN in 006 on
a table that 001 created is caught; a table created earlier in the same
release then counts as existing, which --since avoids. With --release the
server lints the files its database has not applied yet.

The exit status is 1 when a finding blocks the deployment.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := c.lintReport(cmd, args, release, driver, since)
			if err != nil {
				return err
			}
			if c.json {
				err = c.writeJSON(migrate.NewLintResult(release, true, rep))
			} else {
				err = rep.WriteText(c.stdout)
			}
			if err != nil {
				return err
			}
			if rep.HasErrors() {
				return errors.New("lint: blocking findings; fix them or accept each with -- bascule:allow RULE REASON")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	cmd.Flags().StringVar(&driver, "driver", "postgres", `database the migrations run on: "postgres" or "sqlite" (sqlite skips the locking rules)`)
	cmd.Flags().StringVar(&release, "release", "", "lint the migrations of this registered release, on the server")
	cmd.Flags().StringVar(&since, "since", "", "the previous release's migrations folder: lint only the files new since")
	return cmd
}

// lintReport lints DIR locally (only what is new since the folder since,
// when given), or a release through the API.
func (c *cli) lintReport(cmd *cobra.Command, args []string, release, driver, since string) (migrate.Report, error) {
	switch {
	case release != "" && len(args) > 0:
		return migrate.Report{}, errors.New("give either DIR or --release, not both")
	case release != "" && since != "":
		return migrate.Report{}, errors.New("--since goes with DIR: with --release the server knows what its database applied")
	case release != "":
		res, err := c.client().LintRelease(cmd.Context(), release)
		return res.Report, err
	case len(args) == 0:
		return migrate.Report{}, errors.New("give the migrations folder (holding expand/ and contract/), or --release VERSION")
	case driver != "postgres" && driver != "sqlite":
		return migrate.Report{}, fmt.Errorf("--driver %q: want postgres or sqlite", driver)
	}
	dir := args[0]
	if info, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return migrate.Report{}, fmt.Errorf("migrations folder %s does not exist", dir)
	} else if err == nil && !info.IsDir() {
		return migrate.Report{}, fmt.Errorf("%s is a file: give the migrations folder (holding expand/ and contract/)", dir)
	}
	if !hasPhaseDir(dir) {
		return migrate.Report{}, fmt.Errorf("%s holds no expand/ or contract/ folder: give the migrations folder", dir)
	}
	set, err := migrate.LoadDir(os.DirFS(dir), ".")
	if err != nil {
		return migrate.Report{}, err
	}
	if since == "" {
		return migrate.LintWith(set, migrate.LintOptions{PerFile: true}).For(driver), nil
	}
	if !hasPhaseDir(since) {
		return migrate.Report{}, fmt.Errorf("--since %s holds no expand/ or contract/ folder: give the previous release's migrations folder", since)
	}
	prev, err := migrate.LoadDir(os.DirFS(since), ".")
	if err != nil {
		return migrate.Report{}, fmt.Errorf("--since: %w", err)
	}
	if set, err = migrate.Since(set, prev); err != nil {
		return migrate.Report{}, err
	}
	return migrate.Lint(set).For(driver), nil
}

func hasPhaseDir(dir string) bool {
	for _, p := range []migrate.Phase{migrate.Expand, migrate.Contract} {
		if info, err := os.Stat(filepath.Join(dir, string(p))); err == nil && info.IsDir() {
			return true
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true // let LoadDir report it
		}
	}
	return false
}

func (c *cli) migrateStatusCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the migrations applied to the app's database, per phase, and the newest release's pending ones",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := c.client().Migrations(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(st)
			}
			return c.printMigrationStatus(st)
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) printMigrationStatus(st migrate.Status) error {
	if st.Driver == "" {
		c.printf("no database configured (database: in bascule.yaml): bascule runs no migrations\n")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "applied to the %s database:\n", st.Driver)
	fmt.Fprintln(tw, "PHASE\tFILE\tCHECKSUM\tRELEASE\tAPPLIED")
	for _, r := range st.Applied {
		fmt.Fprintf(tw, "%s\t%03d_%s\t%s\t%s\t%s\n", r.Phase, r.Version, r.Name, migrate.ShortSum(r.Checksum), r.Release,
			r.AppliedAt.Local().Format(time.DateTime))
	}
	if len(st.Applied) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	switch {
	case st.Release == "":
		fmt.Fprintln(tw, "\nno release registered")
	case st.ReleaseError != "":
		fmt.Fprintf(tw, "\nrelease %s: %s\n", st.Release, st.ReleaseError)
	default:
		fmt.Fprintf(tw, "\npending in release %s:\n", st.Release)
		for _, p := range st.Pending {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Phase, p.Path, migrate.ShortSum(p.Checksum))
		}
		if len(st.Pending) == 0 {
			fmt.Fprintln(tw, "(none)")
		}
	}
	for _, d := range st.Drift {
		fmt.Fprintf(tw, "\nDRIFT: %s changed after release %s applied it (recorded %s, now %s)\n",
			d.Path, d.Recorded.Release, migrate.ShortSum(d.Recorded.Checksum), migrate.ShortSum(d.Checksum))
	}
	return tw.Flush()
}
