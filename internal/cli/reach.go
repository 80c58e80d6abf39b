package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/wire"
)

func newReachCommand(g *globals) *cobra.Command {
	var protocol, srcFW, dstFW string
	var port int64
	cmd := &cobra.Command{Use: "reach SOURCE DESTINATION --protocol P --port N [--source-firewall FILE] [--destination-firewall FILE]",
		Short: "Would a new connection arrive, leg by leg: processes, guest firewalls, groups (CheckReachability)",
		Long: `Checks the first packet of a new connection from SOURCE to DESTINATION, each an
instance id or an IP address outside Palisade, through every leg in order:
the source's process, guest firewall and egress groups, then the destination's
ingress groups, guest firewall and process. The guest firewalls are checked
when their text is given: the output of iptables-save, ip6tables-save or
nft list ruleset on that machine.`,
		Example: `  palisade reach 203.0.113.7 ins-1a2b3c4d --protocol tcp --port 22
  palisade reach ins-1a2b3c4d ins-5e6f7a8b --port 3306 --destination-firewall db-iptables.txt`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			req := &wire.CheckReachabilityRequest{Source: wire.NewString(args[0]), Destination: wire.NewString(args[1]), Protocol: wire.NewString(protocol)}
			if port != 0 {
				req.Port = wire.NewInt(port)
			}
			for _, fw := range []struct {
				file string
				dst  **wire.String
			}{{srcFW, &req.SourceGuestFirewall}, {dstFW, &req.DestinationGuestFirewall}} {
				if fw.file == "" {
					continue
				}
				b, err := readFile(fw.file)
				if err != nil {
					return err
				}
				*fw.dst = wire.NewString(string(b))
			}
			resp, err := c.CheckReachability(cmd.Context(), req)
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error { return reachText(w, resp) })
		}}
	f := cmd.Flags()
	f.StringVar(&protocol, "protocol", "tcp", "TCP, UDP, ICMP, ICMPv6, GRE")
	f.Int64Var(&port, "port", 0, "destination port (TCP and UDP)")
	f.StringVar(&srcFW, "source-firewall", "", "file holding the source's iptables-save or nft list ruleset output")
	f.StringVar(&dstFW, "destination-firewall", "", "file holding the destination's iptables-save or nft list ruleset output")
	return cmd
}

func reachText(w io.Writer, r *wire.CheckReachabilityResponse) error {
	answer := r.Answer
	if r.BlockingLeg != "" {
		answer += " at " + r.BlockingLeg
	}
	fmt.Fprintf(w, "%s -> %s: %s\n", r.Source, r.Destination, answer)
	var rows [][]string
	for _, l := range r.Legs {
		why := ""
		switch {
		case l.Layer != "":
			why = l.Layer
			if l.SecurityGroupId != "" {
				why += " " + l.SecurityGroupId
			}
			if l.PolicyIndex != nil {
				why += fmt.Sprintf(" policy %d", *l.PolicyIndex)
			}
		case l.GuestLine != nil && *l.GuestLine > 0:
			why = fmt.Sprintf("line %d: %s", *l.GuestLine, l.GuestText)
		case l.GuestText != "":
			why = l.GuestText
		case len(l.Notes) > 0:
			why = l.Notes[0]
		}
		rows = append(rows, []string{l.Kind, l.Verdict, why})
	}
	if err := table(w, []string{"LEG", "VERDICT", "DECIDED BY"}, rows); err != nil {
		return err
	}
	for _, l := range r.Legs {
		for _, n := range l.GuestNotes {
			fmt.Fprintf(w, "%s: %s\n", strings.ToLower(l.Kind), n)
		}
		if l.Verdict == "UNCERTAIN" {
			for _, n := range l.Notes {
				fmt.Fprintf(w, "%s: %s\n", strings.ToLower(l.Kind), n)
			}
		}
	}
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
	return nil
}

