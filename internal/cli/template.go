package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/wire"
)

func newTemplateCommand(g *globals) *cobra.Command {
	cmd := parentCommand("template", "Address and service templates (ipm-, ipmg-, ppm-, ppmg-) and the group presets")

	run := func(use, short string, args cobra.PositionalArgs, call func(ctx context.Context, c *client.Client, args []string) (any, func(io.Writer) error, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			v, text, err := call(cmd.Context(), c, args)
			if err != nil {
				return err
			}
			return g.emit(cmd, v, text)
		}}
	}
	say := func(format string, a ...any) func(io.Writer) error {
		return func(w io.Writer) error { _, err := fmt.Fprintf(w, format+"\n", a...); return err }
	}

	presets := run("presets", "List the policy templates a group can be created from (sg create --template)", cobra.NoArgs,
		func(ctx context.Context, c *client.Client, _ []string) (any, func(io.Writer) error, error) {
			resp, err := c.DescribeSecurityGroupTemplates(ctx, nil)
			if err != nil {
				return nil, nil, err
			}
			return resp, func(w io.Writer) error {
				rows := make([][]string, len(resp.TemplateSet))
				for i, t := range resp.TemplateSet {
					rows[i] = []string{t.TemplateName, fmt.Sprint(len(t.SecurityGroupPolicySet.Ingress)), fmt.Sprint(len(t.SecurityGroupPolicySet.Egress)), t.Title}
				}
				return table(w, []string{"NAME", "INGRESS", "EGRESS", "TITLE"}, rows)
			}, nil
		})

	list := run("list", "List address and service templates and their groups", cobra.NoArgs,
		func(ctx context.Context, c *client.Client, _ []string) (any, func(io.Writer) error, error) {
			var doc struct {
				AddressTemplateSet      []wire.AddressTemplate
				AddressTemplateGroupSet []wire.AddressTemplateGroup
				ServiceTemplateSet      []wire.ServiceTemplate
				ServiceTemplateGroupSet []wire.ServiceTemplateGroup
			}
			q := wire.TemplateQuery{Limit: wire.NewIntString(100)}
			a, err := c.DescribeAddressTemplates(ctx, (*wire.DescribeAddressTemplatesRequest)(&q))
			if err != nil {
				return nil, nil, err
			}
			ag, err := c.DescribeAddressTemplateGroups(ctx, (*wire.DescribeAddressTemplateGroupsRequest)(&q))
			if err != nil {
				return nil, nil, err
			}
			s, err := c.DescribeServiceTemplates(ctx, (*wire.DescribeServiceTemplatesRequest)(&q))
			if err != nil {
				return nil, nil, err
			}
			sg, err := c.DescribeServiceTemplateGroups(ctx, (*wire.DescribeServiceTemplateGroupsRequest)(&q))
			if err != nil {
				return nil, nil, err
			}
			doc.AddressTemplateSet, doc.AddressTemplateGroupSet = a.AddressTemplateSet, ag.AddressTemplateGroupSet
			doc.ServiceTemplateSet, doc.ServiceTemplateGroupSet = s.ServiceTemplateSet, sg.ServiceTemplateGroupSet
			return doc, func(w io.Writer) error {
				var rows [][]string
				for _, t := range doc.AddressTemplateSet {
					rows = append(rows, []string{t.AddressTemplateId, "address", t.AddressTemplateName, strings.Join(t.AddressSet, ",")})
				}
				for _, t := range doc.AddressTemplateGroupSet {
					rows = append(rows, []string{t.AddressTemplateGroupId, "address-group", t.AddressTemplateGroupName, strings.Join(t.AddressTemplateIdSet, ",")})
				}
				for _, t := range doc.ServiceTemplateSet {
					rows = append(rows, []string{t.ServiceTemplateId, "service", t.ServiceTemplateName, strings.Join(t.ServiceSet, ",")})
				}
				for _, t := range doc.ServiceTemplateGroupSet {
					rows = append(rows, []string{t.ServiceTemplateGroupId, "service-group", t.ServiceTemplateGroupName, strings.Join(t.ServiceTemplateIdSet, ",")})
				}
				return table(w, []string{"ID", "KIND", "NAME", "ENTRIES"}, rows)
			}, nil
		})

	createAddr := run("create-address NAME ENTRY…", "Create an address template (IPs, CIDRs, ranges)", cobra.MinimumNArgs(2),
		func(ctx context.Context, c *client.Client, args []string) (any, func(io.Writer) error, error) {
			resp, err := c.CreateAddressTemplate(ctx, &wire.CreateAddressTemplateRequest{AddressTemplateName: wire.NewString(args[0]), Addresses: wire.Strings(args[1:]...)})
			if err != nil {
				return nil, nil, err
			}
			return resp, say("Created %s.", resp.AddressTemplate.AddressTemplateId), nil
		})
	createSvc := run("create-service NAME ENTRY…", "Create a service template (tcp:80, udp:53, tcp:8000-8080, icmp)", cobra.MinimumNArgs(2),
		func(ctx context.Context, c *client.Client, args []string) (any, func(io.Writer) error, error) {
			resp, err := c.CreateServiceTemplate(ctx, &wire.CreateServiceTemplateRequest{ServiceTemplateName: wire.NewString(args[0]), Services: wire.Strings(args[1:]...)})
			if err != nil {
				return nil, nil, err
			}
			return resp, say("Created %s.", resp.ServiceTemplate.ServiceTemplateId), nil
		})
	createGroup := run("create-group NAME ID…", "Create a template group from address templates (ipm-) or service templates (ppm-)", cobra.MinimumNArgs(2),
		func(ctx context.Context, c *client.Client, args []string) (any, func(io.Writer) error, error) {
			if strings.HasPrefix(args[1], policy.PrefixServiceTemplate) {
				resp, err := c.CreateServiceTemplateGroup(ctx, &wire.CreateServiceTemplateGroupRequest{ServiceTemplateGroupName: wire.NewString(args[0]), ServiceTemplateIds: wire.Strings(args[1:]...)})
				if err != nil {
					return nil, nil, err
				}
				return resp, say("Created %s.", resp.ServiceTemplateGroup.ServiceTemplateGroupId), nil
			}
			resp, err := c.CreateAddressTemplateGroup(ctx, &wire.CreateAddressTemplateGroupRequest{AddressTemplateGroupName: wire.NewString(args[0]), AddressTemplateIds: wire.Strings(args[1:]...)})
			if err != nil {
				return nil, nil, err
			}
			return resp, say("Created %s.", resp.AddressTemplateGroup.AddressTemplateGroupId), nil
		})
	del := run("delete ID", "Delete a template or template group (refused while a policy uses it)", cobra.ExactArgs(1),
		func(ctx context.Context, c *client.Client, args []string) (any, func(io.Writer) error, error) {
			id := args[0]
			var resp any
			var err error
			switch {
			case strings.HasPrefix(id, policy.PrefixAddressTemplateGroup):
				resp, err = c.DeleteAddressTemplateGroup(ctx, &wire.DeleteAddressTemplateGroupRequest{AddressTemplateGroupId: wire.NewString(id)})
			case strings.HasPrefix(id, policy.PrefixAddressTemplate):
				resp, err = c.DeleteAddressTemplate(ctx, &wire.DeleteAddressTemplateRequest{AddressTemplateId: wire.NewString(id)})
			case strings.HasPrefix(id, policy.PrefixServiceTemplateGroup):
				resp, err = c.DeleteServiceTemplateGroup(ctx, &wire.DeleteServiceTemplateGroupRequest{ServiceTemplateGroupId: wire.NewString(id)})
			case strings.HasPrefix(id, policy.PrefixServiceTemplate):
				resp, err = c.DeleteServiceTemplate(ctx, &wire.DeleteServiceTemplateRequest{ServiceTemplateId: wire.NewString(id)})
			default:
				return nil, nil, fmt.Errorf("%q is not a template id (ipm-, ipmg-, ppm- or ppmg-)", id)
			}
			if err != nil {
				return nil, nil, err
			}
			return resp, say("Deleted %s.", id), nil
		})
	var editName string
	edit := run("edit ID [--name NAME] [ENTRY…|MEMBER…]", "Rename a template or group, or set its entries or members (Modify…Attribute)", cobra.MinimumNArgs(1),
		func(ctx context.Context, c *client.Client, args []string) (any, func(io.Writer) error, error) {
			id, entries := args[0], wire.Strings(args[1:]...)
			var name *wire.String
			if editName != "" {
				name = wire.NewString(editName)
			}
			if name == nil && len(entries) == 0 {
				return nil, nil, fmt.Errorf("nothing to change: give --name or entries")
			}
			var resp any
			var err error
			switch {
			case strings.HasPrefix(id, policy.PrefixAddressTemplateGroup):
				resp, err = c.ModifyAddressTemplateGroupAttribute(ctx, &wire.ModifyAddressTemplateGroupAttributeRequest{AddressTemplateGroupId: wire.NewString(id), AddressTemplateGroupName: name, AddressTemplateIds: entries})
			case strings.HasPrefix(id, policy.PrefixAddressTemplate):
				resp, err = c.ModifyAddressTemplateAttribute(ctx, &wire.ModifyAddressTemplateAttributeRequest{AddressTemplateId: wire.NewString(id), AddressTemplateName: name, Addresses: entries})
			case strings.HasPrefix(id, policy.PrefixServiceTemplateGroup):
				resp, err = c.ModifyServiceTemplateGroupAttribute(ctx, &wire.ModifyServiceTemplateGroupAttributeRequest{ServiceTemplateGroupId: wire.NewString(id), ServiceTemplateGroupName: name, ServiceTemplateIds: entries})
			case strings.HasPrefix(id, policy.PrefixServiceTemplate):
				resp, err = c.ModifyServiceTemplateAttribute(ctx, &wire.ModifyServiceTemplateAttributeRequest{ServiceTemplateId: wire.NewString(id), ServiceTemplateName: name, Services: entries})
			default:
				return nil, nil, fmt.Errorf("%q is not a template id (ipm-, ipmg-, ppm- or ppmg-)", id)
			}
			if err != nil {
				return nil, nil, err
			}
			return resp, say("Modified %s (every policy using it follows).", id), nil
		})
	edit.Flags().StringVar(&editName, "name", "", "new name")
	ports := run("ports", "List the common ports and the ports blocked by the platform or ISPs (DescribeCommonPorts)", cobra.NoArgs,
		func(ctx context.Context, c *client.Client, _ []string) (any, func(io.Writer) error, error) {
			resp, err := c.DescribeCommonPorts(ctx, nil)
			if err != nil {
				return nil, nil, err
			}
			return resp, func(w io.Writer) error {
				rows := make([][]string, 0, len(resp.PortSet)+len(resp.BlockedPortSet))
				for _, p := range resp.PortSet {
					rows = append(rows, []string{p.Protocol, p.Port, p.Service, "", p.Description})
				}
				for _, p := range resp.BlockedPortSet {
					rows = append(rows, []string{p.Protocol, p.Port, "", "blocked by " + p.BlockedBy + " (" + p.Direction + ")", ""})
				}
				return table(w, []string{"PROTOCOL", "PORT", "SERVICE", "BLOCKED", "DESCRIPTION"}, rows)
			}, nil
		})
	cmd.AddCommand(presets, list, createAddr, createSvc, createGroup, edit, del, ports)
	return cmd
}
