package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/palisade-sg/palisade/palisadetest"
	"github.com/palisade-sg/palisade/wire"
)

// binary is the palisade binary built once for the tests of this package
// that run it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "palisade-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "palisade")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/palisade")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build palisade: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary with a clean environment: a temporary HOME and
// config directory, and the variables of env.
type cli struct {
	t   testing.TB
	env []string
}

// newCLI returns a cli whose environment points at srv with its admin
// credential.
func newCLI(t testing.TB, srv *palisadetest.Server) *cli {
	home := t.TempDir()
	c := &cli{t: t, env: []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "PATH=" + os.Getenv("PATH")}}
	if srv != nil {
		c.env = append(c.env, "PALISADE_ENDPOINT="+srv.Endpoint, "PALISADE_SECRET_ID="+srv.SecretID, "PALISADE_SECRET_KEY="+srv.SecretKey)
	}
	return c
}

func (c *cli) with(env ...string) *cli {
	return &cli{t: c.t, env: append(append([]string{}, c.env...), env...)}
}

// run runs the binary and returns its stdout, stderr and exit code.
func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = c.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run %q: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("palisade %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// json runs a command with -o json that must succeed and decodes its
// output into v.
func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("palisade %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fail runs a command that must fail and returns its error as printed
// with -o json on stderr.
func (c *cli) fail(args ...string) apiError {
	c.t.Helper()
	out, errOut, code := c.run(append(args, "-o", "json")...)
	if code == 0 {
		c.t.Fatalf("palisade %s: succeeded, want a failure\nstdout: %s", strings.Join(args, " "), out)
	}
	var e struct{ Error apiError }
	if err := json.Unmarshal([]byte(errOut), &e); err != nil || e.Error.Code == "" {
		c.t.Fatalf("palisade %s: stderr is not a JSON error (%v): %q", strings.Join(args, " "), err, errOut)
	}
	return e.Error
}

type apiError struct {
	Code, Message, RequestId string
	Rows                     []struct{ Row, Field, Value, Reason string }
}

// policies returns a group's policy set through the CLI.
func (c *cli) policies(id string) wire.SecurityGroupPolicySet {
	c.t.Helper()
	var resp wire.DescribeSecurityGroupPoliciesResponse
	c.json(&resp, "rule", "list", id)
	return resp.SecurityGroupPolicySet
}

// compact lists a direction's policies as the rule content, without
// index and modify time.
func compact(ps []wire.SecurityGroupPolicy) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, strings.Join([]string{p.Action, p.Protocol, p.Port, p.CidrBlock, p.Ipv6CidrBlock, p.SecurityGroupId,
			p.AddressTemplate.AddressId, p.AddressTemplate.AddressGroupId, p.ServiceTemplate.ServiceId, p.ServiceTemplate.ServiceGroupId, p.PolicyDescription}, "|"))
	}
	return out
}

func createGroup(c *cli, name string, extra ...string) string {
	c.t.Helper()
	var resp wire.CreateSecurityGroupResponse
	c.json(&resp, append([]string{"sg", "create", name}, extra...)...)
	return resp.SecurityGroup.SecurityGroupId
}

