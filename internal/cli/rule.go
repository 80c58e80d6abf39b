package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/wire"
)

// ruleFlags describe policies on the command line: the compact form as
// arguments (ACTION PROTOCOL PORT PEER [DESCRIPTION…]), repeatable --rule
// with the compact form, or one policy field by field.
type ruleFlags struct {
	direction string
	version   string
	rules     []string
	raw       policy.Raw
	expires   string
}

func (rf *ruleFlags) register(cmd *cobra.Command, fields bool) {
	f := cmd.Flags()
	f.StringVar(&rf.direction, "direction", "ingress", "direction: ingress or egress")
	f.StringVar(&rf.version, "version", "", "fail unless the group's policy Version is this one (optimistic concurrency)")
	if !fields {
		return
	}
	f.StringArrayVar(&rf.rules, "rule", nil, `a policy in the compact form "ACTION PROTOCOL PORT PEER [# DESCRIPTION]" (repeatable)`)
	f.StringVar(&rf.raw.Action, "action", "", "ACCEPT or DROP")
	f.StringVar(&rf.raw.Protocol, "protocol", "", "TCP, UDP, ICMP, ICMPv6, GRE or ALL")
	f.StringVar(&rf.raw.Port, "port", "", "ALL, 22, 8000-8080 or 80,443")
	f.StringVar(&rf.raw.CidrBlock, "cidr", "", "IPv4 peer (CIDR or address)")
	f.StringVar(&rf.raw.Ipv6CidrBlock, "ipv6-cidr", "", "IPv6 peer")
	f.StringVar(&rf.raw.SecurityGroupId, "peer-group", "", "security group peer (sg-…)")
	f.StringVar(&rf.raw.AddressId, "address-template", "", "address template peer (ipm-…)")
	f.StringVar(&rf.raw.AddressGroupId, "address-group", "", "address template group peer (ipmg-…)")
	f.StringVar(&rf.raw.ServiceId, "service-template", "", "service template (ppm-…) in place of protocol and port")
	f.StringVar(&rf.raw.ServiceGroupId, "service-group", "", "service template group (ppmg-…) in place of protocol and port")
	f.StringVar(&rf.raw.PolicyDescription, "description", "", "policy description")
	f.StringVar(&rf.expires, "expires", "", "remove the policies after this time: a duration from now (2h, 30m) or an RFC 3339 time")
}

// expiresAt reads --expires: "" (never), a duration from now, or an RFC
// 3339 time, returned in RFC 3339 (UTC, whole seconds).
func (rf *ruleFlags) expiresAt(now time.Time) (string, error) {
	if rf.expires == "" {
		return "", nil
	}
	if d, err := time.ParseDuration(rf.expires); err == nil {
		if d <= 0 {
			return "", fmt.Errorf("--expires %q: want a positive duration", rf.expires)
		}
		return now.Add(d).UTC().Truncate(time.Second).Format(time.RFC3339), nil
	}
	t, err := time.Parse(time.RFC3339, rf.expires)
	if err != nil {
		return "", fmt.Errorf("--expires %q: want a duration (2h, 30m) or an RFC 3339 time (2026-03-01T10:00:00Z)", rf.expires)
	}
	return t.UTC().Format(time.RFC3339), nil
}

// withExpiry sets ExpiresAt, from --expires, on every policy of set.
func (rf *ruleFlags) withExpiry(set *wire.SecurityGroupPolicySetInput) (*wire.SecurityGroupPolicySetInput, error) {
	at, err := rf.expiresAt(time.Now())
	if err != nil || at == "" {
		return set, err
	}
	for _, list := range [][]wire.SecurityGroupPolicyInput{set.Ingress, set.Egress} {
		for i := range list {
			list[i].ExpiresAt = wire.NewString(at)
		}
	}
	return set, nil
}

func (rf *ruleFlags) dir() (policy.Direction, error) {
	d, err := policy.ParseDirection(rf.direction)
	if err != nil {
		return d, fmt.Errorf("--direction %q: want ingress or egress", rf.direction)
	}
	return d, nil
}

