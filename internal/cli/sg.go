package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/wire"
)

// groupPage is the page size of sg list: the API's largest Limit.
const groupPage = 100

// listWorkers is how many pages sg list fetches at a time.
const listWorkers = 4

func newSGCommand(g *globals) *cobra.Command {
	cmd := parentCommand("sg", "Create, list, show, edit, delete, clone, export and import security groups")

	var desc, template, project, policyFile string
	var tags []string
	create := &cobra.Command{Use: "create NAME", Short: "Create a security group, empty or from a template (palisade template presets lists them)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			req := &wire.CreateSecurityGroupRequest{GroupName: wire.NewString(args[0]), GroupDescription: wire.NewString(desc)}
			if template != "" {
				req.Template = wire.NewString(template)
			}
			if project != "" {
				n, err := atoiFlag("project", project)
				if err != nil {
					return err
				}
				req.ProjectId = wire.NewIntString(n)
			}
			for _, t := range tags {
				k, v, ok := strings.Cut(t, "=")
				if !ok || k == "" {
					return fmt.Errorf("--tag %q: want KEY=VALUE", t)
				}
				req.Tags = append(req.Tags, wire.TagInput{Key: wire.NewString(k), Value: wire.NewString(v)})
			}
			var resp *wire.CreateSecurityGroupResponse
			if policyFile != "" {
				if template != "" {
					return errors.New("give --template or --file, not both")
				}
				lists, err := readPolicyFile(cmd, policyFile, "")
				if err != nil {
					return err
				}
				set := fileSet(lists)
				r, err := c.CreateSecurityGroupWithPolicies(cmd.Context(), &wire.CreateSecurityGroupWithPoliciesRequest{
					GroupName: req.GroupName, GroupDescription: req.GroupDescription, ProjectId: req.ProjectId, Tags: req.Tags, SecurityGroupPolicySet: set})
				if err != nil {
					return err
				}
				resp = (*wire.CreateSecurityGroupResponse)(r)
			} else if resp, err = c.CreateSecurityGroup(cmd.Context(), req); err != nil {
				return err
			}
			g.printWarnings(cmd, resp.Warnings)
			return g.emit(cmd, resp, func(w io.Writer) error { return printResult(w, "text", resp.SecurityGroup) })
		}}
	create.Flags().StringVar(&desc, "description", "", "description")
	create.Flags().StringVar(&template, "template", "", "policy template: open-all, open-common, linux-login, windows-login, web, …")
	create.Flags().StringVar(&project, "project", "", "project id (default 0)")
	create.Flags().StringArrayVar(&tags, "tag", nil, "tag KEY=VALUE (repeatable)")
	create.Flags().StringVar(&policyFile, "file", "", "create with the policies of this JSON, CSV or XLSX file, validated first (CreateSecurityGroupWithPolicies)")

	var names []string
	var limit int
	list := &cobra.Command{Use: "list", Short: "List security groups of the region", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := listGroups(cmd.Context(), c, names, limit)
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error {
				rows := make([][]string, len(resp.SecurityGroupSet))
				for i, s := range resp.SecurityGroupSet {
					rows[i] = []string{s.SecurityGroupId, s.SecurityGroupName, s.ProjectId, fmt.Sprint(s.IsDefault), s.UpdateTime, s.SecurityGroupDesc}
				}
				return table(w, []string{"ID", "NAME", "PROJECT", "DEFAULT", "UPDATED", "DESCRIPTION"}, rows)
			})
		}}
	list.Flags().StringArrayVar(&names, "name", nil, "only groups of this name (repeatable)")
	list.Flags().IntVar(&limit, "limit", 0, "at most this many groups (0: all)")

	show := &cobra.Command{Use: "show SG", Short: "Show a group and its policies", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			pol, err := describePolicies(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			grp, err := getGroup(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			doc := struct {
				SecurityGroup          wire.SecurityGroup
				SecurityGroupPolicySet wire.SecurityGroupPolicySet
			}{grp, pol.SecurityGroupPolicySet}
			return g.emit(cmd, doc, func(w io.Writer) error {
				if err := printResult(w, "text", grp); err != nil {
					return err
				}
				fmt.Fprintf(w, "Version: %s\n", pol.SecurityGroupPolicySet.Version)
				if err := policyTable(w, "Ingress", pol.SecurityGroupPolicySet.Ingress); err != nil {
					return err
				}
				return policyTable(w, "Egress", pol.SecurityGroupPolicySet.Egress)
			})
		}}

	var newName, newDesc string
	edit := &cobra.Command{Use: "edit SG [--name NAME] [--description TEXT]", Short: "Rename a group or change its description", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &wire.ModifySecurityGroupAttributeRequest{SecurityGroupId: wire.NewString(args[0])}
			if cmd.Flags().Changed("name") {
				req.GroupName = wire.NewString(newName)
			}
			if cmd.Flags().Changed("description") {
				req.GroupDescription = wire.NewString(newDesc)
			}
			if req.GroupName == nil && req.GroupDescription == nil {
				return fmt.Errorf("nothing to change: give --name or --description")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.ModifySecurityGroupAttribute(cmd.Context(), req)
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error { _, err := fmt.Fprintf(w, "Modified %s.\n", args[0]); return err })
		}}
	edit.Flags().StringVar(&newName, "name", "", "new name")
	edit.Flags().StringVar(&newDesc, "description", "", "new description")

	del := &cobra.Command{Use: "delete SG…", Short: "Delete groups (refused while an instance is bound or a policy refers to one)", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var resps []*wire.DeleteSecurityGroupResponse
			for _, id := range args {
				resp, err := c.DeleteSecurityGroup(cmd.Context(), &wire.DeleteSecurityGroupRequest{SecurityGroupId: wire.NewString(id)})
				if err != nil {
					return fmt.Errorf("delete %s: %w", id, err)
				}
				resps = append(resps, resp)
			}
			return g.emit(cmd, resps, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Deleted %s.\n", strings.Join(args, ", "))
				return err
			})
		}}

	var cloneName, cloneDesc, cloneRegion, cloneProject string
	clone := &cobra.Command{Use: "clone SG --name NAME [--to-region REGION] [--project N]", Short: "Copy a group's policies into a new group, in this or another region or project",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			req := &wire.CloneSecurityGroupRequest{SecurityGroupId: wire.NewString(args[0]), GroupName: wire.NewString(cloneName)}
			if cloneDesc != "" {
				req.GroupDescription = wire.NewString(cloneDesc)
			}
			if cloneProject != "" {
				n, err := atoiFlag("project", cloneProject)
				if err != nil {
					return err
				}
				req.ProjectId = wire.NewIntString(n)
			}
			// The request goes to the target region; RemoteRegion names
			// the source group's.
			if cloneRegion != "" && cloneRegion != c.Region() {
				req.RemoteRegion = wire.NewString(c.Region())
				c = c.WithRegion(cloneRegion)
			}
			resp, err := c.CloneSecurityGroup(cmd.Context(), req)
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error { return printResult(w, "text", resp.SecurityGroup) })
		}}
	clone.Flags().StringVar(&cloneName, "name", "", "name of the new group")
	clone.Flags().StringVar(&cloneDesc, "description", "", "description of the new group (default: the source's)")
	clone.Flags().StringVar(&cloneRegion, "to-region", "", "region of the new group (default: --region)")
	clone.Flags().StringVar(&cloneProject, "project", "", "project of the new group")
	_ = clone.MarkFlagRequired("name")

	// api runs one call and prints its response.
	api := func(use, short string, args cobra.PositionalArgs, call func(ctx context.Context, c *client.Client, args []string) (any, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			v, err := call(cmd.Context(), c, args)
			if err != nil {
				return err
			}
			return g.emit(cmd, v, nil)
		}}
	}
	var defProject int64
	createDefault := api("create-default [--project N]", "Create, or return, the project's undeletable default group (CreateDefaultSecurityGroup)", cobra.NoArgs,
		func(ctx context.Context, c *client.Client, _ []string) (any, error) {
			r, err := c.CreateDefaultSecurityGroup(ctx, &wire.CreateDefaultSecurityGroupRequest{ProjectId: wire.NewIntString(defProject)})
			if err != nil {
				return nil, err
			}
			return r.SecurityGroup, nil
		})
	createDefault.Flags().Int64Var(&defProject, "project", 0, "project id")
	limits := api("limits", "Show the account's quotas (DescribeSecurityGroupLimits)", cobra.NoArgs,
		func(ctx context.Context, c *client.Client, _ []string) (any, error) {
			r, err := c.DescribeSecurityGroupLimits(ctx, nil)
			if err != nil {
				return nil, err
			}
			return r.SecurityGroupLimitSet, nil
		})
	refs := api("references SG…", "List the groups whose policies refer to each group (DescribeSecurityGroupReferences)", cobra.MinimumNArgs(1),
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			r, err := c.DescribeSecurityGroupReferences(ctx, &wire.DescribeSecurityGroupReferencesRequest{SecurityGroupIds: wire.Strings(args...)})
			if err != nil {
				return nil, err
			}
			return r.ReferredSecurityGroupSet, nil
		})
	stats := api("stats SG…", "Count what each group is bound to and referenced by (DescribeSecurityGroupAssociationStatistics)", cobra.MinimumNArgs(1),
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			r, err := c.DescribeSecurityGroupAssociationStatistics(ctx, &wire.DescribeSecurityGroupAssociationStatisticsRequest{SecurityGroupIds: wire.Strings(args...)})
			if err != nil {
				return nil, err
			}
			return r.SecurityGroupAssociationStatisticsSet, nil
		})

	cmd.AddCommand(create, list, show, edit, del, clone, newExportCommand(g), newImportCommand(g), createDefault, limits, refs, stats)
	g.completeIDs(cmd, g.groupIDs, "create", "list", "create-default", "limits")
	return cmd
}

