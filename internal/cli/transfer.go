package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/wire"
)

// The export formats.
const (
	formatJSON = "json"
	formatCSV  = "csv"
	formatXLSX = "xlsx"
)

// maxImportBytes bounds the file sg import reads.
const maxImportBytes = 256 << 20

// policyColumns are the columns of a CSV export after Direction, and of
// each XLSX sheet: the API's policy fields, template ids flattened, then
// Palisade's Disabled and ExpiresAt.
func policyColumns() []string {
	return []string{"PolicyIndex", "Action", "Protocol", "Port", "CidrBlock", "Ipv6CidrBlock", "SecurityGroupId",
		"AddressId", "AddressGroupId", "ServiceId", "ServiceGroupId", "PolicyDescription", "Disabled", "ExpiresAt"}
}

func policyCells(p wire.SecurityGroupPolicy) []string {
	r := policyRaw(p)
	disabled := ""
	if p.Disabled {
		disabled = "true"
	}
	return []string{strconv.Itoa(p.PolicyIndex), r.Action, r.Protocol, r.Port, r.CidrBlock, r.Ipv6CidrBlock, r.SecurityGroupId,
		r.AddressId, r.AddressGroupId, r.ServiceId, r.ServiceGroupId, r.PolicyDescription, disabled, p.ExpiresAt}
}

// filePolicy is a policy of a policy file: its text fields and Palisade's
// lifecycle fields.
type filePolicy struct {
	raw policy.Raw
	// parsed is the policy as read, before raw was made canonical: a
	// widened CIDR still says what was written.
	parsed    policy.Policy
	disabled  bool
	expiresAt string // RFC 3339; "" when it does not expire
}

func (fp filePolicy) input() wire.SecurityGroupPolicyInput {
	in := policyInput(fp.raw)
	if fp.disabled {
		in.Disabled = wire.NewBool(true)
	}
	if fp.expiresAt != "" {
		in.ExpiresAt = wire.NewString(fp.expiresAt)
	}
	return in
}

// fileSet builds the request policy set of the file's policies.
func fileSet(lists [3][]filePolicy) *wire.SecurityGroupPolicySetInput {
	set := &wire.SecurityGroupPolicySetInput{}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		var in []wire.SecurityGroupPolicyInput
		for _, fp := range lists[d] {
			in = append(in, fp.input())
		}
		if d == policy.Egress {
			set.Egress = in
		} else {
			set.Ingress = in
		}
	}
	return set
}

// lifecycle reads the Disabled and ExpiresAt cells of a row: Disabled
// empty, true or false (any case, or 1/0); ExpiresAt empty or RFC 3339.
func lifecycle(disabled, expires string) (filePolicy, []*policy.FieldError) {
	var fp filePolicy
	var errs []*policy.FieldError
	if v := strings.TrimSpace(disabled); v != "" {
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			errs = append(errs, &policy.FieldError{Field: "Disabled", Value: disabled, Kind: policy.Malformed, Reason: "must be true or false"})
		}
		fp.disabled = b
	}
	if v := strings.TrimSpace(expires); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, &policy.FieldError{Field: "ExpiresAt", Value: expires, Kind: policy.Malformed, Reason: "must be an RFC 3339 time such as 2026-03-01T10:00:00Z"})
		}
		fp.expiresAt = t.UTC().Format(time.RFC3339)
	}
	return fp, errs
}

// rawField returns the field of r that a column names ("" for
// PolicyIndex, which the row's position decides).
func rawField(r *policy.Raw, column string) *string {
	switch column {
	case "Action":
		return &r.Action
	case "Protocol":
		return &r.Protocol
	case "Port":
		return &r.Port
	case "CidrBlock":
		return &r.CidrBlock
	case "Ipv6CidrBlock":
		return &r.Ipv6CidrBlock
	case "SecurityGroupId":
		return &r.SecurityGroupId
	case "AddressId":
		return &r.AddressId
	case "AddressGroupId":
		return &r.AddressGroupId
	case "ServiceId":
		return &r.ServiceId
	case "ServiceGroupId":
		return &r.ServiceGroupId
	case "PolicyDescription":
		return &r.PolicyDescription
	}
	return nil
}