// policies returns the policies given on the command line, each validated
// with the server's parser; args are the compact form of one policy.
func (rf *ruleFlags) policies(args []string) ([]policy.Raw, error) {
	var out []policy.Raw
	if len(args) > 0 {
		p, err := parseCompact(args)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Raw())
	}
	for _, s := range rf.rules {
		p, err := policy.ParsePolicy(s)
		if err != nil {
			return nil, fmt.Errorf("--rule %q: %w", s, err)
		}
		out = append(out, p.Raw())
	}
	if rf.raw != (policy.Raw{}) {
		p, err := policy.ParseRaw(rf.raw)
		if err != nil {
			return nil, fmt.Errorf("policy flags: %w", err)
		}
		out = append(out, p.Raw())
	}
	if len(out) == 0 {
		return nil, errors.New(`no policy given: use the compact form (ACCEPT TCP 22 10.0.0.0/8 "ssh from office"), --rule, or --action with --protocol, --port and a peer`)
	}
	return out, nil
}

// parseCompact reads a policy written as separate arguments, ACTION
// PROTOCOL PORT PEER or ACTION SERVICE-TEMPLATE PEER, followed by an
// optional description (the rest of the arguments, an optional leading
// "#" dropped), or as one argument in policy.ParsePolicy's form.
func parseCompact(args []string) (policy.Policy, error) {
	if len(args) == 1 {
		p, err := policy.ParsePolicy(args[0])
		if err != nil {
			return policy.Policy{}, fmt.Errorf("policy %q: %w", args[0], err)
		}
		return p, nil
	}
	n := 4
	if strings.HasPrefix(args[1], policy.PrefixServiceTemplate) || strings.HasPrefix(args[1], policy.PrefixServiceTemplateGroup) {
		n = 3
	}
	if len(args) < n {
		return policy.Policy{}, fmt.Errorf("policy %q: want ACTION PROTOCOL PORT PEER [DESCRIPTION] or ACTION SERVICE-TEMPLATE PEER [DESCRIPTION]", strings.Join(args, " "))
	}
	s := strings.Join(args[:n], " ")
	desc := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.Join(args[n:], " ")), "#"))
	if desc != "" {
		s += " # " + desc
	}
	p, err := policy.ParsePolicy(s)
	if err != nil {
		return policy.Policy{}, fmt.Errorf("policy %q: %w", strings.Join(args, " "), err)
	}
	return p, nil
}

// policySet builds the request policy set of one direction.
func policySet(d policy.Direction, version string, raws []policy.Raw, index *int) *wire.SecurityGroupPolicySetInput {
	set := &wire.SecurityGroupPolicySetInput{}
	if version != "" {
		set.Version = wire.NewString(version)
	}
	in := make([]wire.SecurityGroupPolicyInput, len(raws))
	for i, r := range raws {
		in[i] = policyInput(r)
		if index != nil {
			in[i].PolicyIndex = wire.NewInt(int64(*index))
		}
	}
	if d == policy.Egress {
		set.Egress = in
	} else {
		set.Ingress = in
	}
	return set
}

