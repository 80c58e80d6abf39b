package cli

import (
	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/wire"
)

// completeLimit bounds how many ids a completion asks the API for.
const completeLimit = 200

// completeFirst completes the first argument with ids from list; later
// arguments and failures complete nothing (never file names).
func completeFirst(list func(cmd *cobra.Command) ([]string, error)) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ids, err := list(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}

// groupIDs lists the region's security groups as "ID\tNAME" completions.
func (g *globals) groupIDs(cmd *cobra.Command) ([]string, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	resp, err := listGroups(cmd.Context(), c, nil, completeLimit)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(resp.SecurityGroupSet))
	for i, s := range resp.SecurityGroupSet {
		out[i] = s.SecurityGroupId + "\t" + s.SecurityGroupName
	}
	return out, nil
}

// instanceIDs lists the region's instances as "ID\tNAME" completions.
func (g *globals) instanceIDs(cmd *cobra.Command) ([]string, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	resp, err := c.DescribeInstances(cmd.Context(), &wire.DescribeInstancesRequest{Limit: wire.NewInt(100)})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(resp.InstanceSet))
	for i, in := range resp.InstanceSet {
		out[i] = in.InstanceId + "\t" + in.InstanceName
	}
	return out, nil
}

// completeIDs sets, on every subcommand of parent but those named in
// skip, the completion of its first argument, and of its --group flag
// with group ids.
func (g *globals) completeIDs(parent *cobra.Command, first func(*cobra.Command) ([]string, error), skip ...string) {
	groups := func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		ids, err := g.groupIDs(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
	for _, sub := range parent.Commands() {
		skipped := false
		for _, s := range skip {
			skipped = skipped || sub.Name() == s
		}
		if skipped {
			continue
		}
		sub.ValidArgsFunction = completeFirst(first)
		if sub.Flags().Lookup("group") != nil {
			_ = sub.RegisterFlagCompletionFunc("group", groups)
		}
	}
}