// formatOf returns the format of --format, else of the file's extension.
func formatOf(flag, file string) (string, error) {
	f := strings.ToLower(flag)
	if f == "" {
		f = strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
	}
	switch f {
	case formatJSON, formatCSV, formatXLSX:
		return f, nil
	case "":
		return "", fmt.Errorf("file %q has no extension: give --format json, csv or xlsx", file)
	}
	return "", fmt.Errorf("format %q: want json, csv or xlsx", f)
}

func newExportCommand(g *globals) *cobra.Command {
	var format, file string
	cmd := &cobra.Command{Use: "export SG [--format json|csv|xlsx] [--file F]", Short: "Export a group's policies as JSON (the API's SecurityGroupPolicySet), CSV or XLSX",
		Long: `Export a group's policies.

JSON is the API's SecurityGroupPolicySet. CSV has a header row and one row
per policy: Direction, then ` + strings.Join(policyColumns(), ", ") + `.
XLSX has a sheet per direction (Ingress, Egress), each with that header row
without Direction. The format follows --format, else the file's extension;
without --file the export goes to standard output (JSON or CSV only).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" && format == "" {
				format = formatJSON
			}
			f, err := formatOf(format, file)
			if err != nil {
				return err
			}
			if file == "" && f == formatXLSX {
				return errors.New("xlsx needs --file")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := describePolicies(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := writePolicies(&buf, f, resp.SecurityGroupPolicySet); err != nil {
				return err
			}
			if file == "" {
				_, err := cmd.OutOrStdout().Write(buf.Bytes())
				return err
			}
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			set := resp.SecurityGroupPolicySet
			doc := exportResult{SecurityGroupId: args[0], Version: set.Version, File: file, Format: f, Ingress: len(set.Ingress), Egress: len(set.Egress)}
			return g.emit(cmd, doc, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Exported %d ingress and %d egress policies of %s (version %s) to %s.\n", doc.Ingress, doc.Egress, args[0], set.Version, file)
				return err
			})
		}}
	cmd.Flags().StringVar(&format, "format", "", "json, csv or xlsx (default: the file's extension, else json)")
	cmd.Flags().StringVar(&file, "file", "", "file to write (default: standard output)")
	return cmd
}

type exportResult struct {
	SecurityGroupId string
	Version         string
	File            string
	Format          string
	Ingress, Egress int
}

// writePolicies writes set in format f.
func writePolicies(w io.Writer, f string, set wire.SecurityGroupPolicySet) error {
	dirs := [...][]wire.SecurityGroupPolicy{policy.Ingress: set.Ingress, policy.Egress: set.Egress}
	switch f {
	case formatJSON:
		b, err := json.MarshalIndent(set, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case formatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(append([]string{"Direction"}, policyColumns()...)); err != nil {
			return err
		}
		for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
			for _, p := range dirs[d] {
				if err := cw.Write(append([]string{d.String()}, policyCells(p)...)); err != nil {
					return err
				}
			}
		}
		cw.Flush()
		return cw.Error()
	case formatXLSX:
		x := excelize.NewFile()
		defer x.Close()
		for i, d := range []policy.Direction{policy.Ingress, policy.Egress} {
			name := d.Field()
			if i == 0 {
				if err := x.SetSheetName("Sheet1", name); err != nil {
					return err
				}
			} else if _, err := x.NewSheet(name); err != nil {
				return err
			}
			sw, err := x.NewStreamWriter(name)
			if err != nil {
				return err
			}
			row := func(n int, cells []string) error {
				vals := make([]any, len(cells))
				for i, c := range cells {
					vals[i] = c
				}
				ref, _ := excelize.CoordinatesToCellName(1, n)
				return sw.SetRow(ref, vals)
			}
			if err := row(1, policyColumns()); err != nil {
				return err
			}
			for j, p := range dirs[d] {
				if err := row(j+2, policyCells(p)); err != nil {
					return err
				}
			}
			if err := sw.Flush(); err != nil {
				return err
			}
		}
		return x.Write(w)
	}
	return fmt.Errorf("format %q: want json, csv or xlsx", f)
}

// importRow is one policy read from a file, with where it was read.
type importRow struct {
	where             string // "row 3" (CSV), "Ingress row 3" (XLSX), "Ingress[2]" (JSON)
	dir               policy.Direction
	raw               policy.Raw
	disabled, expires string // the Disabled and ExpiresAt cells
	err               error  // a problem of the row that is not a policy field's
}

// RowError is a bad row of an imported file: where, and every problem of
// its fields.
type RowError struct {
	Where  string
	Fields []*policy.FieldError
	Err    error // a problem that is not a field's (a short row…)
}

func (e RowError) String() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Where, e.Err)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return fmt.Sprintf("%s: %s", e.Where, strings.Join(parts, "; "))
}

// ImportError lists every bad row of a file; nothing was written (or,
// for Op "lint", analysed).
type ImportError struct {
	File string
	Rows []RowError
	Op   string // the command refused: "" for import, "lint"
}

func (e *ImportError) Error() string {
	lines := make([]string, len(e.Rows))
	for i, r := range e.Rows {
		lines[i] = "  " + r.String()
	}
	op, done := "import", "imported"
	if e.Op != "" {
		op, done = e.Op, "analysed"
	}
	return fmt.Sprintf("%s %s: %d bad rows, nothing %s:\n%s", op, e.File, len(e.Rows), done, strings.Join(lines, "\n"))
}

// progress prints "label: n/total" on a terminal, in place; elsewhere it
// prints nothing.
type progress struct {
	w     io.Writer
	on    bool
	label string
	total int
}

func newProgress(w io.Writer, label string, total int) *progress {
	f, ok := w.(*os.File)
	on := ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) && total >= 200
	return &progress{w: w, on: on, label: label, total: total}
}

func (p *progress) set(n int) {
	if !p.on || (n%200 != 0 && n != p.total) {
		return
	}
	const width = 30
	done := width * n / max(p.total, 1)
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("#", done), strings.Repeat(".", width-done), n, p.total)
	if n == p.total {
		fmt.Fprintln(p.w)
	}
}

// readRows reads the policies of a file in format f.
func readRows(data []byte, f string) ([]importRow, []RowError, error) {
	switch f {
	case formatJSON:
		var set struct {
			Version          string
			Ingress, Egress  []wire.SecurityGroupPolicy
			PolicyStatistics json.RawMessage
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&set); err != nil {
			return nil, nil, fmt.Errorf("not a SecurityGroupPolicySet: %w", err)
		}
		var rows []importRow
		for _, x := range []struct {
			d  policy.Direction
			ps []wire.SecurityGroupPolicy
		}{{policy.Ingress, set.Ingress}, {policy.Egress, set.Egress}} {
			for i, p := range x.ps {
				rows = append(rows, importRow{where: fmt.Sprintf("%s[%d]", x.d.Field(), i), dir: x.d, raw: policyRaw(p),
					disabled: strconv.FormatBool(p.Disabled), expires: p.ExpiresAt})
			}
		}
		return rows, nil, nil
	case formatCSV:
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil {
			return nil, nil, fmt.Errorf("csv: %w", err)
		}
		if len(recs) == 0 {
			return nil, nil, errors.New("csv: no header row")
		}
		return tableRows(recs, true, func(n int) string { return fmt.Sprintf("row %d", n) }, 0)
	case formatXLSX:
		x, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("xlsx: %w", err)
		}
		defer x.Close()
		var rows []importRow
		var bad []RowError
		found := 0
		for _, sheet := range x.GetSheetList() {
			d, err := policy.ParseDirection(sheet)
			if err != nil {
				return nil, nil, fmt.Errorf("xlsx: sheet %q: want a sheet per direction, named Ingress or Egress", sheet)
			}
			found++
			recs, err := x.GetRows(sheet)
			if err != nil {
				return nil, nil, fmt.Errorf("xlsx: sheet %s: %w", sheet, err)
			}
			if len(recs) == 0 {
				continue
			}
			name := d.Field()
			r, b, err := tableRows(recs, false, func(n int) string { return fmt.Sprintf("%s row %d", name, n) }, d)
			if err != nil {
				return nil, nil, fmt.Errorf("xlsx: sheet %s: %w", sheet, err)
			}
			rows, bad = append(rows, r...), append(bad, b...)
		}
		if found == 0 {
			return nil, nil, errors.New("xlsx: no Ingress or Egress sheet")
		}
		return rows, bad, nil
	}
	return nil, nil, fmt.Errorf("format %q: want json, csv or xlsx", f)
}

// tableRows reads a header row and the rows under it; withDir says the
// first column is Direction (CSV), else every row is of direction d.
// Columns are matched by name, in any case; an unknown column is an error.
func tableRows(recs [][]string, withDir bool, where func(rowNumber int) string, d policy.Direction) ([]importRow, []RowError, error) {
	header := recs[0]
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		name := ""
		if withDir && strings.EqualFold(h, "Direction") {
			name = "Direction"
		}
		for _, c := range policyColumns() {
			if strings.EqualFold(h, c) {
				name = c
			}
		}
		if name == "" {
			return nil, nil, fmt.Errorf("header column %d %q: not one of Direction, %s", i+1, h, strings.Join(policyColumns(), ", "))
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("header column %d: %s given twice", i+1, name)
		}
		seen[name] = true
		cols[i] = name
	}
	if withDir && !seen["Direction"] {
		return nil, nil, errors.New("header: no Direction column")
	}
	if !seen["Action"] {
		return nil, nil, errors.New("header: no Action column")
	}
	var rows []importRow
	var bad []RowError
	for i, rec := range recs[1:] {
		n := i + 2
		if blank(rec) {
			continue
		}
		if len(rec) > len(cols) {
			rows = append(rows, importRow{where: where(n), err: fmt.Errorf("%d cells, the header has %d", len(rec), len(cols))})
			continue
		}
		row := importRow{where: where(n), dir: d}
		for j, v := range rec {
			switch cols[j] {
			case "Direction":
				dd, err := policy.ParseDirection(strings.TrimSpace(v))
				if err != nil {
					row.err = fmt.Errorf("Direction %q: want INGRESS or EGRESS", v)
				}
				row.dir = dd
			case "PolicyIndex":
			case "Disabled":
				row.disabled = v
			case "ExpiresAt":
				row.expires = v
			default:
				*rawField(&row.raw, cols[j]) = v
			}
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func newImportCommand(g *globals) *cobra.Command {
	var format, file string
	var replace bool
	cmd := &cobra.Command{Use: "import SG --file F [--replace]", Short: "Import policies from JSON, CSV or XLSX: every row validated first, then all applied in one write",
		Long: `Import policies from a file written by sg export (or by hand).

Every row is validated first, with the parser the server uses; if any row
is bad, every bad row is reported with its row number and field and
nothing is written. Then the policies are applied in one write:

  without --replace, appended: CreateSecurityGroupPolicies when the file
    holds one direction; ModifySecurityGroupPolicies with the current and
    the new policies when it holds both (that action is not
    Version-checked: a write by someone else in between is overwritten);
  with --replace, the directions the file holds replace the group's, in
    one ModifySecurityGroupPolicies; a direction with no policies in the
    file is left as it is.

A progress bar is shown on a terminal for large files.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return errors.New("--file is required")
			}
			if err := g.checkOutput(); err != nil {
				return err
			}
			lists, err := readPolicyFile(cmd, file, format)
			if err != nil {
				return err
			}
			if len(lists[policy.Ingress])+len(lists[policy.Egress]) == 0 {
				return fmt.Errorf("import %s: the file holds no policies", file)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, action, err := applyImport(cmd.Context(), c, args[0], lists, replace)
			if err != nil {
				return err
			}
			g.printWarnings(cmd, resp.Warnings)
			doc := importResult{SecurityGroupId: args[0], Action: action, Version: resp.Version, Ingress: len(lists[policy.Ingress]), Egress: len(lists[policy.Egress]), Warnings: resp.Warnings, RequestId: resp.RequestId}
			return g.emit(cmd, doc, func(w io.Writer) error {
				verb := "Appended"
				if replace {
					verb = "Replaced with"
				}
				_, err := fmt.Fprintf(w, "%s %d ingress and %d egress policies in %s (%s); version %s.\n", verb, doc.Ingress, doc.Egress, args[0], action, resp.Version)
				return err
			})
		}}
	cmd.Flags().StringVar(&format, "format", "", "json, csv or xlsx (default: the file's extension)")
	cmd.Flags().StringVar(&file, "file", "", "file to read")
	cmd.Flags().BoolVar(&replace, "replace", false, "replace the directions the file holds instead of appending")
	return cmd
}