func newRuleCommand(g *globals) *cobra.Command {
	cmd := parentCommand("rule", "Add, insert, modify, replace, delete, move, disable, enable and list a group's policies")
	guard := &guardFlags{}
	guard.register(cmd)

	var listDir string
	list := &cobra.Command{Use: "list SG", Short: "List a group's policies", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := describePolicies(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error {
				set := resp.SecurityGroupPolicySet
				fmt.Fprintf(w, "Version: %s\n", set.Version)
				if listDir != "egress" {
					if err := policyTable(w, "Ingress", set.Ingress); err != nil {
						return err
					}
				}
				if listDir != "ingress" {
					return policyTable(w, "Egress", set.Egress)
				}
				return nil
			})
		}}
	list.Flags().StringVar(&listDir, "direction", "", "only this direction: ingress or egress")

	// write runs one policy write and prints its response.
	write := func(cmd *cobra.Command, call func(ctx context.Context, c *client.Client) (*wire.PolicyWriteResponse, error)) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		resp, err := call(cmd.Context(), c)
		if err != nil {
			return err
		}
		g.printWarnings(cmd, resp.Warnings)
		return g.emit(cmd, resp, func(w io.Writer) error {
			if _, err := fmt.Fprintf(w, "Version: %s\n", resp.Version); err != nil || resp.ConfirmBy == "" {
				return err
			}
			_, err := fmt.Fprintf(w, "Confirm by %s (palisade confirm SG %s), or the previous version is restored.\n", resp.ConfirmBy, resp.Version)
			return err
		})
	}

	var add ruleFlags
	addCmd := &cobra.Command{Use: "add SG [ACTION PROTOCOL PORT PEER [DESCRIPTION]]", Short: "Append policies to a direction",
		Example: `  palisade rule add sg-1a2b3c4d ACCEPT tcp 22 10.0.0.0/8 "ssh from office"
  palisade rule add sg-1a2b3c4d --direction egress --rule "DROP TCP 25 0.0.0.0/0 # no mail"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return createPolicies(cmd, write, &add, args, nil, guard)
		}}
	add.register(addCmd, true)

	var ins ruleFlags
	var insIndex int
	insCmd := &cobra.Command{Use: "insert SG --index N [ACTION PROTOCOL PORT PEER [DESCRIPTION]]", Short: "Insert policies at an index (0 is the top; later policies shift down)",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return createPolicies(cmd, write, &ins, args, &insIndex, guard)
		}}
	ins.register(insCmd, true)
	insCmd.Flags().IntVar(&insIndex, "index", 0, "index to insert at")

	var mod ruleFlags
	var modIndex int
	modCmd := &cobra.Command{Use: "modify SG --index N [ACTION PROTOCOL PORT PEER [DESCRIPTION]]", Short: "Replace the policy at an index with another (ReplaceSecurityGroupPolicy)",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := mod.dir()
			if err != nil {
				return err
			}
			raws, err := mod.policies(args[1:])
			if err != nil {
				return err
			}
			if len(raws) != 1 {
				return fmt.Errorf("modify takes one policy, got %d", len(raws))
			}
			set, err := mod.withExpiry(policySet(d, mod.version, raws, &modIndex))
			if err != nil {
				return err
			}
			return write(cmd, func(ctx context.Context, c *client.Client) (*wire.PolicyWriteResponse, error) {
				r, err := c.ReplaceSecurityGroupPolicy(ctx, &wire.ReplaceSecurityGroupPolicyRequest{SecurityGroupId: wire.NewString(args[0]), SecurityGroupPolicySet: set, Force: guard.force(), ConfirmWithin: guard.confirmWithin()})
				return (*wire.PolicyWriteResponse)(r), err
			})
		}}
	mod.register(modCmd, true)
	modCmd.Flags().IntVar(&modIndex, "index", 0, "index of the policy to replace")
	_ = modCmd.MarkFlagRequired("index")

	var rep ruleFlags
	repCmd := &cobra.Command{Use: "replace SG --rule RULE…", Short: "Replace a whole direction with the policies given (ModifySecurityGroupPolicies)",
		Long: `Replace every policy of one direction with the policies given, in one
ModifySecurityGroupPolicies; the other direction is left as it is. That
action is not Version-checked (the cloud's is not either): --version is
refused here. To replace policies at given indexes, use rule modify.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := rep.dir()
			if err != nil {
				return err
			}
			if rep.version != "" {
				return errors.New("rule replace is not Version-checked: leave out --version")
			}
			raws, err := rep.policies(args[1:])
			if err != nil {
				return err
			}
			set, err := rep.withExpiry(policySet(d, "", raws, nil))
			if err != nil {
				return err
			}
			return write(cmd, func(ctx context.Context, c *client.Client) (*wire.PolicyWriteResponse, error) {
				r, err := c.ModifySecurityGroupPolicies(ctx, &wire.ModifySecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(args[0]), SecurityGroupPolicySet: set, Force: guard.force(), ConfirmWithin: guard.confirmWithin()})
				return (*wire.PolicyWriteResponse)(r), err
			})
		}}
	rep.register(repCmd, true)

	var del ruleFlags
	var delIndexes []int
	delCmd := &cobra.Command{Use: "delete SG (--index N… | ACTION PROTOCOL PORT PEER)", Short: "Delete policies by index or by content",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := del.dir()
			if err != nil {
				return err
			}
			if del.expires != "" {
				return errors.New("rule delete takes no --expires")
			}
			var set *wire.SecurityGroupPolicySetInput
			if len(delIndexes) > 0 {
				if len(args) > 1 || len(del.rules) > 0 || del.raw != (policy.Raw{}) {
					return errors.New("give --index or policies by content, not both")
				}
				set = policySet(d, del.version, nil, nil)
				list := make([]wire.SecurityGroupPolicyInput, len(delIndexes))
				for i, ix := range delIndexes {
					list[i] = wire.SecurityGroupPolicyInput{PolicyIndex: wire.NewInt(int64(ix))}
				}
				if d == policy.Egress {
					set.Egress = list
				} else {
					set.Ingress = list
				}
			} else {
				raws, err := del.policies(args[1:])
				if err != nil {
					return err
				}
				set = policySet(d, del.version, raws, nil)
			}
			return write(cmd, func(ctx context.Context, c *client.Client) (*wire.PolicyWriteResponse, error) {
				r, err := c.DeleteSecurityGroupPolicies(ctx, &wire.DeleteSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(args[0]), SecurityGroupPolicySet: set, Force: guard.force(), ConfirmWithin: guard.confirmWithin()})
				return (*wire.PolicyWriteResponse)(r), err
			})
		}}
	del.register(delCmd, true)
	delCmd.Flags().IntSliceVar(&delIndexes, "index", nil, "indexes of the policies to delete (repeatable or comma-separated)")

	var mv ruleFlags
	var from, to int
	mvCmd := &cobra.Command{Use: "move SG --from I --to J", Short: "Move a policy to another index in one Version-checked write",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := mv.dir()
			if err != nil {
				return err
			}
			return write(cmd, func(ctx context.Context, c *client.Client) (*wire.PolicyWriteResponse, error) {
				cur, err := describePolicies(ctx, c, args[0])
				if err != nil {
					return nil, err
				}
				list := cur.SecurityGroupPolicySet.Ingress
				if d == policy.Egress {
					list = cur.SecurityGroupPolicySet.Egress
				}
				if from < 0 || from >= len(list) || to < 0 || to >= len(list) {
					return nil, fmt.Errorf("--from %d --to %d: the %s list has %d policies", from, to, d, len(list))
				}
				// The policies as they are, Palisade's fields (Disabled,
				// ExpiresAt) included.
				ins := make([]wire.SecurityGroupPolicyInput, 0, len(list))
				for _, p := range list {
					ins = append(ins, describedInput(p))
				}
				moved := ins[from]
				ins = append(ins[:from], ins[from+1:]...)
				ins = append(ins[:to], append([]wire.SecurityGroupPolicyInput{moved}, ins[to:]...)...)
				version := mv.version
				if version == "" {
					version = cur.SecurityGroupPolicySet.Version
				}
				// Every index between from and to gets its new policy, in
				// one ReplaceSecurityGroupPolicies checked against the
				// version read.
				lo, hi := min(from, to), max(from, to)
				set := policySet(d, version, nil, nil)
				part := ins[lo : hi+1]
				for i := range part {
					part[i].PolicyIndex = wire.NewInt(int64(lo + i))
				}
				if d == policy.Egress {
					set.Egress = part
				} else {
					set.Ingress = part
				}
				r, err := c.ReplaceSecurityGroupPolicies(ctx, &wire.ReplaceSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(args[0]), SecurityGroupPolicySet: set, Force: guard.force(), ConfirmWithin: guard.confirmWithin()})
				return (*wire.PolicyWriteResponse)(r), err
			})
		}}
	mv.register(mvCmd, false)
	mvCmd.Flags().IntVar(&from, "from", 0, "index of the policy to move")
	mvCmd.Flags().IntVar(&to, "to", 0, "index it moves to")
	_ = mvCmd.MarkFlagRequired("from")
	_ = mvCmd.MarkFlagRequired("to")

	// disable and enable replace one policy by itself with Disabled set,
	// checked against the version read (or --version).
	toggle := func(disabled bool) *cobra.Command {
		var tf ruleFlags
		verb, short := "enable", "Enable a disabled policy: it matches again"
		if disabled {
			verb, short = "disable", "Disable a policy without removing it: it matches nothing until enabled"
		}
		c := &cobra.Command{Use: verb + " SG [--direction D] INDEX", Short: short + " (ReplaceSecurityGroupPolicy)",
			Example: "  palisade rule " + verb + " sg-1a2b3c4d --direction ingress 2",
			Args:    cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				d, err := tf.dir()
				if err != nil {
					return err
				}
				index, err := strconv.Atoi(args[1])
				if err != nil || index < 0 {
					return fmt.Errorf("INDEX %q: want a policy index (0 or more)", args[1])
				}
				return write(cmd, func(ctx context.Context, c *client.Client) (*wire.PolicyWriteResponse, error) {
					cur, err := describePolicies(ctx, c, args[0])
					if err != nil {
						return nil, err
					}
					list := cur.SecurityGroupPolicySet.Ingress
					if d == policy.Egress {
						list = cur.SecurityGroupPolicySet.Egress
					}
					if index >= len(list) {
						return nil, fmt.Errorf("INDEX %d: the %s list of %s has %d policies", index, d, args[0], len(list))
					}
					version := tf.version
					if version == "" {
						version = cur.SecurityGroupPolicySet.Version
					}
					in := describedInput(list[index])
					in.PolicyIndex, in.Disabled = wire.NewInt(int64(index)), wire.NewBool(disabled)
					set := policySet(d, version, nil, nil)
					if d == policy.Egress {
						set.Egress = []wire.SecurityGroupPolicyInput{in}
					} else {
						set.Ingress = []wire.SecurityGroupPolicyInput{in}
					}
					r, err := c.ReplaceSecurityGroupPolicy(ctx, &wire.ReplaceSecurityGroupPolicyRequest{SecurityGroupId: wire.NewString(args[0]), SecurityGroupPolicySet: set, Force: guard.force(), ConfirmWithin: guard.confirmWithin()})
					return (*wire.PolicyWriteResponse)(r), err
				})
			}}
		tf.register(c, false)
		return c
	}

	cmd.AddCommand(list, addCmd, insCmd, modCmd, repCmd, delCmd, mvCmd, toggle(true), toggle(false))
	g.completeIDs(cmd, g.groupIDs)
	return cmd
}

