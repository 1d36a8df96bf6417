package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
	"github.com/spf13/cobra"
)

func (c *cli) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage the people who log in to the web UI (admin role)"}
	cmd.AddCommand(c.userAddCommand(), c.userListCommand(), c.userRemoveCommand(), c.userPasswdCommand())
	return cmd
}

// readPassword reads a password from stdin, so that it never shows in the
// process list or the shell history. One trailing newline is dropped.
func readPassword(cmd *cobra.Command) (string, error) {
	b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4096))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", fmt.Errorf("read password from stdin: it is empty")
	}
	return pw, nil
}

func (c *cli) userAddCommand() *cobra.Command {
	var role string
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a user; without --password-stdin a random password is generated and shown once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var password string
			if fromStdin {
				var err error
				if password, err = readPassword(cmd); err != nil {
					return err
				}
			}
			u, generated, err := c.client().CreateUser(cmd.Context(), args[0], role, password)
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(map[string]any{"user": u, "password": generated})
			}
			c.printf("user %s added with the %s role\n", u.Name, u.Role)
			if generated != "" {
				c.printf("password (shown once): %s\n", generated)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "viewer", "viewer, deployer or admin")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin")
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) userListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			users, err := c.client().Users(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(users)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tSTATUS")
			for _, u := range users {
				status := "enabled"
				if u.DisabledAt != nil {
					status = "disabled since " + u.DisabledAt.Local().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, u.CreatedAt.Local().Format(time.DateTime), status)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) userRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a user and end their sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.client().DeleteUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			c.printf("user %s removed\n", args[0])
			return nil
		},
	}
}

func (c *cli) userPasswdCommand() *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a user's password and end their sessions; without --password-stdin a random one is shown once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var password string
			var err error
			if fromStdin {
				password, err = readPassword(cmd)
			} else {
				password, err = auth.GeneratePassword()
			}
			if err != nil {
				return err
			}
			if _, err := c.client().UpdateUser(cmd.Context(), args[0], auth.UserChange{Password: password}); err != nil {
				return err
			}
			c.printf("password of %s changed; their sessions ended\n", args[0])
			if !fromStdin {
				c.printf("new password (shown once): %s\n", password)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func (c *cli) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens for CI and the CLI (admin role)"}
	cmd.AddCommand(c.tokenCreateCommand(), c.tokenListCommand(), c.tokenRevokeCommand())
	return cmd
}

func (c *cli) tokenCreateCommand() *cobra.Command {
	var role, expires string
	var local localFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API token; its secret is shown once",
		Long: `Create an API token; its secret is shown once.

Through the API by default (an admin token in BASCULE_TOKEN). With --data or
-c it is made directly in bascule's store on this machine, which needs no
token: the way back in when the admin token is lost (audited).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if local.set() {
				return c.createTokenLocally(cmd.Context(), local, args[0], role, expires)
			}
			tok, secret, err := c.client().CreateToken(cmd.Context(), args[0], role, expires)
			if err != nil {
				return err
			}
			return c.printToken(tok, secret, "", "secret (shown once; store it now, e.g. as BASCULE_TOKEN in your CI's secrets)")
		},
	}
	cmd.Flags().StringVar(&role, "role", "deployer", "evaluator (flag evaluation only), router (a bascule router: routing stream and heartbeats only), viewer, deployer or admin")
	cmd.Flags().StringVar(&expires, "expires", "", `lifetime such as 720h, or "never" (default: the server's, 90 days; with --data, never)`)
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	cmd.Flags().BoolVarP(&c.quiet, "quiet", "q", false, "print the secret alone, e.g. for $(bascule token create -q …)")
	local.register(cmd, "either makes the token locally, without the API")
	return cmd
}

func (c *cli) tokenListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			toks, err := c.client().Tokens(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.writeJSON(toks)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES")
			for _, t := range toks {
				exp := "never"
				if t.ExpiresAt != nil {
					exp = t.ExpiresAt.Local().Format(time.DateTime)
					if !time.Now().Before(*t.ExpiresAt) {
						exp += " (expired)"
					}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Local().Format(time.DateTime), exp)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&c.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) tokenRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token; it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
			if err != nil {
				return fmt.Errorf("token id %q: want the number from 'bascule token list'", args[0])
			}
			if err := c.client().RevokeToken(cmd.Context(), id); err != nil {
				return err
			}
			c.printf("token #%d revoked\n", id)
			return nil
		},
	}
}

// printToken shows a token just created, and its secret, the one time it
// can be shown; where says how it was made.
func (c *cli) printToken(tok store.Token, secret, where, secretLabel string) error {
	switch {
	case c.json:
		return c.writeJSON(map[string]any{"token": tok, "secret": secret})
	case c.quiet:
		c.printf("%s\n", secret)
		return nil
	}
	exp := "never expires"
	if tok.ExpiresAt != nil {
		exp = "expires " + tok.ExpiresAt.Local().Format(time.DateTime)
	}
	c.printf("token #%d %s created with the %s role%s; %s\n", tok.ID, tok.Name, tok.Role, where, exp)
	c.printf("%s:\n  %s\n", secretLabel, secret)
	return nil
}
