package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/wire"
)

// offlineSet is an exported policy set read for analysis without a
// server: per direction, the entries of the policies that resolve
// offline (CIDR peers, own protocol and ports) and the policies that do
// not (templates, group references), each at its index in the file.
type offlineSet struct {
	lists      [3]rules.List
	unresolved []analysis.Unresolved
}

// readOffline reads a policy file as sg import does — the API's JSON (a
// SecurityGroupPolicySet, or DescribeSecurityGroupPolicies' response with
// or without its {"Response": …} envelope), or the CSV or XLSX of sg
// export — and builds its lists. Disabled and expired policies are left
// out, their indexes kept by the policies after them.
func readOffline(cmd *cobra.Command, op, file, format string, now time.Time) (*offlineSet, error) {
	f, err := formatOf(format, file)
	if err != nil {
		return nil, err
	}
	data, err := readFile(file)
	if err != nil {
		return nil, err
	}
	if f == formatJSON {
		if data, err = policySetJSON(data); err != nil {
			return nil, fmt.Errorf("%s %s: %w", op, file, err)
		}
	}
	files, err := readPolicies(cmd, op, file, f, data)
	if err != nil {
		return nil, err
	}
	set := &offlineSet{}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		set.lists[d].Direction = d
		for i, fp := range files[d] {
			p := fp.parsed
			p.Disabled = fp.disabled
			if fp.expiresAt != "" {
				if p.ExpiresAt, err = time.Parse(time.RFC3339, fp.expiresAt); err != nil {
					return nil, fmt.Errorf("%s %s: %s policy %d: ExpiresAt: %w", op, file, d.Field(), i, err)
				}
			}
			if !p.Active(now) {
				continue
			}
			if reason := offlineUnknown(p); reason != "" {
				set.unresolved = append(set.unresolved, analysis.Unresolved{Direction: d, PolicyIndex: i, Policy: &p, Reason: reason})
				continue
			}
			e, err := rules.PolicyEntry(d, "", i, &p, nil, rules.Addresses{})
			if err != nil {
				return nil, fmt.Errorf("%s %s: %s policy %d: %w", op, file, d.Field(), i, err)
			}
			set.lists[d].Entries = append(set.lists[d].Entries, e)
		}
	}
	return set, nil
}

// offlineUnknown says why a policy's match space cannot be known without
// a server, or "".
func offlineUnknown(p policy.Policy) string {
	var parts []string
	switch p.Peer.Kind {
	case policy.PeerSecurityGroup:
		parts = append(parts, "the addresses of group "+p.Peer.ID)
	case policy.PeerAddressTemplate, policy.PeerAddressTemplateGroup:
		parts = append(parts, "address template "+p.Peer.ID)
	}
	if p.ServiceID != "" {
		parts = append(parts, "service template "+p.ServiceID)
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " and ") + " cannot be resolved offline"
}

// policySetJSON returns the SecurityGroupPolicySet of a JSON file: the
// file itself, or the SecurityGroupPolicySet of a
// DescribeSecurityGroupPolicies response, in its envelope or not.
func policySetJSON(data []byte) ([]byte, error) {
	for range 2 {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(data, &top); err != nil {
			return nil, fmt.Errorf("not a SecurityGroupPolicySet: %w", err)
		}
		switch {
		case top["Response"] != nil:
			data = top["Response"]
			continue
		case top["SecurityGroupPolicySet"] != nil:
			return top["SecurityGroupPolicySet"], nil
		}
		return data, nil
	}
	return data, nil
}

// lintResult is lint's output with -o json.
type lintResult struct {
	File       string
	FindingSet []wire.Finding
	TotalCount int
	FailOn     string
	Failed     bool
}

// lintFailure is the refusal, by lint or findings, of findings at or
// above the severity asked.
type lintFailure struct {
	what  string // "lint FILE", "findings"
	n     int
	level analysis.Severity
}

func (e *lintFailure) Error() string {
	return fmt.Sprintf("%s: %d finding(s) of severity %s or above", e.what, e.n, e.level)
}