// createPolicies runs CreateSecurityGroupPolicies: appended (index nil) or
// inserted at *index.
func createPolicies(cmd *cobra.Command, write func(*cobra.Command, func(context.Context, *client.Client) (*wire.PolicyWriteResponse, error)) error, rf *ruleFlags, args []string, index *int, guard *guardFlags) error {
	d, err := rf.dir()
	if err != nil {
		return err
	}
	raws, err := rf.policies(args[1:])
	if err != nil {
		return err
	}
	set, err := rf.withExpiry(policySet(d, rf.version, raws, index))
	if err != nil {
		return err
	}
	return write(cmd, func(ctx context.Context, c *client.Client) (*wire.PolicyWriteResponse, error) {
		r, err := c.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(args[0]), SecurityGroupPolicySet: set, Force: guard.force(), ConfirmWithin: guard.confirmWithin()})
		return (*wire.PolicyWriteResponse)(r), err
	})
}

func describePolicies(ctx context.Context, c *client.Client, id string) (*wire.DescribeSecurityGroupPoliciesResponse, error) {
	return c.DescribeSecurityGroupPolicies(ctx, &wire.DescribeSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(id)})
}

// atoiFlag parses an integer flag value, naming the flag.
func atoiFlag(name, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: not an integer", name, v)
	}
	return n, nil
}
