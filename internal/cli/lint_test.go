package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	palisade "github.com/palisade-sg/palisade/internal/cli"
	"github.com/palisade-sg/palisade/palisadetest"
	"github.com/palisade-sg/palisade/wire"
)

// offline runs the command line in-process, with no server, and returns
// its stdout, stderr and exit code.
func offline(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := palisade.Main(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// exportRow is a policy as the tests write it to files: direction and the
// API's fields, template ids flattened.
type exportRow struct {
	dir, action, proto, port, cidr, cidr6, sg, addr, svc string
}

func (r exportRow) policy(index int) wire.SecurityGroupPolicy {
	return wire.SecurityGroupPolicy{PolicyIndex: index, Protocol: r.proto, Port: r.port, CidrBlock: r.cidr, Ipv6CidrBlock: r.cidr6,
		SecurityGroupId: r.sg, Action: r.action,
		AddressTemplate: wire.AddressTemplateSpecification{AddressId: r.addr}, ServiceTemplate: wire.ServiceTemplateSpecification{ServiceId: r.svc}}
}

func (r exportRow) cells(index int) []string {
	return []string{fmt.Sprint(index), r.action, r.proto, r.port, r.cidr, r.cidr6, r.sg, r.addr, "", r.svc, "", "", "", ""}
}

var exportHeader = []string{"PolicyIndex", "Action", "Protocol", "Port", "CidrBlock", "Ipv6CidrBlock", "SecurityGroupId",
	"AddressId", "AddressGroupId", "ServiceId", "ServiceGroupId", "PolicyDescription", "Disabled", "ExpiresAt"}

// writePolicyFiles writes the rows as every format lint reads: the
// SecurityGroupPolicySet JSON, DescribeSecurityGroupPolicies' response in
// its envelope, CSV and XLSX; it returns the files by name.
func writePolicyFiles(t testing.TB, rows []exportRow) map[string]string {
	t.Helper()
	dir := t.TempDir()
	set := wire.SecurityGroupPolicySet{Version: "3", Ingress: []wire.SecurityGroupPolicy{}, Egress: []wire.SecurityGroupPolicy{}}
	var csvRows [][]string
	sheets := map[string][][]string{"Ingress": {exportHeader}, "Egress": {exportHeader}}
	n := map[string]int{}
	for _, r := range rows {
		i := n[r.dir]
		n[r.dir]++
		if r.dir == "INGRESS" {
			set.Ingress = append(set.Ingress, r.policy(i))
			sheets["Ingress"] = append(sheets["Ingress"], r.cells(i))
		} else {
			set.Egress = append(set.Egress, r.policy(i))
			sheets["Egress"] = append(sheets["Egress"], r.cells(i))
		}
		csvRows = append(csvRows, append([]string{r.dir}, r.cells(i)...))
	}
	files := map[string]string{}
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}
	b, _ := json.Marshal(set)
	write("set.json", b)
	b, _ = json.Marshal(map[string]any{"Response": wire.DescribeSecurityGroupPoliciesResponse{SecurityGroupPolicySet: set, RequestId: "r1"}})
	write("response.json", b)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(append([]string{"Direction"}, exportHeader...))
	_ = w.WriteAll(csvRows)
	write("set.csv", buf.Bytes())
	files["set.xlsx"] = filepath.Join(dir, "set.xlsx")
	writeXLSX(t, files["set.xlsx"], sheets)
	return files
}

type lintDoc struct {
	File       string
	FindingSet []wire.Finding
	TotalCount int
	FailOn     string
	Failed     bool
}

func lintKinds(d lintDoc) []string {
	var out []string
	for _, f := range d.FindingSet {
		s := f.Kind + " " + f.Severity + " " + f.Direction
		if f.PolicyIndex != nil {
			s += fmt.Sprintf(" %d", *f.PolicyIndex)
		}
		out = append(out, s)
	}
	return out
}

// TestLint runs palisade lint end to end on files written in every format
// it reads, checking the findings and the exit codes of --fail-on.
func TestLint(t *testing.T) {
	rows := []exportRow{
		{dir: "INGRESS", action: "DROP", proto: "ALL", port: "ALL", cidr: "203.0.113.0/24"},
		{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "22", cidr: "203.0.113.7"},
		{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "3306", addr: "ipm-aaaaaaaa"},
		{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "22,3306", cidr: "0.0.0.0/0"},
		{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "22", cidr: "10.0.0.0/8"},
		{dir: "INGRESS", action: "ACCEPT", svc: "ppm-aaaaaaaa", cidr: "10.0.0.0/8"},
		{dir: "EGRESS", action: "ACCEPT", proto: "TCP", port: "25", cidr6: "::/0"},
		{dir: "EGRESS", action: "ACCEPT", proto: "UDP", port: "53", cidr: "0.0.0.0/0"},
		{dir: "EGRESS", action: "ACCEPT", proto: "UDP", port: "53", cidr: "10.0.0.2"},
	}
	want := []string{
		"SHADOWED MEDIUM INGRESS 1",
		"UNRESOLVED INFO INGRESS 2",
		"EXPOSED_PORT HIGH INGRESS 3",
		"REDUNDANT LOW INGRESS 4",
		"UNRESOLVED INFO INGRESS 5",
		"PORT25_BLOCKED MEDIUM EGRESS 0",
		"REDUNDANT LOW EGRESS 2",
	}
	for name, file := range writePolicyFiles(t, rows) {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := offline("lint", file, "-o", "json")
			if code != 1 || !strings.Contains(errOut, "1 finding(s) of severity HIGH or above") {
				t.Errorf("lint: exit %d, stderr %q; want 1 for the HIGH finding", code, errOut)
			}
			var doc lintDoc
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("lint -o json: %v\n%s", err, out)
			}
			if got := lintKinds(doc); !slices.Equal(got, want) || doc.TotalCount != len(want) || !doc.Failed || doc.FailOn != "HIGH" {
				t.Fatalf("lint findings =\n%s\nwant\n%s\n(%+v)", strings.Join(got, "\n"), strings.Join(want, "\n"), doc)
			}
			if m := doc.FindingSet[0].Message; !strings.Contains(m, "policy 0 (DROP) with the other action") {
				t.Errorf("SHADOWED message %q, want the covering policy named", m)
			}
			if m := doc.FindingSet[1].Message; !strings.Contains(m, "address template ipm-aaaaaaaa cannot be resolved offline") {
				t.Errorf("UNRESOLVED message %q, want the template named", m)
			}
			if m := doc.FindingSet[4].Message; !strings.Contains(m, "service template ppm-aaaaaaaa cannot be resolved offline") {
				t.Errorf("UNRESOLVED message %q, want the template named", m)
			}
			// Text: a table and the counts.
			out, _, code = offline("lint", file, "--fail-on", "info")
			if code != 1 || !strings.Contains(out, "SEVERITY  KIND") || !strings.Contains(out, "7 finding(s): 1 high, 2 medium, 2 low, 2 info") {
				t.Errorf("lint --fail-on info: exit %d\n%s", code, out)
			}
		})
	}

	t.Run("fail-on thresholds", func(t *testing.T) {
		files := writePolicyFiles(t, []exportRow{
			{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "80", cidr: "0.0.0.0/8"}, // WIDENED_CIDR, MEDIUM
			{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "80", cidr: "10.0.0.0/8"},
		})
		for _, tt := range []struct {
			failOn string
			code   int
		}{{"", 0}, {"high", 0}, {"HIGH", 0}, {"medium", 1}, {"low", 1}, {"info", 1}} {
			args := []string{"lint", files["set.csv"]}
			if tt.failOn != "" {
				args = append(args, "--fail-on", tt.failOn)
			}
			out, errOut, code := offline(args...)
			if code != tt.code {
				t.Errorf("lint --fail-on %q: exit %d, want %d\n%s%s", tt.failOn, code, tt.code, out, errOut)
			}
			if !strings.Contains(out, "WIDENED_CIDR") || !strings.Contains(out, "REDUNDANT") {
				t.Errorf("lint --fail-on %q: output %q, want both findings", tt.failOn, out)
			}
		}
	})

	t.Run("clean file", func(t *testing.T) {
		files := writePolicyFiles(t, []exportRow{{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "443", cidr: "0.0.0.0/0"}})
		out, errOut, code := offline("lint", files["set.json"], "--fail-on", "info")
		if code != 0 || !strings.Contains(out, "0 finding(s)") {
			t.Errorf("lint of a clean file: exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("port 25 unblocked", func(t *testing.T) {
		files := writePolicyFiles(t, []exportRow{{dir: "EGRESS", action: "ACCEPT", proto: "TCP", port: "25", cidr: "0.0.0.0/0"}})
		if out, _, code := offline("lint", files["set.json"], "--fail-on", "info"); code != 1 || !strings.Contains(out, "PORT25_BLOCKED") {
			t.Errorf("lint: exit %d\n%s, want PORT25_BLOCKED", code, out)
		}
		if out, _, code := offline("lint", files["set.json"], "--fail-on", "info", "--port25-unblocked"); code != 0 {
			t.Errorf("lint --port25-unblocked: exit %d\n%s", code, out)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.csv")
		if err := os.WriteFile(bad, []byte("Direction,Action,Protocol,Port,CidrBlock\nINGRESS,ACCEPT,TCP,99999,0.0.0.0/0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		notJSON := filepath.Join(dir, "x.json")
		if err := os.WriteFile(notJSON, []byte(`{"Ingress": [{"Nope": 1}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		good := writePolicyFiles(t, []exportRow{{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "443", cidr: "0.0.0.0/0"}})["set.json"]
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"bad row", []string{"lint", bad}, "lint " + bad + ": 1 bad rows, nothing analysed"},
			{"unknown field", []string{"lint", notJSON}, "not a SecurityGroupPolicySet"},
			{"missing file", []string{"lint", filepath.Join(dir, "none.json")}, "no such file"},
			{"bad severity", []string{"lint", good, "--fail-on", "critical"}, "--fail-on"},
			{"no file", []string{"lint"}, "accepts 1 arg"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, errOut, code := offline(tt.args...)
				if code != 1 || !strings.Contains(errOut, tt.want) {
					t.Errorf("palisade %q: exit %d, stderr %q, want 1 and %q", tt.args, code, errOut, tt.want)
				}
			})
		}
	})
}

type explainDoc struct {
	Verdict     string
	Layer       string
	PolicyIndex *int
	Trace       []string
	Unresolved  []int
	Warnings    []string
}

// TestExplain runs palisade explain end to end: the deciding policy, the
// trace, the unresolved policies that might decide first, and refusals.
func TestExplain(t *testing.T) {
	files := writePolicyFiles(t, []exportRow{
		{dir: "INGRESS", action: "DROP", proto: "ALL", port: "ALL", cidr: "203.0.113.0/24"},
		{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "3306", addr: "ipm-aaaaaaaa"},
		{dir: "INGRESS", action: "ACCEPT", proto: "TCP", port: "22,3306", cidr: "0.0.0.0/0"},
		{dir: "EGRESS", action: "ACCEPT", proto: "UDP", port: "53", cidr6: "2001:db8::/32"},
	})
	index := func(i int) *int { return &i }
	tests := []struct {
		name       string
		args       []string
		verdict    string
		index      *int
		trace      int // lines
		unresolved []int
	}{
		{name: "dropped by policy 0", args: []string{"--port", "22", "--address", "203.0.113.9"}, verdict: "DROP", index: index(0), trace: 1, unresolved: []int{}},
		{name: "ssh accepted by policy 2", args: []string{"--port", "22", "--address", "198.51.100.1"}, verdict: "ACCEPT", index: index(2), trace: 2, unresolved: []int{}},
		{name: "mysql: the template may decide first", args: []string{"--port", "3306", "--address", "198.51.100.1"}, verdict: "ACCEPT", index: index(2), trace: 2, unresolved: []int{1}},
		{name: "nothing matches", args: []string{"--protocol", "udp", "--port", "53", "--address", "198.51.100.1"}, verdict: "DROP", trace: 3, unresolved: []int{}},
		{name: "egress", args: []string{"--direction", "egress", "--protocol", "UDP", "--port", "53", "--address", "2001:db8::53"}, verdict: "ACCEPT", index: index(0), trace: 1, unresolved: []int{}},
		{name: "ICMP", args: []string{"--protocol", "icmp", "--address", "203.0.113.1"}, verdict: "DROP", index: index(0), trace: 1, unresolved: []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, file := range []string{files["set.json"], files["set.xlsx"]} {
				out, errOut, code := offline(append([]string{"explain", file, "-o", "json"}, tt.args...)...)
				if code != 0 {
					t.Fatalf("explain: exit %d: %s", code, errOut)
				}
				var doc explainDoc
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("explain -o json: %v\n%s", err, out)
				}
				if doc.Verdict != tt.verdict || (doc.PolicyIndex == nil) != (tt.index == nil) || tt.index != nil && *doc.PolicyIndex != *tt.index ||
					len(doc.Trace) != tt.trace || !slices.Equal(doc.Unresolved, tt.unresolved) {
					t.Errorf("explain %s = %+v, want %s by %v, %d trace lines, unresolved %v", file, doc, tt.verdict, tt.index, tt.trace, tt.unresolved)
				}
				if len(doc.Warnings) != len(tt.unresolved) {
					t.Errorf("warnings %q, want one per unresolved policy", doc.Warnings)
				}
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		out, _, code := offline("explain", files["set.csv"], "--port", "3306", "--address", "198.51.100.1")
		want := []string{"ACCEPT (Ingress policy 2)", "  SECURITY_GROUP: policy 0 (DROP ALL ALL from 203.0.113.0/24): no match",
			"  SECURITY_GROUP: policy 2 (ACCEPT TCP 22,3306 from 0.0.0.0/0): ACCEPT", "warning: Ingress policy 1 (ACCEPT TCP 3306 from ipm-aaaaaaaa) comes first"}
		for _, w := range want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("explain: exit %d, output\n%s\nwant a line %q", code, out, w)
			}
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"no address", []string{"--port", "22"}, "address"},
			{"bad address", []string{"--port", "22", "--address", "1.2.3"}, "not an IP address"},
			{"ICMP to IPv6", []string{"--protocol", "icmp", "--address", "2001:db8::1"}, "not a protocol of its address family"},
			{"ALL is not a packet's", []string{"--protocol", "all", "--address", "1.2.3.4"}, "a packet has one protocol"},
			{"port out of range", []string{"--port", "0", "--address", "1.2.3.4"}, "want 1-65535"},
			{"bad direction", []string{"--direction", "up", "--port", "22", "--address", "1.2.3.4"}, "--direction"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, errOut, code := offline(append([]string{"explain", files["set.json"]}, tt.args...)...)
				if code != 1 || !strings.Contains(errOut, tt.want) {
					t.Errorf("explain %q: exit %d, stderr %q, want 1 and %q", tt.args, code, errOut, tt.want)
				}
			})
		}
	})
}

// BenchmarkLint measures palisade lint, in-process, on an export of
// 10,000 policies (5,000 per direction) as CSV and as JSON.
func BenchmarkLint(b *testing.B) {
	var rows []exportRow
	for i := range 10000 {
		dir := "INGRESS"
		if i%2 == 1 {
			dir = "EGRESS"
		}
		action := "ACCEPT"
		if i%7 == 0 {
			action = "DROP"
		}
		port := fmt.Sprint(1 + (i*37)%65535)
		if i%5 == 0 {
			port = fmt.Sprintf("%d-%d", 1000+i%60000, 1000+i%60000+i%300)
		}
		cidr := fmt.Sprintf("10.%d.%d.0/%d", (i/256)%256, i%256, 16+i%9)
		if i%50 == 0 {
			cidr = "0.0.0.0/0"
		}
		rows = append(rows, exportRow{dir: dir, action: action, proto: []string{"TCP", "UDP"}[i%3/2], port: port, cidr: cidr})
	}
	files := writePolicyFiles(b, rows)
	for _, name := range []string{"set.csv", "set.json"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, errOut, code := offline("lint", files[name], "--fail-on", "info", "-o", "json"); code != 1 {
					b.Fatalf("lint: exit %d: %s", code, errOut)
				}
			}
		})
	}
}

// TestFindingsCommand runs palisade findings (the binary) against a real
// server: a group's and an instance's findings, --fail-on's exit codes,
// and an export of the group linted offline to the same group findings.
func TestFindingsCommand(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)
	g := createGroup(c, "findings")
	c.ok("rule", "add", g, "--rule", "ACCEPT TCP 8080 10.0.0.0/8", "--rule", "ACCEPT TCP 8080 10.1.0.0/16", "--rule", "ACCEPT TCP 22 0.0.0.0/0")
	var resp wire.DescribeSecurityGroupFindingsResponse
	out, errOut, code := c.run("findings", "--group", g, "-o", "json")
	if code != 1 || !strings.Contains(errOut, "1 finding(s) of severity HIGH or above") {
		t.Fatalf("findings --group: exit %d, stderr %q; want 1 for EXPOSED_PORT", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("findings -o json: %v\n%s", err, out)
	}
	group := lintKinds(lintDoc{FindingSet: resp.FindingSet})
	if want := []string{"REDUNDANT LOW INGRESS 1", "EXPOSED_PORT HIGH INGRESS 2"}; !slices.Equal(group, want) {
		t.Fatalf("findings --group = %q, want %q", group, want)
	}
	if out, _, code := c.run("findings", "--group", g, "--fail-on", "info"); code != 1 || !strings.Contains(out, "2 finding(s): 1 high, 0 medium, 1 low, 0 info") {
		t.Errorf("findings text: exit %d\n%s", code, out)
	}
	c.ok("rule", "delete", g, "--index", "2")
	if out := c.ok("findings", "--group", g); !strings.Contains(out, "REDUNDANT") {
		t.Errorf("findings without the HIGH one: %s", out)
	}

	plat := c.with("PALISADE_SECRET_ID="+srv.PlatformSecretID, "PALISADE_SECRET_KEY="+srv.PlatformSecretKey)
	var reg wire.RegisterInstancesResponse
	plat.json(&reg, "instance", "register", "vm", "--account", srv.AccountID, "--zone", "ap-guangzhou-3", "--ip", "10.0.1.5")
	ins := reg.InstanceIdSet[0]
	c.ok("instance", "bind", ins, "--group", g)
	var insResp wire.DescribeSecurityGroupFindingsResponse
	c.json(&insResp, "findings", "--instance", ins, "--fail-on", "high")
	if got, want := lintKinds(lintDoc{FindingSet: insResp.FindingSet}), []string{"REDUNDANT LOW INGRESS 1", "NO_LOGIN_PORT MEDIUM INGRESS", "NO_PING LOW INGRESS", "NO_EGRESS MEDIUM EGRESS"}; !slices.Equal(got, want) {
		t.Errorf("findings --instance = %q, want %q", got, want)
	}
	if e := c.fail("findings", "--group", g, "--instance", ins); !strings.Contains(e.Message, "one of the two") {
		t.Errorf("findings with both: %+v", e)
	}

	// The export, linted offline, has the group's findings.
	file := filepath.Join(t.TempDir(), "findings.csv")
	c.ok("sg", "export", g, "--file", file)
	var doc lintDoc
	c.json(&doc, "lint", file)
	if got := lintKinds(doc); !slices.Equal(got, []string{"REDUNDANT LOW INGRESS 1"}) {
		t.Errorf("lint of the export = %q, want the group's findings", got)
	}
}