// readPolicyFile reads a policy file and validates every row with the
// server's parser: the policies by direction, or an *ImportError naming
// every bad row.
func readPolicyFile(cmd *cobra.Command, file, format string) ([3][]filePolicy, error) {
	f, err := formatOf(format, file)
	if err != nil {
		return [3][]filePolicy{}, err
	}
	data, err := readFile(file)
	if err != nil {
		return [3][]filePolicy{}, err
	}
	return readPolicies(cmd, "", file, f, data)
}

// readPolicies is readPolicyFile of the data read from file, in format f,
// for the command op ("" for import).
func readPolicies(cmd *cobra.Command, op, file, f string, data []byte) ([3][]filePolicy, error) {
	var lists [3][]filePolicy
	name := op
	if name == "" {
		name = "import"
	}
	rows, bad, err := readRows(data, f)
	if err != nil {
		return lists, fmt.Errorf("%s %s: %w", name, file, err)
	}
	bar := newProgress(cmd.ErrOrStderr(), "validating", len(rows))
	for i, r := range rows {
		if r.err != nil {
			bad = append(bad, RowError{Where: r.where, Err: r.err})
			continue
		}
		p, err := policy.ParseRaw(r.raw)
		fp, lerrs := lifecycle(r.disabled, r.expires)
		fields := append(policy.FieldErrors(err), lerrs...)
		if len(fields) > 0 || err != nil {
			bad = append(bad, RowError{Where: r.where, Fields: fields})
		} else {
			fp.raw, fp.parsed = p.Raw(), p
			lists[r.dir] = append(lists[r.dir], fp)
		}
		bar.set(i + 1)
	}
	if len(bad) > 0 {
		return lists, &ImportError{File: file, Rows: bad, Op: op}
	}
	return lists, nil
}