// TestCLIQuickstart walks the README's quickstart and every client
// command against a real server, checking each result through the API.
func TestCLIQuickstart(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)

	// A group from a template, then policies in the compact form and by
	// flags.
	web := createGroup(c, "web", "--template", "web", "--description", "web servers", "--tag", "env=test")
	base := c.policies(web)
	var w wire.PolicyWriteResponse
	c.json(&w, "rule", "add", web, "ACCEPT", "tcp", "22", "10.0.0.0/8", "ssh from office")
	c.json(&w, "rule", "insert", web, "--index", "0", "--action", "DROP", "--protocol", "udp", "--port", "53", "--cidr", "0.0.0.0/0")
	c.json(&w, "rule", "add", web, "--direction", "egress", "--rule", "DROP TCP 25 0.0.0.0/0 # no mail")
	set := c.policies(web)
	in := compact(set.Ingress)
	if len(in) != len(base.Ingress)+2 || in[0] != "DROP|UDP|53|0.0.0.0/0|||||||" || in[len(in)-1] != "ACCEPT|TCP|22|10.0.0.0/8|||||||ssh from office" {
		t.Fatalf("ingress after add and insert = %q", in)
	}
	if eg := compact(set.Egress); eg[len(eg)-1] != "DROP|TCP|25|0.0.0.0/0|||||||no mail" {
		t.Fatalf("egress after add = %q", eg)
	}
	// Move the DROP from the top to the bottom; modify it; delete it.
	last := len(in) - 1
	c.json(&w, "rule", "move", web, "--from", "0", "--to", fmt.Sprint(last))
	if got := compact(c.policies(web).Ingress); got[last] != in[0] || got[0] != in[1] {
		t.Fatalf("after move: %q", got)
	}
	c.json(&w, "rule", "modify", web, "--index", fmt.Sprint(last), "ACCEPT TCP 8080 192.168.0.0/16 # admin")
	if got := compact(c.policies(web).Ingress); got[last] != "ACCEPT|TCP|8080|192.168.0.0/16|||||||admin" {
		t.Fatalf("after modify: %q", got)
	}
	c.json(&w, "rule", "delete", web, "--index", fmt.Sprint(last))
	c.json(&w, "rule", "delete", web, "ACCEPT", "TCP", "22", "10.0.0.0/8")
	if got := compact(c.policies(web).Ingress); !reflect.DeepEqual(got, compact(base.Ingress)) {
		t.Fatalf("after deletes: %q, want the template's %q", got, compact(base.Ingress))
	}
	// A stale Version is refused with the API's code.
	if e := c.fail("rule", "add", web, "--version", "1", "ACCEPT", "TCP", "443", "0.0.0.0/0"); e.Code != "UnsupportedOperation.VersionMismatch" {
		t.Errorf("stale version: %+v", e)
	}
	c.json(&w, "rule", "replace", web, "--direction", "egress", "--rule", "ACCEPT ALL ALL 10.0.0.0/8 # private only")
	if got := compact(c.policies(web).Egress); !reflect.DeepEqual(got, []string{"ACCEPT|ALL|ALL|10.0.0.0/8|||||||private only"}) {
		t.Fatalf("egress after replace: %q", got)
	}
	c.ok("sg", "edit", web, "--description", "front ends")
	var shown struct {
		SecurityGroup          wire.SecurityGroup
		SecurityGroupPolicySet wire.SecurityGroupPolicySet
	}
	c.json(&shown, "sg", "show", web)
	if shown.SecurityGroup.SecurityGroupDesc != "front ends" || len(shown.SecurityGroupPolicySet.Egress) != 1 {
		t.Errorf("sg show = %+v", shown)
	}
	if text := c.ok("sg", "show", web); !strings.Contains(text, "Ingress (") || !strings.Contains(text, "front ends") {
		t.Errorf("sg show text:\n%s", text)
	}

	// Register an instance (platform credential), bind it, simulate.
	plat := c.with("PALISADE_SECRET_ID="+srv.PlatformSecretID, "PALISADE_SECRET_KEY="+srv.PlatformSecretKey)
	var reg wire.RegisterInstancesResponse
	plat.json(&reg, "instance", "register", "web-1", "--account", srv.AccountID, "--zone", "ap-guangzhou-3", "--ip", "10.0.1.5")
	ins := reg.InstanceIdSet[0]
	c.ok("instance", "bind", ins, "--group", web)
	var sim wire.SimulateTrafficResponse
	c.json(&sim, "simulate", ins, "--protocol", "tcp", "--port", "443", "--address", "198.51.100.7")
	if sim.Verdict != "ACCEPT" || sim.SecurityGroupId != web {
		t.Errorf("simulate 443 = %+v", sim)
	}
	c.json(&sim, "simulate", ins, "--protocol", "tcp", "--port", "23", "--address", "198.51.100.7")
	if sim.Verdict != "DROP" || sim.Layer != "DEFAULT" {
		t.Errorf("simulate 23 = %+v", sim)
	}
	if text := c.ok("simulate", ins, "--port", "443", "--address", "198.51.100.7"); !strings.HasPrefix(text, "ACCEPT (SECURITY_GROUP "+web) {
		t.Errorf("simulate text:\n%s", text)
	}

	// Clone into another region, then order the instance's groups.
	var cl wire.CloneSecurityGroupResponse
	c.json(&cl, "sg", "clone", web, "--name", "web-sh", "--to-region", "ap-shanghai")
	if cl.SecurityGroup.Region != "ap-shanghai" {
		t.Errorf("clone = %+v", cl.SecurityGroup)
	}
	if got := compact(c.with("PALISADE_REGION=ap-shanghai").policies(cl.SecurityGroup.SecurityGroupId).Ingress); !reflect.DeepEqual(got, compact(c.policies(web).Ingress)) {
		t.Errorf("clone's ingress = %q", got)
	}
	db := createGroup(c, "db")
	c.ok("instance", "set-groups", ins, db, web)
	var inst wire.Instance
	c.json(&inst, "instance", "show", ins)
	if !reflect.DeepEqual(inst.SecurityGroupIds, []string{db, web}) {
		t.Errorf("groups after set-groups = %v", inst.SecurityGroupIds)
	}
	c.ok("instance", "unbind", ins, "--group", db)
	var list wire.DescribeInstancesResponse
	c.json(&list, "instance", "list", "--group", web)
	if len(list.InstanceSet) != 1 || !reflect.DeepEqual(list.InstanceSet[0].SecurityGroupIds, []string{web}) {
		t.Errorf("instance list = %+v", list.InstanceSet)
	}
	// Delete is refused while the instance is bound, even in the recycle
	// bin; purge releases it.
	c.ok("instance", "stop", ins)
	c.ok("instance", "start", ins)
	c.ok("instance", "terminate", ins)
	if e := c.fail("sg", "delete", web); e.Code != "ResourceInUse" || !strings.Contains(e.Message, ins) {
		t.Errorf("delete bound group: %+v", e)
	}
	c.ok("instance", "purge", ins)
	c.json(&list, "instance", "list", "--state", "TERMINATED")
	if len(list.InstanceSet) != 1 || len(list.InstanceSet[0].SecurityGroupIds) != 0 {
		t.Errorf("after purge: %+v", list.InstanceSet)
	}

	// Templates.
	var at wire.CreateAddressTemplateResponse
	c.json(&at, "template", "create-address", "office", "203.0.113.0/24", "198.51.100.10-198.51.100.20")
	var st wire.CreateServiceTemplateResponse
	c.json(&st, "template", "create-service", "webports", "tcp:80,443")
	var ag wire.CreateAddressTemplateGroupResponse
	c.json(&ag, "template", "create-group", "offices", at.AddressTemplate.AddressTemplateId)
	c.json(&w, "rule", "add", db, "ACCEPT", st.ServiceTemplate.ServiceTemplateId, ag.AddressTemplateGroup.AddressTemplateGroupId, "web from offices")
	if got := compact(c.policies(db).Ingress); len(got) != 1 || !strings.Contains(got[0], st.ServiceTemplate.ServiceTemplateId) {
		t.Errorf("template rule = %q", got)
	}
	if text := c.ok("template", "list"); !strings.Contains(text, "office") || !strings.Contains(text, "webports") {
		t.Errorf("template list:\n%s", text)
	}
	if e := c.fail("template", "delete", ag.AddressTemplateGroup.AddressTemplateGroupId); e.Code != "ResourceInUse" {
		t.Errorf("delete used template group: %+v", e)
	}
	var presets wire.DescribeSecurityGroupTemplatesResponse
	c.json(&presets, "template", "presets")
	if presets.TotalCount == 0 {
		t.Errorf("no presets")
	}

	// The rest of the group and template actions.
	dbFile := filepath.Join(t.TempDir(), "db.json")
	c.ok("sg", "export", db, "--file", dbFile)
	var fromFile wire.CreateSecurityGroupResponse
	c.json(&fromFile, "sg", "create", "from-file", "--file", dbFile)
	if got := compact(c.policies(fromFile.SecurityGroup.SecurityGroupId).Ingress); !reflect.DeepEqual(got, compact(c.policies(db).Ingress)) {
		t.Errorf("sg create --file: %q", got)
	}
	var def wire.SecurityGroup
	c.json(&def, "sg", "create-default")
	if !def.IsDefault {
		t.Errorf("create-default = %+v", def)
	}
	var lim wire.SecurityGroupLimitSet
	c.json(&lim, "sg", "limits")
	if lim.SecurityGroupPolicyLimit != 100 {
		t.Errorf("limits = %+v", lim)
	}
	var refs []wire.ReferredSecurityGroup
	c.json(&refs, "sg", "references", web)
	if len(refs) != 1 || refs[0].SecurityGroupId != web {
		t.Errorf("references = %+v", refs)
	}
	var stats []wire.SecurityGroupAssociationStatistics
	c.json(&stats, "sg", "stats", web)
	if len(stats) != 1 || stats[0].SecurityGroupId != web {
		t.Errorf("stats = %+v", stats)
	}
	c.ok("template", "edit", at.AddressTemplate.AddressTemplateId, "--name", "office-2", "203.0.113.0/25")
	var ats wire.DescribeAddressTemplatesResponse
	c.json(&ats, "call", "DescribeAddressTemplates")
	if len(ats.AddressTemplateSet) != 1 || ats.AddressTemplateSet[0].AddressTemplateName != "office-2" || !reflect.DeepEqual(ats.AddressTemplateSet[0].AddressSet, []string{"203.0.113.0/25"}) {
		t.Errorf("after template edit: %+v", ats.AddressTemplateSet)
	}
	var ports wire.DescribeCommonPortsResponse
	c.json(&ports, "template", "ports")
	if len(ports.PortSet) == 0 || len(ports.BlockedPortSet) == 0 {
		t.Errorf("ports = %+v", ports)
	}

	// The account, raw calls, and the end of the quickstart.
	var acct wire.DescribeAccountResponse
	c.json(&acct, "account", "show")
	if acct.AccountId != srv.AccountID || !acct.Port25Blocked {
		t.Errorf("account show = %+v", acct)
	}
	c.ok("account", "unblock-port25")
	c.json(&acct, "account", "show")
	if acct.Port25Blocked {
		t.Errorf("port 25 still blocked")
	}
	var groups wire.DescribeSecurityGroupsResponse
	c.json(&groups, "call", "DescribeSecurityGroups", "--data", `{"Filters":[{"Name":"security-group-name","Values":["db"]}]}`)
	if len(groups.SecurityGroupSet) != 1 || groups.SecurityGroupSet[0].SecurityGroupId != db {
		t.Errorf("call DescribeSecurityGroups = %+v", groups)
	}
	if e := c.fail("call", "DescribeSecurityGroups", "--data", `{"Limit":"1000"}`); !strings.HasPrefix(e.Code, "InvalidParameterValue") {
		t.Errorf("call with a bad Limit: %+v", e)
	}
	c.ok("sg", "delete", db, fromFile.SecurityGroup.SecurityGroupId, web)
	c.json(&groups, "sg", "list")
	if groups.TotalCount != 1 || groups.SecurityGroupSet[0].SecurityGroupId != def.SecurityGroupId {
		t.Errorf("groups left: %+v, want only the default group", groups.SecurityGroupSet)
	}
}

