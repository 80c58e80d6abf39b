package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/backend"
)

// startServe runs Serve on 127.0.0.1:0 and returns its address, what it
// printed by the time it was ready, and a stop function that cancels it and
// returns Serve's error.
func startServe(t *testing.T, cfg ServeConfig) (string, string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	cfg.Listen = "127.0.0.1:0"
	cfg.Ready = func(a net.Addr) { ready <- a }
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, &out, slog.New(slog.DiscardHandler)) }()
	select {
	case a := <-ready:
		stop := func() error {
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(15 * time.Second):
				t.Fatal("Serve did not return after cancel")
				return nil
			}
		}
		return a.String(), out.String(), stop
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("Serve did not become ready")
	}
	return "", "", nil
}

var credLine = regexp.MustCompile(`SecretId:\s+(\S+)\s+SecretKey:\s+(\S+)`)

func TestServeBootstrapsOnceAndShutsDown(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "palisade.db")
	addr, printed, stop := startServe(t, ServeConfig{DSN: dsn, PlatformAddresses: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}})
	m := credLine.FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("first start printed no credentials: %q", printed)
	}
	c := client.New(addr, m[1], m[2], "ap-guangzhou")
	var limits struct {
		SecurityGroupLimitSet struct{ SecurityGroupLimit int }
	}
	if err := callJSON(context.Background(), c, "vpc", "DescribeSecurityGroupLimits", nil, &limits); err != nil {
		t.Fatalf("the printed credentials do not work: %v", err)
	}
	if limits.SecurityGroupLimitSet.SecurityGroupLimit != 50 {
		t.Errorf("limits = %+v", limits)
	}
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
	// The platform address given to serve is in the store, where the
	// operator's commands see it.
	var listed bytes.Buffer
	if err := Run(context.Background(), []string{"admin", "platform-address", "list", "--db", dsn, "-o", "json"}, &listed, io.Discard); err != nil {
		t.Fatalf("admin platform-address list: %v", err)
	}
	if !strings.Contains(listed.String(), `"169.254.0.0/16"`) {
		t.Errorf("admin platform-address list after serve --platform-address 169.254.0.0/16 = %s", listed.String())
	}

	// Second start on the same store: no new admin, the old one still works.
	addr, printed, stop = startServe(t, ServeConfig{DSN: dsn})
	defer stop()
	if credLine.MatchString(printed) {
		t.Errorf("second start printed credentials again: %q", printed)
	}
	c = client.New(addr, m[1], m[2], "ap-guangzhou")
	if _, err := c.DescribeSecurityGroupLimits(context.Background(), nil); err != nil {
		t.Errorf("admin after restart: %v", err)
	}
}

// demoPolicy is a described policy, the fields the demo sets.
type demoPolicy struct {
	Protocol, Port, CidrBlock, Ipv6CidrBlock, SecurityGroupId, Action, PolicyDescription string
	AddressTemplate                                                                      struct{ AddressId, AddressGroupId string }
	ServiceTemplate                                                                      struct{ ServiceId, ServiceGroupId string }
}

// line renders p as "ACTION PROTO PORT PEER # desc", with ids replaced by
// the names in names.
func (p demoPolicy) line(names map[string]string) string {
	peer := p.CidrBlock + p.Ipv6CidrBlock + p.SecurityGroupId + p.AddressTemplate.AddressId + p.AddressTemplate.AddressGroupId
	if n, ok := names[peer]; ok {
		peer = n
	}
	svc := p.Protocol + " " + p.Port
	if id := p.ServiceTemplate.ServiceId + p.ServiceTemplate.ServiceGroupId; id != "" {
		svc = names[id]
	}
	return p.Action + " " + svc + " " + peer + " # " + p.PolicyDescription
}

