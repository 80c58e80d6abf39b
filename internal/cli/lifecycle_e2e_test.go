package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/palisadetest"
	"github.com/palisade-sg/palisade/wire"
)

// lifecycle lists a direction's policies as rule content with Palisade's
// Disabled and ExpiresAt.
func lifecycle(ps []wire.SecurityGroupPolicy) []string {
	out := compact(ps)
	for i, p := range ps {
		if p.Disabled {
			out[i] += "|disabled"
		}
		if p.ExpiresAt != "" {
			out[i] += "|expires " + p.ExpiresAt
		}
	}
	return out
}

// TestCLIDisableEnableExpire disables and re-enables a policy with the
// binary (a disabled policy does not match; enabled again it does), adds
// an expiring one with --expires, and round-trips both fields through
// every export format.
func TestCLIDisableEnableExpire(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)
	sg := createGroup(c, "life")
	c.ok("rule", "add", sg, "ACCEPT", "tcp", "22", "10.0.0.0/8", "ssh")
	before := time.Now().UTC().Truncate(time.Second)
	c.ok("rule", "add", sg, "ACCEPT", "tcp", "80", "0.0.0.0/0", "--expires", "2h")
	plat := c.with("PALISADE_SECRET_ID="+srv.PlatformSecretID, "PALISADE_SECRET_KEY="+srv.PlatformSecretKey)
	var reg wire.RegisterInstancesResponse
	plat.json(&reg, "instance", "register", "vm", "--account", srv.AccountID, "--zone", "ap-guangzhou-3", "--ip", "10.0.1.5")
	ins := reg.InstanceIdSet[0]
	c.ok("instance", "bind", ins, "--group", sg)
	simulate := func() string {
		t.Helper()
		var sim wire.SimulateTrafficResponse
		c.json(&sim, "simulate", ins, "--protocol", "tcp", "--port", "22", "--address", "10.9.9.9")
		return sim.Verdict + " " + sim.Layer
	}

	ps := c.policies(sg).Ingress
	exp, err := time.Parse(time.RFC3339, ps[1].ExpiresAt)
	if err != nil || exp.Before(before.Add(2*time.Hour)) || exp.After(before.Add(2*time.Hour+time.Minute)) || ps[0].ExpiresAt != "" {
		t.Fatalf("after rule add --expires 2h: %q, want policy 1 expiring two hours from now", lifecycle(ps))
	}
	steps := []struct {
		name     string
		args     []string
		verdict  string
		disabled bool
	}{
		{"enabled", nil, "ACCEPT SECURITY_GROUP", false},
		{"disabled", []string{"rule", "disable", sg, "--direction", "ingress", "0"}, "DROP DEFAULT", true},
		{"enabled again", []string{"rule", "enable", sg, "0"}, "ACCEPT SECURITY_GROUP", false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.args != nil {
				c.ok(st.args...)
			}
			if got := simulate(); got != st.verdict {
				t.Errorf("simulate tcp 22 = %s, want %s", got, st.verdict)
			}
			ps := c.policies(sg).Ingress
			if len(ps) != 2 || ps[0].Disabled != st.disabled || ps[1].ExpiresAt == "" {
				t.Errorf("policies = %q: want two, the first disabled = %v, the second still expiring", lifecycle(ps), st.disabled)
			}
		})
	}
	c.ok("rule", "disable", sg, "0")
	if text := c.ok("rule", "list", sg); !strings.Contains(text, "ssh [disabled]") || !strings.Contains(text, "[expires "+ps[1].ExpiresAt+"]") {
		t.Errorf("rule list shows neither state:\n%s", text)
	}
	var h wire.DescribeSecurityGroupHistoryResponse
	c.json(&h, "history", "list", sg, "--limit", "1")
	if d := h.HistorySet[0].Diff; !strings.HasSuffix(d, "+ Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh [disabled]") {
		t.Errorf("history of the disable: %q", d)
	}

	want := lifecycle(c.policies(sg).Ingress)
	dir := t.TempDir()
	for _, format := range []string{"json", "csv", "xlsx"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(dir, "life."+format)
			c.ok("sg", "export", sg, "--file", file)
			dst := createGroup(c, "life-"+format)
			c.ok("sg", "import", dst, "--file", file)
			if got := lifecycle(c.policies(dst).Ingress); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("imported %s: %q, want %q", format, got, want)
			}
		})
	}

	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("Direction,Action,Protocol,Port,CidrBlock,Disabled,ExpiresAt\n"+
		"INGRESS,ACCEPT,TCP,443,0.0.0.0/0,maybe,\nINGRESS,ACCEPT,TCP,444,0.0.0.0/0,,tomorrow\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := c.fail("sg", "import", sg, "--file", bad)
	if len(e.Rows) != 2 || e.Rows[0].Row != "row 2" || e.Rows[0].Field != "Disabled" || e.Rows[1].Row != "row 3" || e.Rows[1].Field != "ExpiresAt" {
		t.Errorf("import of bad lifecycle cells: %+v, want row 2 Disabled and row 3 ExpiresAt", e)
	}
	for _, args := range [][]string{
		{"rule", "add", sg, "ACCEPT", "tcp", "443", "0.0.0.0/0", "--expires", "-1h"},
		{"rule", "add", sg, "ACCEPT", "tcp", "443", "0.0.0.0/0", "--expires", "soon"},
		{"rule", "disable", sg, "7"},
	} {
		if e := c.fail(args...); e.Code != "ClientError" {
			t.Errorf("palisade %s: %+v, want a ClientError", strings.Join(args, " "), e)
		}
	}
	if e := c.fail("rule", "add", sg, "ACCEPT", "tcp", "443", "0.0.0.0/0", "--expires", "2020-01-01T00:00:00Z"); e.Code != "InvalidParameterValue.Range" || !strings.Contains(e.Message, "ExpiresAt") {
		t.Errorf("an expiry in the past: %+v, want InvalidParameterValue.Range naming ExpiresAt", e)
	}
}
