package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/sampleapp"
	"github.com/spf13/cobra"
)

func (c *cli) sampleAppCommand() *cobra.Command {
	var release string
	cmd := &cobra.Command{
		Use:    "sample-app",
		Short:  "Run the demo's sample app (used by the demo's releases)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o := sampleapp.Options{Release: release, Color: c.getenv("BASCULE_COLOR")}
			// A demo release is an artifact holding release.txt, and the
			// app runs from the unpacked release directory.
			if b, err := os.ReadFile("release.txt"); err == nil {
				if err := parseReleaseFile(string(b), &o); err != nil {
					return err
				}
			}
			if o.Release == "" {
				o.Release = c.getenv("BASCULE_RELEASE")
			}
			if o.DB.Table != "" && o.DB.URL == "" {
				o.DB.URL = c.getenv("DATABASE_URL")
			}
			port := c.getenv("PORT")
			if port == "" {
				return fmt.Errorf("sample-app: PORT is not set")
			}
			return sampleapp.Serve(cmd.Context(), "127.0.0.1:"+port, o, c.logger(false))
		},
	}
	cmd.Flags().StringVar(&release, "release", "", "release to report (default: ./release.txt, then $BASCULE_RELEASE)")
	cmd.AddCommand(c.sampleAppCompatCommand())
	return cmd
}

// sampleAppCompatCommand is the sample app's migrate.compat_command: run
// from a release directory, it checks that this release still writes and
// reads its table in the database at $DATABASE_URL, which bascule points at
// a shadow copy of the schema after the next release's expand step.
func (c *cli) sampleAppCompatCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "compat",
		Short: "Check that this release works against the schema at $DATABASE_URL (the demo's migrate.compat_command)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var o sampleapp.Options
			b, err := os.ReadFile("release.txt")
			if err != nil {
				return fmt.Errorf("sample-app compat: run it from a release directory: %w", err)
			}
			if err := parseReleaseFile(string(b), &o); err != nil {
				return err
			}
			// The schema to check is the one bascule names, not the one
			// the release serves in production.
			if url := c.getenv("DATABASE_URL"); url != "" {
				o.DB.URL = url
			}
			return sampleapp.Compat(cmd.Context(), o, c.stdout)
		},
	}
}

// parseReleaseFile reads release.txt: the version on the first line, then
// optional "key=value" lines that make a deliberately broken release
// (crash=MESSAGE, unhealthy=true, start_delay=DURATION, grace=DURATION) or one that uses a
// database table (db_table=NAME, db_columns=A,B, db_url=URL or else
// $DATABASE_URL).
func parseReleaseFile(s string, o *sampleapp.Options) error {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if o.Release == "" {
		o.Release = strings.TrimSpace(lines[0])
	}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(l), "=")
		switch k {
		case "crash":
			o.Crash = v
		case "unhealthy":
			o.Unhealthy = v == "true"
		case "start_delay", "grace":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("release.txt: %s: want a positive duration, got %q", k, v)
			}
			if k == "grace" {
				o.Grace = d // how long SIGTERM lets requests finish; an impatient app has little
			} else {
				o.StartDelay = d
			}
		case "db_url":
			o.DB.URL = v
		case "db_table":
			o.DB.Table = v
		case "db_columns":
			o.DB.Columns = strings.Split(v, ",")
		case "":
		default:
			return fmt.Errorf("release.txt: unknown key %q", k)
		}
	}
	return nil
}
