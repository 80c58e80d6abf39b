package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/wire"
)

func newSimulateCommand(g *globals) *cobra.Command {
	var direction, protocol, address string
	var port int64
	cmd := &cobra.Command{Use: "simulate INSTANCE --protocol P --port N --address PEER [--direction ingress|egress]",
		Short: "Would this traffic pass, and which rule decided? (SimulateTraffic)",
		Example: `  palisade simulate ins-1a2b3c4d --protocol tcp --port 22 --address 203.0.113.7
  palisade simulate ins-1a2b3c4d --direction egress --protocol udp --port 53 --address 10.0.0.2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.SimulateTraffic(cmd.Context(), &wire.SimulateTrafficRequest{InstanceId: wire.NewString(args[0]),
				Direction: wire.NewString(strings.ToUpper(direction)), Protocol: wire.NewString(protocol), Address: wire.NewString(address), Port: wire.NewInt(port)})
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error {
				where := resp.Layer
				if resp.SecurityGroupId != "" {
					where += " " + resp.SecurityGroupId
				}
				if resp.PolicyIndex != nil {
					where += fmt.Sprintf(" policy %d", *resp.PolicyIndex)
				}
				printDecision(w, resp.Verdict, where, resp.Trace, resp.Warnings)
				return nil
			})
		}}
	cmd.ValidArgsFunction = completeFirst(g.instanceIDs)
	f := cmd.Flags()
	f.StringVar(&direction, "direction", "ingress", "ingress (the peer is the source) or egress (the peer is the destination)")
	f.StringVar(&protocol, "protocol", "tcp", "TCP, UDP, ICMP, ICMPv6, GRE")
	f.StringVar(&address, "address", "", "the peer's IP address")
	f.Int64Var(&port, "port", 0, "destination port (TCP and UDP)")
	_ = cmd.MarkFlagRequired("address")
	return cmd
}

func newAccountCommand(g *globals) *cobra.Command {
	cmd := parentCommand("account", "The calling account: show it, lift its outbound TCP 25 block")
	show := &cobra.Command{Use: "show", Short: "Show the calling account (DescribeAccount)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.DescribeAccount(cmd.Context(), nil)
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, nil)
		}}
	unblock := &cobra.Command{Use: "unblock-port25", Short: "Lift the account's outbound TCP 25 block (recorded in its history)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.UnblockPort25(cmd.Context(), nil)
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error { _, err := fmt.Fprintln(w, "Outbound TCP 25 is unblocked."); return err })
		}}
	cmd.AddCommand(show, unblock)
	return cmd
}

// printDecision prints a verdict, where it was decided, the trace that led
// to it and the warnings, as simulate and explain show them.
func printDecision(w io.Writer, verdict, where string, trace, warnings []string) {
	fmt.Fprintf(w, "%s (%s)\n", verdict, where)
	for _, t := range trace {
		fmt.Fprintf(w, "  %s\n", t)
	}
	for _, m := range warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}