func TestServeDemo(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	dsn := "sqlite:" + path
	addr, printed, stop := startServe(t, ServeConfig{DSN: dsn, Demo: true})
	all := credLine.FindAllStringSubmatch(printed, -1)
	if len(all) != 2 {
		t.Fatalf("want admin and demo credentials, printed %q", printed)
	}
	if n := strings.Count(printed, "Created the admin account"); n != 1 {
		t.Errorf("admin account announced %d times: %q", n, printed)
	}
	seeded := regexp.MustCompile(`Seeded the demo account (acc-\S+) \(4 instances, 3 groups\)`).FindStringSubmatch(printed)
	if seeded == nil {
		t.Fatalf("no demo announcement in %q", printed)
	}
	demoID := seeded[1]
	admin := client.New(addr, all[0][1], all[0][2], "ap-guangzhou")
	if _, err := admin.DescribeSecurityGroupLimits(ctx, nil); err != nil {
		t.Errorf("a signed call with the printed admin credentials: %v", err)
	}
	demo := client.New(addr, all[1][1], all[1][2], "ap-guangzhou")
	// signed holds the bodies signed in the current second: the same body
	// for another action is a replay until the next second.
	signed := map[string]bool{}
	call := func(service, action string, req, resp any) {
		t.Helper()
		body, _ := json.Marshal(req)
		if key := service + " " + string(body); signed[key] {
			now := time.Now()
			time.Sleep(now.Truncate(time.Second).Add(time.Second + 5*time.Millisecond).Sub(now))
			clear(signed)
		}
		signed[service+" "+string(body)] = true
		if err := callJSON(ctx, demo, service, action, req, resp); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}

	// Templates.
	var addrs struct {
		AddressTemplateSet []struct {
			AddressTemplateId, AddressTemplateName string
			AddressSet                             []string
		}
	}
	call("vpc", "DescribeAddressTemplates", nil, &addrs)
	var svcs struct {
		ServiceTemplateSet []struct {
			ServiceTemplateId, ServiceTemplateName string
			ServiceSet                             []string
		}
	}
	call("vpc", "DescribeServiceTemplates", nil, &svcs)
	if len(addrs.AddressTemplateSet) != 1 || len(svcs.ServiceTemplateSet) != 1 {
		t.Fatalf("templates = %+v %+v, want one address and one service template", addrs, svcs)
	}
	office, ports := addrs.AddressTemplateSet[0], svcs.ServiceTemplateSet[0]
	if office.AddressTemplateName != "office" || !slices.Equal(office.AddressSet, []string{"203.0.113.0/24", "198.51.100.10-198.51.100.20"}) {
		t.Errorf("address template = %+v", office)
	}
	if ports.ServiceTemplateName != "web-ports" || !slices.Equal(ports.ServiceSet, []string{"tcp:80,443"}) {
		t.Errorf("service template = %+v", ports)
	}

	// Groups, in creation order.
	var groups struct {
		TotalCount       int
		SecurityGroupSet []struct{ SecurityGroupId, SecurityGroupName string }
	}
	call("vpc", "DescribeSecurityGroups", nil, &groups)
	var names []string
	byName := map[string]string{}                                                                          // group name -> id
	idNames := map[string]string{office.AddressTemplateId: "office", ports.ServiceTemplateId: "web-ports"} // id -> name
	for _, g := range groups.SecurityGroupSet {
		names = append(names, g.SecurityGroupName)
		byName[g.SecurityGroupName] = g.SecurityGroupId
		idNames[g.SecurityGroupId] = g.SecurityGroupName
	}
	if groups.TotalCount != 3 || !slices.Equal(names, []string{"demo-open-common", "demo-web", "demo-db"}) {
		t.Fatalf("groups = %d %q, want demo-open-common, demo-web, demo-db", groups.TotalCount, names)
	}
	allOut := []string{"ACCEPT ALL ALL 0.0.0.0/0 # all outbound traffic", "ACCEPT ALL ALL ::/0 # all outbound traffic"}
	wantPolicies := map[string][2][]string{
		"demo-open-common": {{
			"ACCEPT TCP 3389 0.0.0.0/0 # Windows remote desktop", "ACCEPT TCP 3389 ::/0 # Windows remote desktop",
			"ACCEPT TCP 22 0.0.0.0/0 # Linux SSH login", "ACCEPT TCP 22 ::/0 # Linux SSH login",
			"ACCEPT TCP 80,443 0.0.0.0/0 # web service", "ACCEPT TCP 80,443 ::/0 # web service",
			"ACCEPT ICMP ALL 0.0.0.0/0 # ping", "ACCEPT ICMPv6 ALL ::/0 # ping",
			"ACCEPT ALL ALL 10.0.0.0/8 # private network", "ACCEPT ALL ALL 172.16.0.0/12 # private network", "ACCEPT ALL ALL 192.168.0.0/16 # private network",
		}, allOut},
		"demo-web": {{
			"ACCEPT TCP 80,443 0.0.0.0/0 # web service", "ACCEPT TCP 80,443 ::/0 # web service",
			"ACCEPT TCP 22 office # SSH from the office",
		}, allOut},
		"demo-db": {{
			"ACCEPT TCP 3306 demo-web # MySQL from web servers",
			"ACCEPT TCP 22 office # SSH from the office",
			"DROP ALL ALL 0.0.0.0/0 # nothing else",
		}, {"ACCEPT ALL ALL 10.0.0.0/8 # private network only"}},
	}
	for name, want := range wantPolicies {
		var res struct {
			SecurityGroupPolicySet struct{ Ingress, Egress []demoPolicy }
		}
		call("vpc", "DescribeSecurityGroupPolicies", map[string]any{"SecurityGroupId": byName[name]}, &res)
		for i, list := range [][]demoPolicy{res.SecurityGroupPolicySet.Ingress, res.SecurityGroupPolicySet.Egress} {
			var got []string
			for _, p := range list {
				got = append(got, p.line(idNames))
			}
			if !slices.Equal(got, want[i]) {
				t.Errorf("%s %s = %q, want %q", name, []string{"ingress", "egress"}[i], got, want[i])
			}
		}
	}
	var refs struct {
		ReferredSecurityGroupSet []struct {
			SecurityGroupId          string
			ReferredSecurityGroupIds []string
		}
	}
	call("vpc", "DescribeSecurityGroupReferences", map[string]any{"SecurityGroupIds": []string{byName["demo-web"]}}, &refs)
	if len(refs.ReferredSecurityGroupSet) != 1 || !slices.Equal(refs.ReferredSecurityGroupSet[0].ReferredSecurityGroupIds, []string{byName["demo-db"]}) {
		t.Errorf("references to demo-web = %+v, want demo-db", refs)
	}

	// Instances: running, in their zones, with their ordered groups.
	var instances struct {
		TotalCount  int
		InstanceSet []struct {
			InstanceId, InstanceName, InstanceState, OsType string
			Placement                                       struct{ Zone string }
			PrivateIpAddresses                              []string
			SecurityGroupIds                                []string
		}
	}
	call("cvm", "DescribeInstances", nil, &instances)
	wantInstances := []struct {
		name, os, zone, ip string
		groups             []string
	}{
		{"web-1", "linux", "ap-guangzhou-3", "10.0.1.11", []string{"demo-web", "demo-open-common"}},
		{"web-2", "linux", "ap-guangzhou-4", "10.0.2.12", []string{"demo-web"}},
		{"db-1", "linux", "ap-guangzhou-6", "10.0.3.21", []string{"demo-db"}},
		{"win-1", "windows", "ap-guangzhou-3", "10.0.1.31", []string{"demo-open-common"}},
	}
	if instances.TotalCount != len(wantInstances) || len(instances.InstanceSet) != len(wantInstances) {
		t.Fatalf("instances = %+v, want %d", instances, len(wantInstances))
	}
	insID := map[string]string{}
	for i, w := range wantInstances {
		in := instances.InstanceSet[i]
		insID[in.InstanceName] = in.InstanceId
		var gs []string
		for _, id := range in.SecurityGroupIds {
			gs = append(gs, idNames[id])
		}
		if in.InstanceName != w.name || in.InstanceState != "RUNNING" || in.OsType != w.os || in.Placement.Zone != w.zone ||
			!slices.Equal(in.PrivateIpAddresses, []string{w.ip}) || !slices.Equal(gs, w.groups) {
			t.Errorf("instance %d = %+v groups %q, want %s %s %s %s RUNNING %q", i, in, gs, w.name, w.os, w.zone, w.ip, w.groups)
		}
	}

	// A verdict: web-1 reaches MySQL on db-1 through the group reference;
	// the Internet does not.
	for _, tt := range []struct {
		name, from, verdict string
		index               int
	}{
		{"from web-1", "10.0.1.11", "ACCEPT", 0},
		{"from the Internet", "198.18.0.1", "DROP", 2},
	} {
		var v struct {
			Verdict, Layer, SecurityGroupId string
			PolicyIndex                     *int
		}
		call("palisade", "SimulateTraffic", map[string]any{
			"InstanceId": insID["db-1"], "Direction": "INGRESS", "Protocol": "TCP", "Address": tt.from, "Port": 3306}, &v)
		if v.Verdict != tt.verdict || v.Layer != "SECURITY_GROUP" || v.SecurityGroupId != byName["demo-db"] || v.PolicyIndex == nil || *v.PolicyIndex != tt.index {
			t.Errorf("SimulateTraffic db-1 TCP 3306 %s = %+v, want %s by demo-db policy %d", tt.name, v, tt.verdict, tt.index)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// Again with --demo: the demo exists, nothing new is created or printed.
	addr, printed, stop = startServe(t, ServeConfig{DSN: dsn, Demo: true})
	defer stop()
	if credLine.MatchString(printed) || strings.Contains(printed, "Created the admin account") {
		t.Errorf("second start printed credentials: %q", printed)
	}
	if !strings.Contains(printed, "The demo account "+demoID+" exists already") {
		t.Errorf("second start printed %q, want that the demo account %s exists", printed, demoID)
	}
	demo = client.New(addr, all[1][1], all[1][2], "ap-guangzhou")
	call("vpc", "DescribeSecurityGroups", nil, &groups)
	if groups.TotalCount != 3 {
		t.Errorf("the demo account has %d groups after a second start, want 3", groups.TotalCount)
	}
	st, err := backend.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.View(ctx, func(tx store.Tx) error {
		n, err := tx.CountAccounts(ctx)
		if err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("%d accounts after two starts with --demo, want the admin's and one demo", n)
		}
		a, err := tx.FindAccountByName(ctx, "demo")
		if err != nil {
			return err
		}
		if a.ID != demoID {
			t.Errorf("demo account %s, want %s", a.ID, demoID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestParseRegions(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    int
		wantErr bool
	}{
		{"one", []string{"ap-beijing=ap-beijing-1,ap-beijing-2"}, 1, false},
		{"two in one flag", []string{"ap-beijing=ap-beijing-1;ap-chengdu=ap-chengdu-1"}, 2, false},
		{"repeated", []string{"ap-beijing=ap-beijing-1", "ap-chengdu=ap-chengdu-1"}, 2, false},
		{"no zones", []string{"ap-beijing"}, 0, true},
		{"no name", []string{"=z"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRegions(tt.in)
			if (err != nil) != tt.wantErr || len(got) != tt.want {
				t.Errorf("parseRegions(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

// callJSON sends req (nil sends {}) marshalled as the body of action and
// decodes the Response object into resp.
func callJSON(ctx context.Context, c *client.Client, service, action string, req, resp any) error {
	var body []byte
	if req != nil {
		b, err := json.Marshal(req)
		if err != nil {
			return err
		}
		body = b
	}
	raw, err := c.Call(ctx, service, "2017-03-12", action, body)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, resp)
}
