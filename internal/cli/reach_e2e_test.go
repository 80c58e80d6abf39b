package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/palisadetest"
	"github.com/palisade-sg/palisade/wire"
)

// TestCLIReachPreviewGuard drives reach, preview, --force,
// --confirm-within and confirm against a real server.
func TestCLIReachPreviewGuard(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)
	web := createGroup(c, "web")
	c.ok("rule", "add", web, "ACCEPT", "tcp", "22", "127.0.0.0/8", "ssh from here")
	c.ok("rule", "add", web, "ACCEPT", "tcp", "3306", "10.0.0.0/8")
	plat := c.with("PALISADE_SECRET_ID="+srv.PlatformSecretID, "PALISADE_SECRET_KEY="+srv.PlatformSecretKey)
	var reg wire.RegisterInstancesResponse
	plat.json(&reg, "instance", "register", "db-1", "--account", srv.AccountID, "--zone", "ap-guangzhou-3", "--ip", "10.0.1.5")
	ins := reg.InstanceIdSet[0]
	c.ok("instance", "bind", ins, "--group", web)

	// reach: the group admits 3306 from 10.0.0.0/8, the guest rejects it.
	fw, err := os.ReadFile(filepath.Join("..", "analysis", "guestfw", "testdata", "simple.iptables"))
	if err != nil {
		t.Fatal(err)
	}
	fwFile := filepath.Join(t.TempDir(), "db-1.rules")
	if err := os.WriteFile(fwFile, fw, 0o600); err != nil {
		t.Fatal(err)
	}
	var r wire.CheckReachabilityResponse
	c.json(&r, "reach", "10.9.9.9", ins, "--port", "3306", "--destination-firewall", fwFile)
	if r.Answer != "BLOCKED" || r.BlockingLeg != "DESTINATION_GUEST_FIREWALL" || len(r.Legs) != 5 {
		t.Errorf("reach 3306 = %+v", r)
	}
	text := c.ok("reach", "10.9.9.9", ins, "--port", "3306", "--destination-firewall", fwFile)
	if !strings.Contains(text, "BLOCKED at DESTINATION_GUEST_FIREWALL") || !strings.Contains(text, "--dport 3306") || !strings.Contains(text, web+" policy 1") {
		t.Errorf("reach text:\n%s", text)
	}

	// preview: a file proposing 3306 from 10.1.0.0/16 only.
	set := filepath.Join(t.TempDir(), "web.json")
	if err := os.WriteFile(set, []byte(`{"Ingress":[{"Protocol":"TCP","Port":"22","CidrBlock":"127.0.0.0/8","Action":"ACCEPT"},{"Protocol":"TCP","Port":"3306","CidrBlock":"10.1.0.0/16","Action":"ACCEPT"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var p wire.PreviewSecurityGroupChangeResponse
	c.json(&p, "preview", web, "--file", set)
	if p.TotalCount != 1 || len(p.InstanceSet[0].IngressLosses) != 2 || len(p.InstanceSet[0].IngressGains) != 0 {
		t.Fatalf("preview = %+v", p)
	}
	text = c.ok("preview", web, "--file", set)
	if !strings.Contains(text, "LOSES") || !strings.Contains(text, "10.0.0.0/16") || !strings.Contains(text, "10.2.0.0-10.255.255.255") {
		t.Errorf("preview text:\n%s", text)
	}

	// A write confirmed in time (lockout protection is tested through the
	// API: this client's requests come from loopback, which it does not
	// check).
	c.ok("instance", "unbind", ins, "--group", web, "--force")
	var w wire.PolicyWriteResponse
	c.json(&w, "rule", "delete", web, "--index", "0", "--force", "--confirm-within", "10m")
	if w.ConfirmBy == "" {
		t.Errorf("rule delete --confirm-within answered %+v", w)
	}
	if out := c.ok("confirm", web, w.Version); !strings.Contains(out, "confirmed") {
		t.Errorf("confirm: %s", out)
	}
	if e := c.fail("confirm", web, w.Version); e.Code != "ResourceNotFound" {
		t.Errorf("confirming twice: %+v", e)
	}
}
