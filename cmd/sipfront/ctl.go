package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/admin"
)

func init() { rootCmd.AddCommand(newCtlCmd()) }

// ctlOptions are the flags every ctl subcommand shares.
type ctlOptions struct {
	admin string
	json  bool
}

func newCtlCmd() *cobra.Command {
	o := &ctlOptions{}
	cmd := &cobra.Command{
		Use:   "ctl",
		Short: "Operate a running proxy through its admin API",
		Long: `ctl talks to the admin API of a running sipfront (proxy.admin), in the
spirit of opensips-cli and kamcmd. Members are named by their graph ID,
e.g. pool.asterisk.member.ast2. The bearer token, when the proxy needs one,
is read from ` + admin.TokenEnv + `.

  sipfront ctl pools
  sipfront ctl drain pool.asterisk.member.ast2
  sipfront ctl weight pool.asterisk.member.ast1 5
  sipfront ctl calls --member pool.asterisk.member.ast2 -json
  sipfront ctl throttle
  sipfront ctl unblock 203.0.113.50`,
	}
	cmd.PersistentFlags().StringVar(&o.admin, "admin", admin.DefaultURL, "admin API URL of the proxy")
	cmd.PersistentFlags().BoolVar(&o.json, "json", false, "print the API's JSON instead of a table")
	cmd.AddCommand(
		ctlGet(o, "status", "Show the running policy, uptime and counts", "/v1/status", renderStatus),
		ctlGet(o, "pools", "Show pools and members: declared and observed state, calls, free capacity", "/v1/pools", renderPools),
		ctlGet(o, "carriers", "Show carriers: health, mode, calls and cps against limits, ASR, PDD, skips", "/v1/carriers", renderCarriers),
		ctlGet(o, "overrides", "List runtime overrides (drift from the policy)", "/v1/overrides", renderOverrides),
		ctlCalls(o),
		ctlRegistrations(o),
		ctlMode(o, "enable", "Put a member back in service (clears a mode-only override)"),
		ctlMode(o, "disable", "Stop sending new calls to a member at once"),
		ctlMode(o, "drain", "Send no new calls to a member; let its calls end (pools shows drained)"),
		ctlWeight(o), ctlCapacity(o), ctlClear(o), ctlReload(o), ctlFlood(o),
		ctlGet(o, "throttle", "Show the auth throttle: sources and users with failed answers, blocked ones first", "/v1/auth/throttle", renderThrottle),
		ctlUnblock(o),
	)
	return cmd
}

// client returns the admin client with the token from the environment.
func (o *ctlOptions) client() *admin.Client {
	return admin.NewClient(o.admin, os.Getenv(admin.TokenEnv))
}

// renderer prints an API answer for humans.
type renderer func(w io.Writer, data json.RawMessage) error

// run sends one request and prints the answer: raw JSON with -json, the
// renderer's table otherwise. API errors exit 1 with the server's message.
func (o *ctlOptions) run(cmd *cobra.Command, method, path string, body any, render renderer) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
	defer cancel()
	data, err := o.client().Do(ctx, method, path, body)
	if err != nil {
		return ctlError(err)
	}
	out := cmd.OutOrStdout()
	if o.json {
		var buf bytes.Buffer
		if json.Indent(&buf, data, "", "  ") != nil {
			buf.Reset()
			buf.Write(data)
		}
		_, err = out.Write(bytes.TrimRight(buf.Bytes(), "\n"))
		fmt.Fprintln(out)
		return err
	}
	return render(out, data)
}

// ctlError turns an API or connection error into exit code 1 with the
// message on stderr.
func ctlError(err error) error {
	var ae *admin.APIError
	if errors.As(err, &ae) {
		return &exitError{code: 1, msg: fmt.Sprintf("error: %s (HTTP %d)", ae.Message, ae.Status)}
	}
	return &exitError{code: 1, msg: "error: " + err.Error()}
}

func ctlGet(o *ctlOptions, name, short, path string, render renderer) *cobra.Command {
	return &cobra.Command{
		Use: name, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, "GET", path, nil, render) },
	}
}

func ctlCalls(o *ctlOptions) *cobra.Command {
	var member string
	cmd := &cobra.Command{
		Use: "calls", Short: "List active calls (dialogs), of one member with --member", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, "GET", admin.CallsPath(graph.ID(member)), nil, renderCalls)
		},
	}
	cmd.Flags().StringVar(&member, "member", "", "only the calls of this member (graph ID)")
	return cmd
}

func ctlMode(o *ctlOptions, action, short string) *cobra.Command {
	return &cobra.Command{
		Use: action + " MEMBER|CARRIER", Short: short + " (a member or carrier.NAME)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if id := graph.ID(args[0]); admin.IsCarrier(id) {
				return o.run(cmd, "POST", admin.CarrierPath(id, action), nil, renderCarrier)
			}
			return o.run(cmd, "POST", admin.MemberPath(graph.ID(args[0]), action), nil, renderMember)
		},
	}
}

func ctlWeight(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "weight MEMBER N", Short: "Override a member's balancing weight", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := ctlInt("weight", args[1])
			if err != nil {
				return err
			}
			body := admin.WeightRequest{Weight: &n}
			return o.run(cmd, "PUT", admin.MemberPath(graph.ID(args[0]), "weight"), body, renderMember)
		},
	}
}

func ctlCapacity(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "capacity MEMBER RESOURCE N", Short: "Override a member's capacity of one resource", Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := ctlInt("capacity", args[2])
			if err != nil {
				return err
			}
			body := admin.CapacityRequest{Resource: args[1], Capacity: &n}
			return o.run(cmd, "PUT", admin.MemberPath(graph.ID(args[0]), "capacity"), body, renderMember)
		},
	}
}

func ctlClear(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "clear MEMBER", Short: "Remove a member's runtime override: back to what the policy declares", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, "DELETE", admin.MemberPath(graph.ID(args[0]), "override"), nil, renderMember)
		},
	}
}

func ctlReload(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "reload", Short: "Reload the policy (as SIGHUP); prints the diagnostics when it is refused", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, "POST", "/v1/reload", nil, renderReload)
		},
	}
}

// ctlInt parses a count argument; the server checks the range.
func ctlInt(what, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &exitError{code: 1, msg: fmt.Sprintf("error: %s %q is not a whole number", what, s)}
	}
	return n, nil
}