// TestCLIExportImportRoundTrip exports a group with every kind of peer and
// service in each format and imports it into an empty group: the policy
// sets are identical. --replace then replaces rather than appends.
func TestCLIExportImportRoundTrip(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)
	var at wire.CreateAddressTemplateResponse
	c.json(&at, "template", "create-address", "office", "203.0.113.0/24")
	var st wire.CreateServiceTemplateResponse
	c.json(&st, "template", "create-service", "dns", "udp:53")
	peer := createGroup(c, "peer")
	src := createGroup(c, "src")
	for _, r := range []string{
		"ACCEPT TCP 22 10.0.0.0/8 # ssh, from \"office\"",
		"ACCEPT TCP 80,443 ::/0 # web",
		"DROP UDP 1000-2000 192.168.1.7",
		"ACCEPT ICMP ALL 0.0.0.0/0",
		"ACCEPT ICMPv6 ALL fd00::/8",
		"ACCEPT TCP 3306 " + peer + " # from peers",
		"ACCEPT " + st.ServiceTemplate.ServiceTemplateId + " " + at.AddressTemplate.AddressTemplateId + " # dns from office",
		"DROP ALL ALL 0.0.0.0/0 # 拒绝其他",
	} {
		c.ok("rule", "add", src, "--rule", r)
	}
	c.ok("rule", "add", src, "--direction", "egress", "--rule", "ACCEPT ALL ALL 0.0.0.0/0", "--rule", "DROP TCP 25 ::/0")
	want := c.policies(src)
	dir := t.TempDir()
	for _, format := range []string{"json", "csv", "xlsx"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(dir, "policies."+format)
			c.ok("sg", "export", src, "--file", file)
			dst := createGroup(c, "dst-"+format)
			var res struct{ Action, Version string }
			c.json(&res, "sg", "import", dst, "--file", file)
			got := c.policies(dst)
			if !reflect.DeepEqual(compact(got.Ingress), compact(want.Ingress)) || !reflect.DeepEqual(compact(got.Egress), compact(want.Egress)) {
				t.Fatalf("imported %s:\n ingress %q\n egress %q\nwant\n ingress %q\n egress %q", format, compact(got.Ingress), compact(got.Egress), compact(want.Ingress), compact(want.Egress))
			}
			if res.Version != "1" {
				t.Errorf("import took version %s, want one write (1)", res.Version)
			}
			// Again with --replace: still identical, one more version.
			c.json(&res, "sg", "import", dst, "--file", file, "--replace")
			got = c.policies(dst)
			if !reflect.DeepEqual(compact(got.Ingress), compact(want.Ingress)) || res.Version != "2" {
				t.Errorf("after --replace: version %s, ingress %q", res.Version, compact(got.Ingress))
			}
			// Appending the same policies again is refused whole by the
			// server (duplicates), and changes nothing.
			if e := c.fail("sg", "import", dst, "--file", file); e.Code != "UnsupportedOperation.DuplicatePolicy" {
				t.Errorf("append duplicates: %+v", e)
			}
			if v := c.policies(dst).Version; v != "2" {
				t.Errorf("after a refused append: version %s", v)
			}
		})
	}
	// Exports to standard output are the file's bytes.
	if out := c.ok("sg", "export", src, "--format", "csv"); !strings.HasPrefix(out, "Direction,PolicyIndex,Action") {
		t.Errorf("csv on stdout:\n%s", out)
	}
}

