package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/wire"
)

func newInstanceCommand(g *globals) *cobra.Command {
	cmd := parentCommand("instance", "List, show, register, bind and unbind instances; stop, start, terminate and purge them")
	guard := &guardFlags{}

	var groupFilter, states []string
	list := &cobra.Command{Use: "list", Short: "List instances of the region", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var filters []wire.Filter
			if len(groupFilter) > 0 {
				filters = append(filters, wire.Filter{Name: wire.NewString("security-group-id"), Values: wire.Strings(groupFilter...)})
			}
			if len(states) > 0 {
				filters = append(filters, wire.Filter{Name: wire.NewString("instance-state"), Values: wire.Strings(states...)})
			}
			out := &wire.DescribeInstancesResponse{InstanceSet: []wire.Instance{}}
			for offset := 0; ; {
				resp, err := c.DescribeInstances(cmd.Context(), &wire.DescribeInstancesRequest{Filters: filters, Offset: wire.NewInt(int64(offset)), Limit: wire.NewInt(100)})
				if err != nil {
					return err
				}
				out.InstanceSet = append(out.InstanceSet, resp.InstanceSet...)
				out.TotalCount, out.RequestId = resp.TotalCount, resp.RequestId
				offset += len(resp.InstanceSet)
				if len(resp.InstanceSet) == 0 || uint64(offset) >= resp.TotalCount {
					break
				}
			}
			return g.emit(cmd, out, func(w io.Writer) error {
				rows := make([][]string, len(out.InstanceSet))
				for i, in := range out.InstanceSet {
					rows[i] = []string{in.InstanceId, in.InstanceName, in.InstanceState, in.Placement.Zone,
						strings.Join(append(append([]string{}, in.PrivateIpAddresses...), in.IPv6Addresses...), ","), strings.Join(in.SecurityGroupIds, ",")}
				}
				return table(w, []string{"ID", "NAME", "STATE", "ZONE", "ADDRESSES", "GROUPS (IN ORDER)"}, rows)
			})
		}}
	list.Flags().StringArrayVar(&groupFilter, "group", nil, "only instances bound to this group (repeatable)")
	list.Flags().StringArrayVar(&states, "state", nil, "only instances in this state: RUNNING, STOPPED, RECYCLED, TERMINATED (repeatable)")

	show := &cobra.Command{Use: "show INSTANCE", Short: "Show an instance and its ordered groups", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.DescribeInstances(cmd.Context(), &wire.DescribeInstancesRequest{InstanceIds: wire.Strings(args[0])})
			if err != nil {
				return err
			}
			if len(resp.InstanceSet) != 1 {
				return fmt.Errorf("instance %s: %d instances described", args[0], len(resp.InstanceSet))
			}
			return g.emit(cmd, resp.InstanceSet[0], nil)
		}}

	var reg struct {
		account, name, os, zone, public, host, iface string
		project                                      int64
		ips, ipv6s, groups                           []string
	}
	register := &cobra.Command{Use: "register NAME --account ACC --zone ZONE --ip ADDR", Short: "Register an instance of an account (platform credential)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			spec := wire.InstanceSpec{InstanceName: wire.NewString(args[0]), OsType: wire.NewString(reg.os), Zone: wire.NewString(reg.zone),
				ProjectId: wire.NewInt(reg.project), PrivateIpAddresses: wire.Strings(reg.ips...), Ipv6Addresses: wire.Strings(reg.ipv6s...)}
			for _, f := range []struct {
				v   string
				dst **wire.String
			}{{reg.public, &spec.PublicIpAddress}, {reg.host, &spec.HostId}, {reg.iface, &spec.Interface}} {
				if f.v != "" {
					*f.dst = wire.NewString(f.v)
				}
			}
			resp, err := c.RegisterInstances(cmd.Context(), &wire.RegisterInstancesRequest{AccountId: wire.NewString(reg.account), Instances: []wire.InstanceSpec{spec}})
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Registered %s.\n", strings.Join(resp.InstanceIdSet, ", "))
				return err
			})
		}}
	rf := register.Flags()
	rf.StringVar(&reg.account, "account", "", "account id (acc-…)")
	rf.StringVar(&reg.os, "os", "linux", "OS type: linux or windows")
	rf.StringVar(&reg.zone, "zone", "", "zone, e.g. ap-guangzhou-3")
	rf.Int64Var(&reg.project, "project", 0, "project id")
	rf.StringArrayVar(&reg.ips, "ip", nil, "private IPv4 address (repeatable)")
	rf.StringArrayVar(&reg.ipv6s, "ipv6", nil, "IPv6 address (repeatable)")
	rf.StringVar(&reg.public, "public-ip", "", "public IP address")
	rf.StringVar(&reg.host, "host", "", "host id (host-…)")
	rf.StringVar(&reg.iface, "interface", "", "host-side interface name")
	_ = register.MarkFlagRequired("account")
	_ = register.MarkFlagRequired("zone")

	// simple runs one action over instance ids and groups.
	simple := func(use, short string, minArgs int, call func(ctx context.Context, c *client.Client, args []string) (any, error), done string) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.MinimumNArgs(minArgs),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := g.client()
				if err != nil {
					return err
				}
				resp, err := call(cmd.Context(), c, args)
				if err != nil {
					return err
				}
				return g.emit(cmd, resp, func(w io.Writer) error { _, err := fmt.Fprintf(w, done+"\n", strings.Join(args, " ")); return err })
			}}
	}
	ids := func(args []string) []wire.String { return wire.Strings(args...) }
	var bindGroups, unbindGroups []string
	bind := simple("bind INSTANCE… --group SG", "Append a group to the end of each instance's list (AssociateSecurityGroups)", 1,
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			return c.AssociateSecurityGroups(ctx, &wire.AssociateSecurityGroupsRequest{InstanceIds: ids(args), SecurityGroupIds: wire.Strings(bindGroups...), Force: guard.force()})
		}, "Bound %s.")
	bind.Flags().StringArrayVar(&bindGroups, "group", nil, "group to bind (repeatable)")
	_ = bind.MarkFlagRequired("group")
	unbind := simple("unbind INSTANCE… --group SG", "Remove a group from instances (DisassociateSecurityGroups)", 1,
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			return c.DisassociateSecurityGroups(ctx, &wire.DisassociateSecurityGroupsRequest{InstanceIds: ids(args), SecurityGroupIds: wire.Strings(unbindGroups...), Force: guard.force()})
		}, "Unbound %s.")
	unbind.Flags().StringArrayVar(&unbindGroups, "group", nil, "group to unbind (repeatable)")
	_ = unbind.MarkFlagRequired("group")
	setGroups := simple("set-groups INSTANCE SG…", "Set an instance's whole ordered list of groups (ModifyInstancesAttribute)", 2,
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			return c.ModifyInstancesAttribute(ctx, &wire.ModifyInstancesAttributeRequest{InstanceIds: ids(args[:1]), SecurityGroups: wire.Strings(args[1:]...), Force: guard.force()})
		}, "Set the groups of %s.")
	stop := simple("stop INSTANCE…", "Stop instances", 1, func(ctx context.Context, c *client.Client, args []string) (any, error) {
		return c.StopInstances(ctx, &wire.StopInstancesRequest{InstanceIds: ids(args)})
	}, "Stopped %s.")
	start := simple("start INSTANCE…", "Start instances", 1, func(ctx context.Context, c *client.Client, args []string) (any, error) {
		return c.StartInstances(ctx, &wire.StartInstancesRequest{InstanceIds: ids(args)})
	}, "Started %s.")
	terminate := simple("terminate INSTANCE…", "Move instances to the recycle bin (they keep their bindings)", 1, func(ctx context.Context, c *client.Client, args []string) (any, error) {
		return c.TerminateInstances(ctx, &wire.TerminateInstancesRequest{InstanceIds: ids(args)})
	}, "Terminated %s (in the recycle bin).")
	purge := simple("purge INSTANCE…", "Purge instances from the recycle bin (their bindings are released)", 1, func(ctx context.Context, c *client.Client, args []string) (any, error) {
		return c.PurgeInstances(ctx, &wire.PurgeInstancesRequest{InstanceIds: ids(args)})
	}, "Purged %s.")

	for _, c := range []*cobra.Command{bind, unbind, setGroups} {
		guard.registerForce(c)
	}
	cmd.AddCommand(list, show, register, bind, unbind, setGroups, stop, start, terminate, purge)
	g.completeIDs(cmd, g.instanceIDs, "list", "register")
	return cmd
}
