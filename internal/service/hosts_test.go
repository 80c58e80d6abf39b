package service_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/wire"
)

// hostFixture is a service over a SQLite file with an account, the
// platform and one host.
type hostFixture struct {
	path            string
	st              store.Store
	svc             *service.Service
	admin, platform service.Caller
	host            service.Caller
	hostID, account string
}

func newHostFixture(t testing.TB) *hostFixture {
	t.Helper()
	ctx := context.Background()
	f := &hostFixture{path: filepath.Join(t.TempDir(), "palisade.db")}
	st, err := sqlite.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st, f.svc = st, service.New(st, service.Options{})
	a, err := f.svc.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := f.svc.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.svc.CreateHost(ctx, "hv")
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(id, region string) service.Caller {
		cr, err := f.svc.LookupCredential(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return cr.Caller(region, "req")
	}
	f.admin, f.platform, f.host = lookup(a.SecretID, "ap-guangzhou"), lookup(pk.SecretID, "ap-guangzhou"), lookup(h.SecretID, "")
	f.hostID, f.account = h.HostID, a.AccountID
	return f
}

func (f *hostFixture) register(t testing.TB, name, ip string, groups ...string) string {
	t.Helper()
	ids, err := f.svc.RegisterInstances(context.Background(), f.platform, service.RegisterInstancesInput{AccountID: f.account, Instances: []service.InstanceSpec{
		{InstanceName: name, Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{ip}, HostID: f.hostID, Interface: "tap-" + name, SecurityGroupIDs: groups},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return ids[0]
}

// group creates a group of one ingress policy and returns its id.
func (f *hostFixture) group(t testing.TB, name, policy string) string {
	t.Helper()
	g, _, err := f.svc.CreateSecurityGroup(context.Background(), f.admin, service.CreateGroupInput{Name: name, Policies: &service.PolicySetInput{Ingress: []service.PolicyInput{raw(policy)}}})
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// TestHostStateUnresolvable: an instance whose lists do not resolve is not
// dropped from its host's state but named, with the problem, in
// Unresolvable; the others are served; and a change of its account wakes
// a watch, since what it depends on is not known.
func TestHostStateUnresolvable(t *testing.T) {
	ctx := context.Background()
	f := newHostFixture(t)
	ipm, err := f.svc.CreateAddressTemplate(ctx, f.admin, service.TemplateInput{Name: "office", Entries: []service.TemplateEntry{{Value: "192.0.2.0/24"}}})
	if err != nil {
		t.Fatal(err)
	}
	bad, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: "bad", Policies: &service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 22 " + ipm.ID)}}})
	if err != nil {
		t.Fatal(err)
	}
	good, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: "good", Policies: &service.PolicySetInput{Ingress: []service.PolicyInput{raw("ACCEPT TCP 80 0.0.0.0/0")}}})
	if err != nil {
		t.Fatal(err)
	}
	broken := f.register(t, "broken", "10.0.0.1", bad.ID)
	fine := f.register(t, "fine", "10.0.0.2", good.ID)

	db, err := sql.Open("sqlite", f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE templates SET entries = ? WHERE id = ?`, `[{"v":"192.0.2.0/33"}]`, ipm.ID); err != nil {
		t.Fatal(err)
	}
	// A write the feed records, so that nothing cached is reused.
	if err := f.svc.AddPlatformAddress(ctx, netip.MustParsePrefix("169.254.0.53/32")); err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.DescribeHostState(ctx, f.host)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Instances) != 1 || st.Instances[0].ID != fine {
		t.Errorf("Instances = %v, want only %s", st.Instances, fine)
	}
	if len(st.Unresolvable) != 1 || st.Unresolvable[0].InstanceID != broken || !strings.Contains(st.Unresolvable[0].Message, `"192.0.2.0/33"`) {
		t.Errorf("Unresolvable = %+v, want %s naming the stored entry", st.Unresolvable, broken)
	}

	// Mending the template (a write of the account) wakes a watch.
	done := make(chan service.HostWatch, 1)
	go func() {
		w, err := f.svc.WatchHostState(ctx, f.host, service.WatchHostInput{Revision: st.Revision, Wait: 5 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- w
	}()
	time.Sleep(200 * time.Millisecond)
	if _, err := f.svc.CreateAddressTemplate(ctx, f.admin, service.TemplateInput{Name: "other", Entries: []service.TemplateEntry{{Value: "198.51.100.0/24"}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case w := <-done:
		if !w.Changed || w.State == nil {
			t.Errorf("WatchHostState after a write of the unresolvable instance's account = %+v, want Changed", w)
		}
	case <-time.After(3 * time.Second):
		t.Error("WatchHostState did not wake on a write of the unresolvable instance's account")
	}

	// The operator's host listing shows the agent's last report.
	if err := f.svc.ReportHostStatus(ctx, f.host, service.HostReport{AppliedRevision: st.Revision, AgentStart: time.Now().Add(-time.Minute),
		Errors: []service.HostError{{InstanceID: broken, Message: "keeping the last rules"}}}); err != nil {
		t.Fatal(err)
	}
	hosts, err := f.svc.ListHosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 || hosts[0].AppliedRevision == nil || *hosts[0].AppliedRevision != st.Revision || hosts[0].LastReportTime == nil ||
		len(hosts[0].AgentErrors) != 1 || hosts[0].AgentErrors[0] != broken+": keeping the last rules" {
		t.Errorf("ListHosts = %+v, want the report of revision %d", hosts, st.Revision)
	}

	// Other roles are refused.
	var se *service.Error
	if _, err := f.svc.DescribeHostState(ctx, f.admin); !errors.As(err, &se) || se.Kind != service.KindForbidden {
		t.Errorf("DescribeHostState by an admin: %v, want KindForbidden", err)
	}
}

// TestWatchHostStateExpiry: a policy that expires changes the lists without
// a write, and the watch answers when it does.
func TestWatchHostStateExpiry(t *testing.T) {
	ctx := context.Background()
	f := newHostFixture(t)
	temp := raw("ACCEPT TCP 22 0.0.0.0/0")
	temp.ExpiresAt = time.Now().Add(1500 * time.Millisecond)
	g, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: "g", Policies: &service.PolicySetInput{Ingress: []service.PolicyInput{temp, raw("ACCEPT TCP 80 0.0.0.0/0")}}})
	if err != nil {
		t.Fatal(err)
	}
	f.register(t, "web", "10.0.0.1", g.ID)
	st, err := f.svc.DescribeHostState(ctx, f.host)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Instances[0].Ingress.Len(); n != 2 {
		t.Fatalf("ingress before the expiry: %d entries, want 2", n)
	}
	start := time.Now()
	w, err := f.svc.WatchHostState(ctx, f.host, service.WatchHostInput{Revision: st.Revision, Wait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); !w.Changed || w.State == nil || d > 5*time.Second {
		t.Fatalf("WatchHostState across an expiry = %+v after %v, want Changed at the expiry", w, d)
	}
	if in := w.State.Instances[0].Ingress; in.Len() != 1 || in.Entries[0].Origin.PolicyIndex != 1 {
		t.Errorf("ingress after the expiry = %d entries, want only policy 1", in.Len())
	}
}

// BenchmarkDescribeHostState: the state of a host with 50 instances, each
// bound to two of ten groups of 20 policies, a quarter of them referencing
// another group: resolved (a fresh Service, as after a change that affects
// the host) and cached (nothing affecting it changed).
func BenchmarkDescribeHostState(b *testing.B) {
	ctx := context.Background()
	f := newHostFixture(b)
	var groups []string
	for g := range 10 {
		var ps []service.PolicyInput
		for i := range 20 {
			if i%4 == 0 && len(groups) > 0 {
				ps = append(ps, raw(fmt.Sprintf("ACCEPT TCP %d %s", 1000+i, groups[0])))
				continue
			}
			ps = append(ps, raw(fmt.Sprintf("ACCEPT TCP %d 10.%d.%d.0/24", 1000+i, g, i)))
		}
		sg, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: fmt.Sprintf("g%d", g), Policies: &service.PolicySetInput{Ingress: ps}})
		if err != nil {
			b.Fatal(err)
		}
		groups = append(groups, sg.ID)
	}
	for i := range 50 {
		f.register(b, fmt.Sprintf("i%d", i), fmt.Sprintf("10.200.%d.%d", i/200, i%200+1), groups[i%10], groups[(i+3)%10])
	}
	for _, bc := range []struct {
		name string
		svc  func() *service.Service
	}{
		{"resolved", func() *service.Service { return service.New(f.st, service.Options{}) }},
		{"cached", func() *service.Service { return f.svc }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				st, err := bc.svc().DescribeHostState(ctx, f.host)
				if err != nil || len(st.Instances) != 50 {
					b.Fatalf("DescribeHostState: %d instances, %v", len(st.Instances), err)
				}
			}
		})
	}
}

// TestHostStatesShareLists: instances of several hosts bound to the same
// groups in the same order get the same lists, each with its own
// addresses; another order gets its own; a write to a group reaches every
// host it affects, and only those.
func TestHostStatesShareLists(t *testing.T) {
	ctx := context.Background()
	f := newHostFixture(t)
	allow, deny, other := f.group(t, "allow", "ACCEPT TCP 22 0.0.0.0/0"), f.group(t, "deny", "DROP TCP 22 0.0.0.0/0"), f.group(t, "other", "ACCEPT TCP 443 0.0.0.0/0")
	hosts := map[string]service.Caller{}
	for _, name := range []string{"b", "c"} {
		h, err := f.svc.CreateHost(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		cr, err := f.svc.LookupCredential(ctx, h.SecretID)
		if err != nil {
			t.Fatal(err)
		}
		hosts[name] = cr.Caller("", "req")
	}
	hosts["a"] = f.host
	place := func(host, name, ip string, groups ...string) string {
		ids, err := f.svc.RegisterInstances(ctx, f.platform, service.RegisterInstancesInput{AccountID: f.account, Instances: []service.InstanceSpec{
			{InstanceName: name, Zone: "ap-guangzhou-3", PrivateIpAddresses: []string{ip}, HostID: hosts[host].HostID, Interface: "tap-" + name, SecurityGroupIDs: groups},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return ids[0]
	}
	x := place("a", "x", "10.0.0.1", allow, deny)
	y := place("b", "y", "10.0.0.2", allow, deny)
	z := place("b", "z", "10.0.0.3", deny, allow)
	w := place("c", "w", "10.0.0.4", other)

	// first returns the group and action of the first group entry of
	// instance id's ingress in st, and its addresses.
	first := func(st service.HostState, id string) (string, string, []string) {
		for _, in := range st.Instances {
			if in.ID != id {
				continue
			}
			for _, e := range in.Ingress.Entries {
				if e.Origin.GroupID != "" {
					return e.Origin.GroupID, e.Action.String(), in.PrivateIPs
				}
			}
			t.Fatalf("instance %s has no group entry", id)
		}
		t.Fatalf("instance %s not in the state of %s", id, st.HostID)
		return "", "", nil
	}
	states := map[string]service.HostState{}
	for name, h := range hosts {
		st, err := f.svc.DescribeHostState(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		states[name] = st
	}
	for _, c := range []struct {
		host, id, group, action, ip string
	}{
		{"a", x, allow, "ACCEPT", "10.0.0.1"},
		{"b", y, allow, "ACCEPT", "10.0.0.2"},
		{"b", z, deny, "DROP", "10.0.0.3"},
		{"c", w, other, "ACCEPT", "10.0.0.4"},
	} {
		g, a, ips := first(states[c.host], c.id)
		if g != c.group || a != c.action || len(ips) != 1 || ips[0] != c.ip {
			t.Errorf("instance %s: first entry of %s (%s), addresses %v; want %s (%s), %s", c.id, g, a, ips, c.group, c.action, c.ip)
		}
	}

	// Every host watches; a write to allow wakes a and b, not c.
	type answer struct {
		host string
		w    service.HostWatch
	}
	answers := make(chan answer, len(hosts))
	for name, h := range hosts {
		go func() {
			w, err := f.svc.WatchHostState(ctx, h, service.WatchHostInput{Revision: states[name].Revision, Wait: 2 * time.Second})
			if err != nil {
				t.Error(err)
			}
			answers <- answer{name, w}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := f.svc.ModifySecurityGroupPolicies(ctx, f.admin, service.ModifyPoliciesInput{
		SecurityGroupID: allow, Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw("DROP TCP 22 0.0.0.0/0")}}}); err != nil {
		t.Fatal(err)
	}
	for range hosts {
		a := <-answers
		if a.host == "c" {
			if a.w.Changed || a.w.Resync {
				t.Errorf("host c, whose instance is not bound to the group written, was answered %+v", a.w)
			}
			continue
		}
		if !a.w.Changed || a.w.State == nil {
			t.Errorf("host %s after a write to its instances' group: %+v, want Changed", a.host, a.w)
			continue
		}
		ids := map[string][]string{"a": {x}, "b": {y, z}}[a.host]
		for _, id := range ids {
			if g, act, _ := first(*a.w.State, id); g != map[string]string{x: allow, y: allow, z: deny}[id] || act != "DROP" {
				t.Errorf("host %s, instance %s after the write: first entry of %s (%s), want DROP", a.host, id, g, act)
			}
		}
	}
}

// TestWatchHostStatePartial: a watch that asks for it is answered with the
// instances that changed only (and those gone), which merged into the
// state the agent holds give the whole state.
func TestWatchHostStatePartial(t *testing.T) {
	ctx := context.Background()
	f := newHostFixture(t)
	web, db := f.group(t, "web", "ACCEPT TCP 80 0.0.0.0/0"), f.group(t, "db", "ACCEPT TCP 5432 10.0.0.0/8")
	p := f.register(t, "p", "10.0.0.1", web)
	q := f.register(t, "q", "10.0.0.2", db)
	r := f.register(t, "r", "10.0.0.3", web)
	st, err := f.svc.DescribeHostState(ctx, f.host)
	if err != nil {
		t.Fatal(err)
	}
	held, err := hoststate.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	// step watches from the state held, makes write (late: makes it
	// first, as for an agent that falls behind), and checks the answer
	// names exactly changed and removed, and merges into the whole state.
	step := func(name string, late bool, write func() error, changed, removed []string) {
		t.Helper()
		watch := func() service.HostWatch {
			w, err := f.svc.WatchHostState(ctx, f.host, service.WatchHostInput{Revision: held.Revision, Wait: 5 * time.Second, Partial: true})
			if err != nil {
				t.Error(err)
			}
			return w
		}
		var w service.HostWatch
		if late {
			if err := write(); err != nil {
				t.Fatal(err)
			}
			w = watch()
		} else {
			done := make(chan service.HostWatch, 1)
			go func() { done <- watch() }()
			time.Sleep(100 * time.Millisecond)
			if err := write(); err != nil {
				t.Fatal(err)
			}
			w = <-done
		}
		if !w.Changed || !w.Partial || w.State == nil {
			t.Fatalf("%s: %+v, want a partial change", name, w)
		}
		var got []string
		for _, in := range w.State.Instances {
			got = append(got, in.ID)
		}
		if !slices.Equal(got, changed) || !slices.Equal(w.Removed, removed) {
			t.Errorf("%s: changed %v, removed %v; want %v, %v", name, got, w.Removed, changed, removed)
		}
		part, err := hoststate.Encode(*w.State)
		if err != nil {
			t.Fatal(err)
		}
		merged, err := hoststate.Merge(held, part, w.Removed)
		if err != nil {
			t.Fatal(err)
		}
		full, err := f.svc.DescribeHostState(ctx, f.host)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := hoststate.Encode(full)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(merged.Instances, func(a, b wire.HostInstance) int { return strings.Compare(a.InstanceId, b.InstanceId) })
		slices.SortFunc(whole.Instances, func(a, b wire.HostInstance) int { return strings.Compare(a.InstanceId, b.InstanceId) })
		a, _ := json.Marshal(merged)
		b, _ := json.Marshal(whole)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: merged state\n%s\nwant the whole state\n%s", name, a, b)
		}
		held = merged
	}
	modify := func(group, policy string) func() error {
		return func() error {
			_, err := f.svc.ModifySecurityGroupPolicies(ctx, f.admin, service.ModifyPoliciesInput{SecurityGroupID: group, Set: service.PolicySetInput{Ingress: []service.PolicyInput{raw(policy)}}})
			return err
		}
	}
	step("a write to db", false, modify(db, "DROP TCP 5432 0.0.0.0/0"), []string{q}, nil)
	step("a write to web", false, modify(web, "ACCEPT TCP 443 0.0.0.0/0"), []string{p, r}, nil)
	step("a write to db, watched after it", true, modify(db, "ACCEPT TCP 5432 10.0.0.0/8"), []string{q}, nil)
	step("two writes, watched after both", true, func() error {
		if err := modify(db, "DROP TCP 5432 0.0.0.0/0")(); err != nil {
			return err
		}
		return modify(web, "ACCEPT TCP 8443 0.0.0.0/0")()
	}, []string{p, q, r}, nil)
	step("p in the recycle bin", false, func() error { return f.svc.TerminateInstances(ctx, f.admin, []string{p}) }, []string{p}, nil)
	step("p purged", false, func() error { return f.svc.PurgeInstances(ctx, f.admin, []string{p}) }, nil, []string{p})
	// An instance placed on the host after the revision held: the whole
	// state, not a part.
	s := f.register(t, "s", "10.0.0.4", web)
	w, err := f.svc.WatchHostState(ctx, f.host, service.WatchHostInput{Revision: held.Revision, Wait: 5 * time.Second, Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if !w.Changed || w.Partial || w.State == nil || len(w.State.Instances) != 3 {
		t.Errorf("watched after %s was placed: %+v, want the whole state of q, r and s", s, w)
	}
}

// TestLookupCredentialKept: a credential kept from an earlier request is
// refused from the next request on once it is disabled or deleted, through
// the same service or another one over the same store.
func TestLookupCredentialKept(t *testing.T) {
	ctx := context.Background()
	f := newHostFixture(t)
	st2, err := sqlite.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	other := service.New(st2, service.Options{})
	key, host := f.admin.SecretID, f.host.SecretID
	lookup := func(svc *service.Service, id string) error {
		_, err := svc.LookupCredential(ctx, id)
		return err
	}
	for _, id := range []string{key, host} {
		for _, svc := range []*service.Service{f.svc, other} {
			if err := lookup(svc, id); err != nil {
				t.Fatalf("LookupCredential(%s): %v", id, err)
			}
		}
	}
	refused := func(name string, svc *service.Service, id string, within time.Duration) {
		t.Helper()
		var se *service.Error
		for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			err := lookup(svc, id)
			if errors.As(err, &se) && se.Kind == service.KindNotFound {
				return
			}
			if time.Since(start) > within {
				t.Fatalf("%s: LookupCredential(%s) = %v after %v, want KindNotFound", name, id, err, within)
			}
		}
	}
	if err := f.svc.SetCredentialDisabled(ctx, key, true); err != nil {
		t.Fatal(err)
	}
	refused("disabled, the same service", f.svc, key, 0)
	refused("disabled, another service", other, key, 0)
	if err := f.svc.SetCredentialDisabled(ctx, key, false); err != nil {
		t.Fatal(err)
	}
	if err := lookup(f.svc, key); err != nil {
		t.Errorf("enabled again: %v", err)
	}
	if err := f.svc.DeleteCredential(ctx, host); err != nil {
		t.Fatal(err)
	}
	refused("a host credential deleted, the same service", f.svc, host, 0)
	refused("a host credential deleted, another service", other, host, 0)
}

// TestReportsCommittedTogether: reports arriving at once are committed
// together, and one that is refused is refused alone.
func TestReportsCommittedTogether(t *testing.T) {
	ctx := context.Background()
	f := newHostFixture(t)
	rev, err := f.svc.DescribeHostState(ctx, f.host)
	if err != nil {
		t.Fatal(err)
	}
	var hosts []service.Caller
	for i := range 40 {
		h, err := f.svc.CreateHost(ctx, fmt.Sprintf("h%d", i))
		if err != nil {
			t.Fatal(err)
		}
		cr, err := f.svc.LookupCredential(ctx, h.SecretID)
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, cr.Caller("", "req"))
	}
	start := time.Now().Add(-time.Minute)
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			applied := rev.Revision
			if i == 7 {
				applied = 1 << 40 // ahead of the store
			}
			errs[i] = f.svc.ReportHostStatus(ctx, h, service.HostReport{AppliedRevision: applied, AgentStart: start})
		})
	}
	wg.Wait()
	listed, err := f.svc.ListHosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reported := map[string]bool{}
	for _, h := range listed {
		if h.AppliedRevision != nil {
			reported[h.HostId] = true
		}
	}
	for i, h := range hosts {
		var fe *policy.FieldError
		switch {
		case i == 7 && (!errors.As(errs[i], &fe) || fe.Field != "AppliedRevision" || reported[h.HostID]):
			t.Errorf("a report ahead of the store: %v, stored %v; want an error naming AppliedRevision, nothing stored", errs[i], reported[h.HostID])
		case i != 7 && (errs[i] != nil || !reported[h.HostID]):
			t.Errorf("host %d's report: %v, stored %v; want it stored", i, errs[i], reported[h.HostID])
		}
	}
}