// TestCLIImportRefusesBadRows: a file with bad rows changes nothing, and
// every bad row is named with its row number and field.
func TestCLIImportRefusesBadRows(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)
	id := createGroup(c, "target")
	c.ok("rule", "add", id, "ACCEPT", "TCP", "22", "10.0.0.0/8")
	before := c.policies(id)
	dir := t.TempDir()

	csvFile := filepath.Join(dir, "bad.csv")
	csvText := "Direction,Action,Protocol,Port,CidrBlock,PolicyDescription\n" +
		"INGRESS,ACCEPT,TCP,443,0.0.0.0/0,fine\n" +
		"INGRESS,ACCEPT,TCP,99999,0.0.0.0/0,bad port\n" +
		"SIDEWAYS,ACCEPT,TCP,80,0.0.0.0/0,bad direction\n" +
		"EGRESS,ALLOW,TCP,80,10.0.0.300/8,bad action and cidr\n"
	if err := os.WriteFile(csvFile, []byte(csvText), 0o644); err != nil {
		t.Fatal(err)
	}
	// A JSON export with one policy made bad.
	jsonFile := filepath.Join(dir, "bad.json")
	c.ok("sg", "export", id, "--file", jsonFile)
	b, _ := os.ReadFile(jsonFile)
	b = bytes.Replace(b, []byte(`"Port": "22"`), []byte(`"Port": "22-1"`), 1)
	if err := os.WriteFile(jsonFile, b, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		file string
		want []string
	}{
		{"csv", csvFile, []string{"row 3: Port \"99999\"", "row 4: Direction \"SIDEWAYS\"", "row 5: ", "Action \"ALLOW\"", "CidrBlock \"10.0.0.300/8\""}},
		{"json", jsonFile, []string{"Ingress[0]: Port \"22-1\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := c.fail("sg", "import", id, "--file", tt.file, "--replace")
			for _, w := range tt.want {
				if !strings.Contains(e.Message, w) {
					t.Errorf("error %q does not name %q", e.Message, w)
				}
			}
			if strings.Contains(e.Message, "row 2:") {
				t.Errorf("error names the good row 2: %q", e.Message)
			}
			if after := c.policies(id); after.Version != before.Version || !reflect.DeepEqual(compact(after.Ingress), compact(before.Ingress)) {
				t.Errorf("group changed: version %s → %s", before.Version, after.Version)
			}
		})
	}
	// With -o json each bad field is also a structured row.
	e := c.fail("sg", "import", id, "--file", csvFile)
	var rows []string
	for _, r := range e.Rows {
		rows = append(rows, r.Row+" "+r.Field+" "+r.Value)
	}
	if want := []string{"row 3 Port 99999", "row 4  ", "row 5 CidrBlock 10.0.0.300/8", "row 5 Action ALLOW"}; !reflect.DeepEqual(rows, want) {
		t.Errorf("error rows = %q, want %q", rows, want)
	}
	// Text mode prints one bad row per line on stderr, exit 1.
	_, errOut, code := c.run("sg", "import", id, "--file", csvFile)
	if code != 1 || strings.Count(errOut, "\n  row ") != 3 {
		t.Errorf("text error (exit %d):\n%s", code, errOut)
	}
}

