package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/flag"
	"github.com/spf13/cobra"
)

func (c *cli) flagsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "flags", Short: "Feature flags: apply a flags file, export, list, show, switch, roll out"}
	cmd.AddCommand(c.flagsApplyCommand(), c.flagsExportCommand(), c.flagsListCommand(), c.flagsShowCommand(),
		c.flagsSwitchCommand("enable", true), c.flagsSwitchCommand("disable", false),
		c.flagsRolloutCommand(), c.flagsStaleCommand())
	return cmd
}

func (c *cli) flagsApplyCommand() *cobra.Command {
	var file string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply -f flags.yaml",
		Short: "Make the flags exactly what a flags file says: validate it whole, show the diff, apply it",
		Long: `Apply validates the whole file first (nothing is applied if anything is wrong,
and every mistake is reported as file:line), shows what would change, and
applies exactly that: if someone changes the flags in between, it stops.
Applying the same file again changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("read flags file: %w", err)
			}
			cl := c.client()
			plan, err := cl.ApplyFlags(cmd.Context(), file, data, true, -1)
			if err != nil {
				return err
			}
			if len(plan.Changes) == 0 || dryRun {
				return c.printPlan(plan, dryRun)
			}
			done, err := cl.ApplyFlags(cmd.Context(), file, data, false, plan.Version)
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(done)
			}
			for _, ch := range done.Changes {
				c.printf("%s\n", ch)
			}
			c.printf("applied %d change(s): flags are at version %d\n", len(done.Changes), done.Version)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "flags.yaml", "flags file")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show the diff only")
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) printPlan(plan flag.Outcome, dryRun bool) error {
	if c.json {
		return c.writeJSON(plan)
	}
	if len(plan.Changes) == 0 {
		c.printf("no changes: flags are at version %d\n", plan.Version)
		return nil
	}
	for _, ch := range plan.Changes {
		c.printf("%s\n", ch)
	}
	if dryRun {
		c.printf("dry run: %d change(s) not applied; flags are at version %d\n", len(plan.Changes), plan.Version)
	}
	return nil
}

func (c *cli) flagsExportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export [-o flags.yaml]",
		Short: "Write every flag and segment as a flags file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := c.client().ExportFlags(cmd.Context())
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = c.stdout.Write(data)
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return fmt.Errorf("write flags file: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default: standard output)")
	return cmd
}

func (c *cli) flagsListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the flags and what each serves",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := c.client().Flags(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(list)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tTYPE\tSERVES\tOWNER")
			for _, f := range list.Flags {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Key, f.Type, flag.Describe(f), dash(f.Owner))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) flagsShowCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show KEY",
		Short: "Show one flag as it would be written in a flags file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := c.client().Flag(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(f)
			}
			c.printf("# %s; changed %s\n", flag.Describe(f), f.UpdatedAt.Local().Format(time.DateTime))
			_, err = c.stdout.Write(flag.ExportFlag(f))
			return err
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) flagsSwitchCommand(verb string, on bool) *cobra.Command {
	short := "Switch a flag on: it serves its rules again"
	if !on {
		short = "Switch a flag off (kill switch): it serves its off variant to everyone"
	}
	cmd := &cobra.Command{
		Use:   verb + " KEY",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, err := c.client().SetFlagEnabled(cmd.Context(), args[0], on)
			if err != nil {
				return err
			}
			return c.printChange(ch.Outcome, fmt.Sprintf("flag %s was already %sd", args[0], verb))
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) flagsRolloutCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout KEY PERCENT",
		Short: "Serve a boolean flag to PERCENT % of users, sticky per user (its last percentage rule)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			weight, err := flag.ParsePercent(args[1])
			if err != nil {
				return fmt.Errorf("rollout percentage: %w", err)
			}
			ch, err := c.client().SetFlagRollout(cmd.Context(), args[0], float64(weight)/1000)
			if err != nil {
				return err
			}
			return c.printChange(ch.Outcome, fmt.Sprintf("flag %s already serves %s", args[0], feature.FormatPercent(weight)))
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) printChange(out flag.Outcome, unchanged string) error {
	if c.json {
		return c.writeJSON(out)
	}
	if !out.Applied {
		c.printf("%s (version %d)\n", unchanged, out.Version)
		return nil
	}
	for _, ch := range out.Changes {
		c.printf("%s\n", ch)
	}
	c.printf("flags are at version %d\n", out.Version)
	return nil
}

func (c *cli) flagsStaleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stale",
		Short: "List release flags ready to remove: one variant for everyone for longer than expected",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := c.client().StaleFlags(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(list)
			}
			if len(list) == 0 {
				c.printf("no release flag is ready to remove\n")
				return nil
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tSERVES\tSINCE\tEXPECTED LIFETIME\tOWNER")
			for _, f := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Key, f.Variant, f.Since.Local().Format(time.DateOnly), f.ExpectedLifetime, dash(f.Owner))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}