func newLintCommand(g *globals) *cobra.Command {
	var format, failOn string
	var unblocked bool
	cmd := &cobra.Command{Use: "lint FILE [--format json|csv|xlsx] [--fail-on high|medium|low|info]",
		Short: "Report the findings about an exported policy set, offline: shadowed, redundant, exposed ports…",
		Long: `Report the findings about one group's exported policies, with no server and
no store: the JSON of the API (a SecurityGroupPolicySet, or the response of
DescribeSecurityGroupPolicies) or the CSV or XLSX of sg export.

The findings are DescribeSecurityGroupFindings' for a group: SHADOWED and
REDUNDANT (computed exactly), MATCHES_NOTHING, EXPOSED_PORT, ISP_BLOCKED_PORT,
PORT25_BLOCKED (the account's outbound TCP 25 block is taken as on unless
--port25-unblocked), WIDENED_CIDR. Address and service templates and group
references cannot be resolved offline: each such policy is an INFO finding
(UNRESOLVED), left out of the analysis, and no policy after it is taken as
covered by it.

The exit code is 1 when a finding of the --fail-on severity or above exists
(default high), 0 otherwise.`,
		Example: `  palisade lint web.json
  palisade lint web.csv --fail-on medium -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			level, err := analysis.ParseSeverity(failOn)
			if err != nil {
				return fmt.Errorf("--fail-on: %w", err)
			}
			set, err := readOffline(cmd, "lint", args[0], format, time.Now())
			if err != nil {
				return err
			}
			fs, err := analysis.Findings(analysis.Input{Ingress: set.lists[policy.Ingress], Egress: set.lists[policy.Egress],
				Port25Blocked: !unblocked, Unresolved: set.unresolved})
			if err != nil {
				return fmt.Errorf("lint %s: %w", args[0], err)
			}
			doc := lintResult{File: args[0], FindingSet: make([]wire.Finding, len(fs)), TotalCount: len(fs), FailOn: level.String()}
			for i, f := range fs {
				doc.FindingSet[i] = api.FindingToWire(f)
			}
			n, err := failing(doc.FindingSet, level)
			if err != nil {
				return err
			}
			doc.Failed = n > 0
			if err := g.emit(cmd, doc, func(w io.Writer) error { return findingsText(w, doc.FindingSet) }); err != nil {
				return err
			}
			if n > 0 {
				return &lintFailure{what: "lint " + args[0], n: n, level: level}
			}
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "json, csv or xlsx (default: the file's extension)")
	f.StringVar(&failOn, "fail-on", "high", "exit 1 when a finding of this severity or above exists: high, medium, low or info")
	f.BoolVar(&unblocked, "port25-unblocked", false, "the account has lifted its outbound TCP 25 block")
	return cmd
}

// findingsText prints findings as a table and a count per severity.
func findingsText(w io.Writer, fs []wire.Finding) error {
	counts := map[string]int{}
	rows := make([][]string, len(fs))
	for i, f := range fs {
		counts[f.Severity]++
		index := "-"
		if f.PolicyIndex != nil {
			index = strconv.Itoa(*f.PolicyIndex)
		}
		rows[i] = []string{f.Severity, f.Kind, f.SecurityGroupId, f.Direction, index, f.Message}
	}
	if len(fs) > 0 {
		if err := table(w, []string{"SEVERITY", "KIND", "GROUP", "DIRECTION", "POLICY", "MESSAGE"}, rows); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d finding(s): %d high, %d medium, %d low, %d info\n", len(fs),
		counts[analysis.SeverityHigh.String()], counts[analysis.SeverityMedium.String()], counts[analysis.SeverityLow.String()], counts[analysis.SeverityInfo.String()])
	return err
}

// failing counts the findings of severity level or above.
func failing(fs []wire.Finding, level analysis.Severity) (int, error) {
	n := 0
	for _, f := range fs {
		s, err := analysis.ParseSeverity(f.Severity)
		if err != nil {
			return 0, fmt.Errorf("finding %s: %w", f.Kind, err)
		}
		if s >= level {
			n++
		}
	}
	return n, nil
}