// TestCLIImportRefusesBadXLSXRows: an XLSX with a bad row in each sheet is
// refused whole, each row named by sheet and row number.
func TestCLIImportRefusesBadXLSXRows(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)
	id := createGroup(c, "x")
	c.ok("rule", "add", id, "ACCEPT", "TCP", "22", "10.0.0.0/8")
	before := c.policies(id)
	file := filepath.Join(t.TempDir(), "bad.xlsx")
	writeXLSX(t, file, map[string][][]string{
		"Ingress": {{"Action", "Protocol", "Port", "CidrBlock"}, {"ACCEPT", "TCP", "80", "0.0.0.0/0"}, {"ACCEPT", "TCP", "eighty", "0.0.0.0/0"}},
		"Egress":  {{"Action", "Protocol", "Port", "CidrBlock"}, {"ACCEPT", "ICMP", "ALL", "::/0"}},
	})
	e := c.fail("sg", "import", id, "--file", file)
	for _, w := range []string{"Ingress row 3: Port \"eighty\"", "Egress row 2: CidrBlock"} {
		if !strings.Contains(e.Message, w) {
			t.Errorf("error %q does not name %q", e.Message, w)
		}
	}
	if after := c.policies(id); after.Version != before.Version {
		t.Errorf("group changed: version %s → %s", before.Version, after.Version)
	}
}

