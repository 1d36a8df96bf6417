package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func (c *cli) notificationsCommand() *cobra.Command {
	var state string
	cmd := &cobra.Command{
		Use:   "notifications",
		Short: "List the webhooks and their recent deliveries: attempts, last error, next try",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := c.client().Notifications(cmd.Context(), state)
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(n)
			}
			if len(n.Webhooks) == 0 {
				fmt.Fprintln(c.stdout, "No webhook is configured (notify: in bascule.yaml).")
			}
			for _, w := range n.Webhooks {
				signed := "unsigned"
				if w.Signed {
					signed = "signed"
				}
				fmt.Fprintf(c.stdout, "webhook %s  %s, %s, events: %s\n", w.Target, w.Format, signed, strings.Join(w.Events, ", "))
			}
			if len(n.Deliveries) == 0 {
				return nil
			}
			fmt.Fprintln(c.stdout)
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEVENT\tTO\tSTATE\tATTEMPTS\tNEXT TRY\tLAST ERROR / SUMMARY")
			for _, d := range n.Deliveries {
				next, note := "-", d.Summary
				if d.NextAt != nil {
					next = d.NextAt.Local().Format(time.DateTime)
				}
				if d.LastError != "" {
					note = d.LastError
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.EventType, d.Target, d.State, d.Attempts, next, note)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only deliveries in this state: pending, delivered or failed")
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}
