package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/wire"
)

func newFindingsCommand(g *globals) *cobra.Command {
	var groups, instances []string
	var failOn string
	cmd := &cobra.Command{Use: "findings (--group SG… | --instance INS…) [--fail-on high|medium|low|info]",
		Short: "Report the findings about groups or instances: shadowed, redundant, exposed ports… (DescribeSecurityGroupFindings)",
		Long: `Report the findings about the account's groups, each taken alone, or its
instances, each with its effective rules (platform rules, then every bound
group in binding order): SHADOWED, REDUNDANT, MATCHES_NOTHING, EXPOSED_PORT,
ISP_BLOCKED_PORT, PORT25_BLOCKED, WIDENED_CIDR and, for instances,
NO_LOGIN_PORT, NO_PING and NO_EGRESS.

The exit code is 1 when a finding of the --fail-on severity or above exists
(default high), 0 otherwise.`,
		Example: `  palisade findings --group sg-1a2b3c4d
  palisade findings --instance ins-1a2b3c4d --fail-on medium -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			level, err := analysis.ParseSeverity(failOn)
			if err != nil {
				return fmt.Errorf("--fail-on: %w", err)
			}
			if len(groups) > 0 == (len(instances) > 0) {
				return errors.New("give --group or --instance (one of the two)")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.DescribeSecurityGroupFindings(cmd.Context(), &wire.DescribeSecurityGroupFindingsRequest{
				SecurityGroupIds: wire.Strings(groups...), InstanceIds: wire.Strings(instances...)})
			if err != nil {
				return err
			}
			n, err := failing(resp.FindingSet, level)
			if err != nil {
				return err
			}
			if err := g.emit(cmd, resp, func(w io.Writer) error { return findingsText(w, resp.FindingSet) }); err != nil {
				return err
			}
			if n > 0 {
				return &lintFailure{what: "findings", n: n, level: level}
			}
			return nil
		}}
	f := cmd.Flags()
	f.StringSliceVar(&groups, "group", nil, "security group to analyse alone (repeatable)")
	f.StringSliceVar(&instances, "instance", nil, "instance to analyse with its effective rules (repeatable)")
	f.StringVar(&failOn, "fail-on", "high", "exit 1 when a finding of this severity or above exists: high, medium, low or info")
	return cmd
}