func newPreviewCommand(g *globals) *cobra.Command {
	var file, format, instance string
	cmd := &cobra.Command{Use: "preview (SG --file SET | --instance INSTANCE SG…)",
		Short: "Which instances would gain or lose which traffic (PreviewSecurityGroupChange)",
		Long: `Previews a change without making it: a group's whole proposed policy set, read
from a file in any format sg import reads (both directions: a direction the
file does not hold is proposed empty), or an instance's proposed ordered
groups. For every affected instance, it lists the traffic gained and lost per
direction, exactly, as protocol, port range and address range, with the rule
that admits (or admitted) it.`,
		Example: `  palisade preview sg-1a2b3c4d --file web-app.json
  palisade preview --instance ins-1a2b3c4d sg-1a2b3c4d sg-5e6f7a8b`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			req := &wire.PreviewSecurityGroupChangeRequest{}
			switch {
			case instance != "" && file != "":
				return fmt.Errorf("give --file (a group's proposed policies) or --instance (its proposed groups), not both")
			case instance != "":
				req.InstanceId, req.SecurityGroupIds = wire.NewString(instance), wire.Strings(args...)
			case file == "":
				return fmt.Errorf("--file is required: the proposed policy set of %s", args[0])
			case len(args) != 1:
				return fmt.Errorf("preview of a policy set takes one group, got %d", len(args))
			default:
				lists, err := readPolicyFile(cmd, file, format)
				if err != nil {
					return err
				}
				req.SecurityGroupId, req.SecurityGroupPolicySet = wire.NewString(args[0]), fileSet(lists)
			}
			resp, err := c.PreviewSecurityGroupChange(cmd.Context(), req)
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error { return previewText(w, resp) })
		}}
	f := cmd.Flags()
	f.StringVar(&file, "file", "", "the group's proposed policy set (.json, .csv, .xlsx)")
	f.StringVar(&format, "format", "", "the file's format when its name does not say: json, csv or xlsx")
	f.StringVar(&instance, "instance", "", "preview the instance bound to the groups given, in that order")
	return cmd
}

func previewText(w io.Writer, r *wire.PreviewSecurityGroupChangeResponse) error {
	fmt.Fprintf(w, "%d instances, %d unchanged\n", r.TotalCount, r.UnchangedCount)
	var rows [][]string
	for _, ic := range r.InstanceSet {
		for _, x := range []struct {
			dir, change string
			rs          []wire.TrafficRegion
		}{{"INGRESS", "GAINS", ic.IngressGains}, {"INGRESS", "LOSES", ic.IngressLosses}, {"EGRESS", "GAINS", ic.EgressGains}, {"EGRESS", "LOSES", ic.EgressLosses}} {
			for _, g := range x.rs {
				ports := ""
				if g.PortFrom != nil {
					ports = fmt.Sprint(*g.PortFrom)
					if *g.PortTo != *g.PortFrom {
						ports += fmt.Sprintf("-%d", *g.PortTo)
					}
				}
				addrs := strings.Join(g.Cidrs, ",")
				if len(g.Cidrs) > 3 {
					addrs = g.AddressFrom + "-" + g.AddressTo
				}
				rule := g.Platform
				if g.PolicyIndex != nil {
					rule = fmt.Sprintf("%s policy %d", g.SecurityGroupId, *g.PolicyIndex)
				}
				rows = append(rows, []string{ic.InstanceId, x.dir, x.change, g.Protocol, ports, addrs, rule})
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return table(w, []string{"INSTANCE", "DIRECTION", "CHANGE", "PROTOCOL", "PORTS", "ADDRESSES", "RULE"}, rows)
}

func newConfirmCommand(g *globals) *cobra.Command {
	return &cobra.Command{Use: "confirm SG VERSION", Short: "Confirm a policy write made with --confirm-within (ConfirmSecurityGroupChange)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.ConfirmSecurityGroupChange(cmd.Context(), &wire.ConfirmSecurityGroupChangeRequest{SecurityGroupId: wire.NewString(args[0]), Version: wire.NewString(args[1])})
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Version %s of %s confirmed.\n", resp.Version, resp.SecurityGroupId)
				return err
			})
		}}
}