// listGroups pages through DescribeSecurityGroups: every group (limit 0)
// or the first limit. After the first page, which tells how many there
// are, the other pages are fetched listWorkers at a time and put back in
// order; like any paging, a group created or deleted meanwhile may be
// missed or seen twice.
func listGroups(ctx context.Context, c *client.Client, names []string, limit int) (*wire.DescribeSecurityGroupsResponse, error) {
	var filters []wire.Filter
	if len(names) > 0 {
		filters = []wire.Filter{{Name: wire.NewString("security-group-name"), Values: wire.Strings(names...)}}
	}
	fetch := func(ctx context.Context, offset, n int) (*wire.DescribeSecurityGroupsResponse, error) {
		return c.DescribeSecurityGroups(ctx, &wire.DescribeSecurityGroupsRequest{Filters: filters, Offset: wire.NewIntString(int64(offset)), Limit: wire.NewIntString(int64(n))})
	}
	first := groupPage
	if limit > 0 && limit < first {
		first = limit
	}
	out, err := fetch(ctx, 0, first)
	if err != nil {
		return nil, err
	}
	if out.SecurityGroupSet == nil {
		out.SecurityGroupSet = []wire.SecurityGroup{}
	}
	want := int(out.TotalCount)
	if limit > 0 && limit < want {
		want = limit
	}
	if len(out.SecurityGroupSet) < first || want <= first {
		return out, nil
	}
	var offsets []int
	for off := first; off < want; off += groupPage {
		offsets = append(offsets, off)
	}
	pages := make([][]wire.SecurityGroup, len(offsets))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	for range min(listWorkers, len(offsets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(offsets) {
					return
				}
				resp, err := fetch(ctx, offsets[i], min(groupPage, want-offsets[i]))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
					return
				}
				pages[i] = resp.SecurityGroupSet
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	for _, p := range pages {
		out.SecurityGroupSet = append(out.SecurityGroupSet, p...)
	}
	return out, nil
}

// getGroup describes one group.
func getGroup(ctx context.Context, c *client.Client, id string) (wire.SecurityGroup, error) {
	resp, err := c.DescribeSecurityGroups(ctx, &wire.DescribeSecurityGroupsRequest{SecurityGroupIds: wire.Strings(id)})
	if err != nil {
		return wire.SecurityGroup{}, err
	}
	if len(resp.SecurityGroupSet) != 1 {
		return wire.SecurityGroup{}, fmt.Errorf("security group %s: %d groups described", id, len(resp.SecurityGroupSet))
	}
	return resp.SecurityGroupSet[0], nil
}