type importResult struct {
	SecurityGroupId string
	Action          string
	Version         string
	Ingress, Egress int
	Warnings        []wire.Warning
	RequestId       string
}

// applyImport writes the validated policies in one request and returns
// its response and action.
func applyImport(ctx context.Context, c *client.Client, id string, lists [3][]filePolicy, replace bool) (*wire.PolicyWriteResponse, string, error) {
	in, eg := lists[policy.Ingress], lists[policy.Egress]
	both := len(in) > 0 && len(eg) > 0
	if !both && !replace {
		r, err := c.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(id), SecurityGroupPolicySet: fileSet(lists)})
		return (*wire.PolicyWriteResponse)(r), wire.ActionCreateSecurityGroupPolicies, err
	}
	set := fileSet(lists)
	if !replace {
		cur, err := describePolicies(ctx, c, id)
		if err != nil {
			return nil, "", err
		}
		prepend := func(old []wire.SecurityGroupPolicy, add []wire.SecurityGroupPolicyInput) []wire.SecurityGroupPolicyInput {
			out := make([]wire.SecurityGroupPolicyInput, 0, len(old)+len(add))
			for _, p := range old {
				out = append(out, describedInput(p))
			}
			return append(out, add...)
		}
		set.Ingress, set.Egress = prepend(cur.SecurityGroupPolicySet.Ingress, set.Ingress), prepend(cur.SecurityGroupPolicySet.Egress, set.Egress)
	}
	r, err := c.ModifySecurityGroupPolicies(ctx, &wire.ModifySecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(id), SecurityGroupPolicySet: set})
	return (*wire.PolicyWriteResponse)(r), wire.ActionModifySecurityGroupPolicies, err
}

// readFile reads a file given on the command line, bounded.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxImportBytes {
		return nil, fmt.Errorf("read %s: larger than %d MiB", name, maxImportBytes>>20)
	}
	return b, nil
}
