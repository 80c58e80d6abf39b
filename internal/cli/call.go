package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/wire"
)

func newCallCommand(g *globals) *cobra.Command {
	var data, service string
	cmd := &cobra.Command{Use: "call ACTION [--data JSON|@FILE|@-]", Short: "Call any action with a JSON request and print the JSON response",
		Example: `  palisade call DescribeSecurityGroups --data '{"Limit":"5"}'
  palisade call CreateSecurityGroupPolicies --data @policies.json`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			var names []string
			for _, a := range wire.Actions() {
				names = append(names, a.Name)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			action := args[0]
			svc := service
			if svc == "" {
				i := slices.IndexFunc(wire.Actions(), func(a wire.Action) bool { return a.Name == action })
				if i < 0 {
					return fmt.Errorf("unknown action %q: palisade call --help lists them; give --service to send it anyway", action)
				}
				svc = wire.Actions()[i].Service
			}
			body, err := jsonArg(cmd, data)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			raw, err := c.Call(cmd.Context(), svc, wire.Version, action, body)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if g.output == "json" {
				err = json.Compact(&buf, raw)
			} else {
				err = json.Indent(&buf, raw, "", "  ")
			}
			if err != nil {
				return err
			}
			buf.WriteByte('\n')
			_, err = io.Copy(cmd.OutOrStdout(), &buf)
			return err
		}}
	var names []string
	for _, a := range wire.Actions() {
		names = append(names, a.Name)
	}
	cmd.Long = "Call any action with a JSON request body and print the response object.\n\nActions: " + strings.Join(names, ", ") + "."
	cmd.Flags().StringVar(&data, "data", "", "request body: JSON, @FILE, or @- for standard input (default {})")
	cmd.Flags().StringVar(&service, "service", "", "service to sign for: vpc, cvm or palisade (default: the action's)")
	return cmd
}
