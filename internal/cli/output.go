package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/wire"
)

// emit prints the result of a client command: v as one line of JSON with
// -o json (v is the API's response, or a document built from several), or
// text otherwise. text nil prints v as printResult does.
func (g *globals) emit(cmd *cobra.Command, v any, text func(w io.Writer) error) error {
	w := cmd.OutOrStdout()
	if g.output == "json" || text == nil {
		return printResult(w, g.output, v)
	}
	return text(w)
}

// table writes rows under a header, columns aligned.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// policyRaw returns a described policy as the text fields that
// policy.ParseRaw reads.
func policyRaw(p wire.SecurityGroupPolicy) policy.Raw {
	return policy.Raw{
		Protocol: p.Protocol, Port: p.Port,
		CidrBlock: p.CidrBlock, Ipv6CidrBlock: p.Ipv6CidrBlock, SecurityGroupId: p.SecurityGroupId,
		AddressId: p.AddressTemplate.AddressId, AddressGroupId: p.AddressTemplate.AddressGroupId,
		ServiceId: p.ServiceTemplate.ServiceId, ServiceGroupId: p.ServiceTemplate.ServiceGroupId,
		Action: p.Action, PolicyDescription: p.PolicyDescription,
	}
}

// policyInput returns r as a request policy; empty fields are left out.
func policyInput(r policy.Raw) wire.SecurityGroupPolicyInput {
	opt := func(v string) *wire.String {
		if v == "" {
			return nil
		}
		return wire.NewString(v)
	}
	in := wire.SecurityGroupPolicyInput{
		Protocol: opt(r.Protocol), Port: opt(r.Port),
		CidrBlock: opt(r.CidrBlock), Ipv6CidrBlock: opt(r.Ipv6CidrBlock), SecurityGroupId: opt(r.SecurityGroupId),
		Action: opt(r.Action), PolicyDescription: opt(r.PolicyDescription),
	}
	if r.AddressId != "" || r.AddressGroupId != "" {
		in.AddressTemplate = &wire.AddressTemplateSpecificationInput{AddressId: opt(r.AddressId), AddressGroupId: opt(r.AddressGroupId)}
	}
	if r.ServiceId != "" || r.ServiceGroupId != "" {
		in.ServiceTemplate = &wire.ServiceTemplateSpecificationInput{ServiceId: opt(r.ServiceId), ServiceGroupId: opt(r.ServiceGroupId)}
	}
	return in
}

// describedInput returns a described policy as a request policy, with
// Palisade's Disabled and ExpiresAt when set.
func describedInput(p wire.SecurityGroupPolicy) wire.SecurityGroupPolicyInput {
	in := policyInput(policyRaw(p))
	if p.Disabled {
		in.Disabled = wire.NewBool(true)
	}
	if p.ExpiresAt != "" {
		in.ExpiresAt = wire.NewString(p.ExpiresAt)
	}
	return in
}

// peerText is a described policy's peer, whichever field holds it.
func peerText(p wire.SecurityGroupPolicy) string {
	for _, v := range []string{p.CidrBlock, p.Ipv6CidrBlock, p.SecurityGroupId, p.AddressTemplate.AddressId, p.AddressTemplate.AddressGroupId} {
		if v != "" {
			return v
		}
	}
	return ""
}

// policyTable prints one direction's policies.
func policyTable(w io.Writer, title string, ps []wire.SecurityGroupPolicy) error {
	fmt.Fprintf(w, "%s (%d):\n", title, len(ps))
	rows := make([][]string, len(ps))
	for i, p := range ps {
		proto, port := p.Protocol, p.Port
		if svc := p.ServiceTemplate.ServiceId + p.ServiceTemplate.ServiceGroupId; svc != "" {
			proto, port = svc, ""
		}
		desc := p.PolicyDescription
		if p.Disabled {
			desc = strings.TrimSpace(desc + " [disabled]")
		}
		if p.ExpiresAt != "" {
			desc = strings.TrimSpace(desc + " [expires " + p.ExpiresAt + "]")
		}
		rows[i] = []string{fmt.Sprint(p.PolicyIndex), p.Action, proto, port, peerText(p), desc}
	}
	return table(w, []string{"  INDEX", "ACTION", "PROTOCOL", "PORT", "PEER", "DESCRIPTION"}, indent(rows))
}

func indent(rows [][]string) [][]string {
	for _, r := range rows {
		r[0] = "  " + r[0]
	}
	return rows
}

// printWarnings prints a write's warnings on stderr in text mode (they are
// in the JSON document with -o json).
func (g *globals) printWarnings(cmd *cobra.Command, ws []wire.Warning) {
	if g.output == "json" {
		return
	}
	for _, w := range ws {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s: %s\n", w.Code, w.Message)
	}
}

// jsonArg reads --data: inline JSON, or @FILE, or @- for standard input.
func jsonArg(cmd *cobra.Command, data string) (json.RawMessage, error) {
	var b []byte
	switch {
	case data == "@-":
		var err error
		if b, err = io.ReadAll(cmd.InOrStdin()); err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
	case strings.HasPrefix(data, "@"):
		var err error
		if b, err = readFile(data[1:]); err != nil {
			return nil, err
		}
	default:
		b = []byte(data)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, nil
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("--data %.60q is not valid JSON", string(b))
	}
	return b, nil
}