// TestCLIErrors: API errors and usage errors exit non-zero, as JSON on
// stderr with -o json (the API's code), as text otherwise.
func TestCLIErrors(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)
	if e := c.fail("sg", "delete", "sg-00000000"); e.Code != "InvalidSecurityGroupID.NotFound" || e.RequestId == "" {
		t.Errorf("not found: %+v", e)
	}
	if e := c.fail("sg", "frobnicate"); e.Code != "ClientError" || !strings.Contains(e.Message, "unknown command") {
		t.Errorf("unknown subcommand: %+v", e)
	}
	if e := c.fail("nosuch"); !strings.Contains(e.Message, "unknown command") {
		t.Errorf("unknown command: %+v", e)
	}
	if e := c.fail("rule", "add", "sg-00000000", "ACCEPT", "TCP", "70000", "0.0.0.0/0"); !strings.Contains(e.Message, "70000") {
		t.Errorf("bad compact rule: %+v", e)
	}
	if e := c.with("PALISADE_SECRET_KEY=wrong").fail("sg", "list"); e.Code != "AuthFailure.SignatureFailure" {
		t.Errorf("wrong key: %+v", e)
	}
	_, errOut, code := c.run("sg", "delete", "sg-00000000")
	if code != 1 || !strings.HasPrefix(errOut, "palisade: InvalidSecurityGroupID.NotFound: ") {
		t.Errorf("text error (exit %d): %q", code, errOut)
	}
	if _, errOut, code := c.run("sg", "list", "-o", "yaml"); code == 0 || !strings.Contains(errOut, "yaml") {
		t.Errorf("-o yaml: exit %d %q", code, errOut)
	}
}

// TestCLIConfigPrecedence: flags over environment over profile over
// defaults, the profile chosen by --profile or PALISADE_PROFILE, the file
// written with mode 0600.
func TestCLIConfigPrecedence(t *testing.T) {
	srv := palisadetest.NewServer(t)
	bare := newCLI(t, nil)
	bare.ok("configure", "--endpoint", srv.Endpoint, "--secret-id", srv.SecretID, "--secret-key", srv.SecretKey)
	bare.ok("configure", "--profile", "broken", "--endpoint", srv.Endpoint, "--secret-id", srv.SecretID, "--secret-key", "not-the-key", "--region", "ap-shanghai")
	var home string
	for _, e := range bare.env {
		if v, ok := strings.CutPrefix(e, "XDG_CONFIG_HOME="); ok {
			home = v
		}
	}
	fi, err := os.Stat(filepath.Join(home, "palisade", "config.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v", err, fi.Mode())
	}
	createGroup(bare, "in-guangzhou")

	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode string // "" for success
		wantN    uint64
	}{
		{"default profile", nil, nil, "", 1},
		{"named profile by flag", nil, []string{"--profile", "broken"}, "AuthFailure.SignatureFailure", 0},
		{"named profile by env", []string{"PALISADE_PROFILE=broken"}, nil, "AuthFailure.SignatureFailure", 0},
		{"env key over profile", []string{"PALISADE_PROFILE=broken", "PALISADE_SECRET_KEY=" + srv.SecretKey}, nil, "", 0}, // region from the profile: ap-shanghai
		{"flag key over env", []string{"PALISADE_SECRET_KEY=" + srv.SecretKey}, []string{"--secret-key", "wrong"}, "AuthFailure.SignatureFailure", 0},
		{"flag region over profile", []string{"PALISADE_PROFILE=broken", "PALISADE_SECRET_KEY=" + srv.SecretKey}, []string{"--region", "ap-guangzhou"}, "", 1},
		{"env region over profile", []string{"PALISADE_PROFILE=broken", "PALISADE_SECRET_KEY=" + srv.SecretKey, "PALISADE_REGION=ap-guangzhou"}, nil, "", 1},
		{"unknown profile", nil, []string{"--profile", "nope"}, "ClientError", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := bare.with(tt.env...)
			args := append([]string{"sg", "list"}, tt.args...)
			if tt.wantCode != "" {
				if e := c.fail(args...); e.Code != tt.wantCode {
					t.Errorf("error %+v, want %s", e, tt.wantCode)
				}
				return
			}
			var resp wire.DescribeSecurityGroupsResponse
			c.json(&resp, args...)
			if resp.TotalCount != tt.wantN {
				t.Errorf("%d groups, want %d", resp.TotalCount, tt.wantN)
			}
		})
	}
	// A config file that does not parse is an error naming it.
	if err := os.WriteFile(filepath.Join(home, "palisade", "config.json"), []byte(`{"Profiles": {"default": {"Endpont": "x"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if e := bare.fail("sg", "list"); !strings.Contains(e.Message, "config.json") || !strings.Contains(e.Message, "Endpont") {
		t.Errorf("bad config: %+v", e)
	}
}

// startServe runs palisade serve with args until the test ends and
// returns its endpoint and everything it printed up to the line
// starting with until.
func startServe(t *testing.T, c *cli, until string, args ...string) (endpoint, printed string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = c.env
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var b strings.Builder
	addr := regexp.MustCompile(`Serving the API at (http://\S+) `)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve %q exited; printed:\n%s", args, b.String())
			}
			b.WriteString(line + "\n")
			if m := addr.FindStringSubmatch(line); m != nil {
				endpoint = m[1]
			}
			if strings.HasPrefix(strings.TrimSpace(line), until) {
				go func() {
					for range lines {
					}
				}()
				return endpoint, b.String()
			}
		case <-deadline:
			t.Fatalf("serve %q: no %q line in time; printed:\n%s", args, until, b.String())
		}
	}
}

// TestServeDev runs serve --dev as a user testing infrastructure code
// would: the printed fixed credentials see the seeded demo.
func TestServeDev(t *testing.T) {
	c := newCLI(t, nil)
	_, printed := startServe(t, c, "export PALISADE_ENDPOINT=", "--dev")
	m := regexp.MustCompile(`export (PALISADE_ENDPOINT=\S+) (PALISADE_SECRET_ID=\S+) (PALISADE_SECRET_KEY=\S+)`).FindStringSubmatch(printed)
	if m == nil || !strings.Contains(printed, "AKIDPALISADEDEVDEMO0000000000000") {
		t.Fatalf("serve --dev printed:\n%s", printed)
	}
	dev := c.with(m[1], m[2], m[3])
	var groups wire.DescribeSecurityGroupsResponse
	dev.json(&groups, "sg", "list")
	if groups.TotalCount != 3 {
		t.Errorf("demo groups: %+v", groups.SecurityGroupSet)
	}
	var list wire.DescribeInstancesResponse
	dev.json(&list, "instance", "list")
	if len(list.InstanceSet) != 4 {
		t.Errorf("demo instances: %d", len(list.InstanceSet))
	}
	// --dev refuses an address other machines reach, and a --db.
	for _, args := range [][]string{{"serve", "--dev", "--listen", "0.0.0.0:0"}, {"serve", "--dev", "--db", "sqlite:x.db"}} {
		if _, errOut, code := c.run(args...); code == 0 || (!strings.Contains(errOut, "loopback") && !strings.Contains(errOut, "--db")) {
			t.Errorf("%q: exit %d, %q", args, code, errOut)
		}
	}
}

// TestServeBootstrapPreset: a CI job presets the first admin's credential
// through the environment and uses it without reading stdout; the secret
// key is never printed.
func TestServeBootstrapPreset(t *testing.T) {
	const id, key = "AKIDCIJOB0000001", "ci-secret-key-0123456789"
	dir := t.TempDir()
	c := newCLI(t, nil).with("PALISADE_BOOTSTRAP_SECRET_ID="+id, "PALISADE_BOOTSTRAP_SECRET_KEY="+key)
	endpoint, printed := startServe(t, c, "Serving the API", "--db", "sqlite:"+filepath.Join(dir, "p.db"))
	if strings.Contains(printed, key) || !strings.Contains(printed, id) {
		t.Errorf("serve printed:\n%s", printed)
	}
	user := newCLI(t, nil).with("PALISADE_ENDPOINT="+endpoint, "PALISADE_SECRET_ID="+id, "PALISADE_SECRET_KEY="+key)
	createGroup(user, "from-ci")
	if _, errOut, code := newCLI(t, nil).run("serve", "--db", "sqlite:"+filepath.Join(dir, "q.db"), "--bootstrap-secret-id", id); code == 0 || !strings.Contains(errOut, "go together") {
		t.Errorf("id without key: exit %d %q", code, errOut)
	}
}

// TestAdminOperatorCommands runs the operator commands on the store of a
// running server: listing and deleting accounts and hosts, and rotating a
// credential without downtime.
func TestAdminOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "p.db")
	const id, key = "AKIDADMINROTATE01", "rotate-secret-key-0123456789"
	op := newCLI(t, nil).with("PALISADE_DB=" + db)
	endpoint, _ := startServe(t, op.with("PALISADE_BOOTSTRAP_SECRET_ID="+id, "PALISADE_BOOTSTRAP_SECRET_KEY="+key), "Serving the API")
	user := newCLI(t, nil).with("PALISADE_ENDPOINT="+endpoint, "PALISADE_SECRET_ID="+id, "PALISADE_SECRET_KEY="+key)

	var accounts []struct{ AccountId, Name string }
	op.json(&accounts, "admin", "account", "list")
	if len(accounts) != 1 || accounts[0].Name != "admin" {
		t.Fatalf("accounts: %+v", accounts)
	}
	admin := accounts[0].AccountId
	var acme struct{ AccountId, SecretId, SecretKey string }
	op.json(&acme, "admin", "account", "create", "acme")
	if e := op.fail("admin", "account", "create", "acme"); !strings.Contains(e.Message, "taken") {
		t.Errorf("duplicate account name: %+v", e)
	}
	createGroup(user, "keep")
	if e := op.fail("admin", "account", "delete", admin); !strings.Contains(e.Message, "1 security groups") {
		t.Errorf("delete an account with a group: %+v", e)
	}
	op.ok("admin", "account", "delete", acme.AccountId)
	op.json(&accounts, "admin", "account", "list")
	if len(accounts) != 1 {
		t.Errorf("after delete: %+v", accounts)
	}

	// Rotation: both keys work until the old one is disabled.
	var rot struct{ SecretId, SecretKey, Replaces string }
	op.json(&rot, "admin", "credential", "rotate", id)
	fresh := user.with("PALISADE_SECRET_ID="+rot.SecretId, "PALISADE_SECRET_KEY="+rot.SecretKey)
	user.ok("sg", "list")
	fresh.ok("sg", "list")
	var creds []struct {
		SecretId string
		Disabled bool
	}
	op.json(&creds, "admin", "credential", "list", "--account", admin)
	if len(creds) != 2 || rot.Replaces != id {
		t.Errorf("credentials after rotate: %+v (%+v)", creds, rot)
	}
	op.ok("admin", "credential", "disable", id)
	if e := user.fail("sg", "list"); e.Code != "AuthFailure.SecretIdNotFound" {
		t.Errorf("disabled credential: %+v", e)
	}
	fresh.ok("sg", "list")
	op.ok("admin", "credential", "enable", id)
	user.ok("sg", "list")
	op.ok("admin", "credential", "delete", id)
	if e := user.fail("sg", "list"); e.Code != "AuthFailure.SecretIdNotFound" {
		t.Errorf("deleted credential: %+v", e)
	}
	if e := op.fail("admin", "credential", "delete", id); !strings.Contains(e.Message, id) {
		t.Errorf("delete twice: %+v", e)
	}

	// Hosts: refused while an instance is placed on one.
	var host struct{ HostId string }
	op.json(&host, "admin", "host", "create", "hv-1")
	var plat struct{ SecretId, SecretKey string }
	op.json(&plat, "admin", "platform-key", "create")
	var reg wire.RegisterInstancesResponse
	fresh.with("PALISADE_SECRET_ID="+plat.SecretId, "PALISADE_SECRET_KEY="+plat.SecretKey).json(&reg,
		"instance", "register", "vm", "--account", admin, "--zone", "ap-guangzhou-3", "--ip", "10.0.0.9", "--host", host.HostId)
	if e := op.fail("admin", "host", "delete", host.HostId); !strings.Contains(e.Message, reg.InstanceIdSet[0]) {
		t.Errorf("delete a host with an instance: %+v", e)
	}
	op.json(&host, "admin", "host", "create", "hv-2")
	op.ok("admin", "host", "delete", host.HostId)
	var hosts []struct{ HostId, Name string }
	op.json(&hosts, "admin", "host", "list")
	if len(hosts) != 1 || hosts[0].Name != "hv-1" {
		t.Errorf("hosts: %+v", hosts)
	}
}

// TestCLIVersionDocsCompletion: version from the build info, man pages
// for every command, shell completion.
func TestCLIVersionDocsCompletion(t *testing.T) {
	c := newCLI(t, nil)
	v := c.ok("version")
	if !strings.HasPrefix(v, "palisade ") || !strings.Contains(v, "go1.") {
		t.Errorf("version = %q", v)
	}
	if got := c.ok("--version"); got != v {
		t.Errorf("--version = %q, version = %q", got, v)
	}
	dir := t.TempDir()
	c.ok("docs", "man", dir)
	for _, page := range []string{"palisade.1", "palisade-sg-import.1", "palisade-rule-add.1", "palisade-admin-credential-rotate.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("man page %s: %v", page, err)
			continue
		}
		if !bytes.HasPrefix(b, []byte(".TH ")) || !bytes.Contains(b, []byte(".SH SYNOPSIS")) {
			t.Errorf("man page %s:\n%s", page, b)
		}
	}
	if out := c.ok("completion", "bash"); !strings.Contains(out, "__start_palisade") {
		t.Errorf("bash completion: %.200s", out)
	}
	if out := c.ok("__complete", "sg", ""); !strings.Contains(out, "import") || !strings.Contains(out, "export") {
		t.Errorf("completion of sg: %q", out)
	}
	// Ids complete from the API.
	srv := palisadetest.NewServer(t)
	api := newCLI(t, srv)
	id := createGroup(api, "completed")
	for _, args := range [][]string{{"__complete", "sg", "show", ""}, {"__complete", "rule", "add", ""}, {"__complete", "instance", "bind", "ins-x", "--group", ""}} {
		if out := api.ok(args...); !strings.Contains(out, id+"\tcompleted") {
			t.Errorf("%q: %q, want %s", args, out, id)
		}
	}
}

// writeXLSX writes a workbook with the given sheets and rows.
func writeXLSX(t testing.TB, file string, sheets map[string][][]string) {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	first := true
	for _, name := range []string{"Ingress", "Egress"} {
		rows, ok := sheets[name]
		if !ok {
			continue
		}
		if first {
			if err := x.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
			first = false
		} else if _, err := x.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			cells := make([]any, len(r))
			for j, v := range r {
				cells[j] = v
			}
			ref, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := x.SetSheetRow(name, ref, &cells); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := x.SaveAs(file); err != nil {
		t.Fatal(err)
	}
}
