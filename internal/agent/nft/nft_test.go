package nft_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go4.org/netipx"
	"sigs.k8s.io/knftables"

	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func pol(s string) policy.Policy {
	p, err := policy.ParsePolicy(s)
	if err != nil {
		panic(err)
	}
	return p
}

// group is a group's id and policies, as policy.ParsePolicy reads them.
type group struct {
	id       string
	policies []string
}

// members are the resolved addresses of the group references of a test
// (sg-… peers).
type members map[string][]string

// list builds a list of direction dir: the platform entries, then the
// groups' policies in order.
func list(tb testing.TB, dir policy.Direction, platform []rules.Entry, m members, groups ...group) rules.List {
	tb.Helper()
	l := rules.List{Direction: dir, Entries: platform}
	for _, g := range groups {
		for i, s := range g.policies {
			p := pol(s)
			var a rules.Addresses
			if p.Peer.IsReference() {
				var b netipx.IPSetBuilder
				for _, s := range m[p.Peer.ID] {
					b.Add(netip.MustParseAddr(s))
				}
				var err error
				if a, err = rules.Split(rules.PeerSource(p.Peer), &b); err != nil {
					tb.Fatal(err)
				}
			}
			e, err := rules.PolicyEntry(dir, g.id, i, &p, nil, a)
			if err != nil {
				tb.Fatal(err)
			}
			l.Entries = append(l.Entries, e)
		}
	}
	return l
}

func instance(tb testing.TB, id, iface string, m members, groups ...group) nft.Instance {
	return nft.Instance{
		ID: id, Interface: iface,
		Ingress: list(tb, policy.Ingress, nil, m, groups...),
		Egress:  list(tb, policy.Egress, nil, m, groups...),
	}
}

var (
	web = group{"sg-0000web1", []string{
		"ACCEPT TCP 80,443 0.0.0.0/0",
		"ACCEPT TCP 22 10.0.0.0/8",
		"DROP TCP 22 10.9.0.0/16",
		"ACCEPT TCP 8000-8080 ::/0",
	}}
	db = group{"sg-00000db1", []string{
		"ACCEPT TCP 5432 sg-0000web1",
		"DROP ALL ALL 10.0.0.0/8",
	}}
	protocols = group{"sg-0000prot", []string{
		"ACCEPT ICMP ALL 0.0.0.0/0",
		"ACCEPT ICMPv6 ALL ::/0",
		"DROP GRE ALL 192.0.2.0/24",
		"ACCEPT ALL ALL 192.0.2.0/24",
		"ACCEPT UDP 53 2001:db8::/32",
	}}
)

func compile(tb testing.TB, cfg nft.Config) *nft.Ruleset {
	tb.Helper()
	rs, err := nft.Compile(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// golden compares got with testdata/name.nft, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".nft")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/agent/nft -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, got)
	}
}

func apply(t *testing.T, fake *knftables.Fake, old, rs *nft.Ruleset) bool {
	t.Helper()
	inc, err := nft.Apply(context.Background(), fake, nil, old, rs)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestGolden(t *testing.T) {
	port25, err := rules.Platform(policy.Egress, true, []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fd00:ec2::254/128")})
	if err != nil {
		t.Fatal(err)
	}
	platIn, err := rules.Platform(policy.Ingress, true, []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fd00:ec2::254/128")})
	if err != nil {
		t.Fatal(err)
	}
	m := members{"sg-0000web1": {"10.1.0.5", "10.1.0.6", "10.1.0.9", "2001:db8::5"}}
	tests := []struct {
		name string
		cfg  nft.Config
	}{
		{"hypervisor", nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{
			instance(t, "ins-0000web1", "tap-web1", m, web),
			instance(t, "ins-00000db1", "tap-db1", m, db, web),
		}}},
		{"host", nft.Config{Mode: nft.Host, Instances: []nft.Instance{instance(t, "ins-00host01", "", m, web)}}},
		{"protocols", nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(t, "ins-0000prot", "tap-prot", m, protocols)}}},
		{"platform", nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{{
			ID: "ins-00000pf1", Interface: "tap-pf1",
			Ingress: list(t, policy.Ingress, platIn, m, web),
			Egress:  list(t, policy.Egress, port25, m, web),
		}}}},
		{"collapsed", nft.Config{Mode: nft.Hypervisor, RegionLimit: 2, Instances: []nft.Instance{instance(t, "ins-0000coll", "tap-coll", m, db, web)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := knftables.NewFake(knftables.InetFamily, nft.Table)
			rs := compile(t, tt.cfg)
			if apply(t, fake, nil, rs) {
				t.Fatal("first Apply was incremental")
			}
			golden(t, tt.name, fake.Dump())
			// Applying it again on a table holding it changes nothing.
			if !apply(t, fake, rs, rs) {
				t.Error("Apply of the same ruleset was not incremental")
			}
		})
	}
}

func TestForms(t *testing.T) {
	m := members{"sg-0000web1": {"10.1.0.5"}}
	cfg := nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(t, "ins-0000web1", "tap-web1", m, db, web)}}
	rs := compile(t, cfg)
	for _, li := range rs.Lists {
		if li.Form != nft.FormRegions {
			t.Errorf("%s %v: form %v, want regions", li.Instance, li.Direction, li.Form)
		}
	}
	cfg.RegionLimit = 2
	rs = compile(t, cfg)
	for _, li := range rs.Lists {
		if li.Form != nft.FormCollapsed {
			t.Errorf("%s %v with limit 2: form %v, want collapsed", li.Instance, li.Direction, li.Form)
		}
	}
}

// TestIncremental changes a referenced group's membership: the second
// Apply only adds and deletes map elements, and leaves the table as a full
// apply of the new state would.
func TestIncremental(t *testing.T) {
	before := members{"sg-0000web1": {"10.1.0.5", "10.1.0.6", "2001:db8::5"}}
	after := members{"sg-0000web1": {"10.1.0.5", "10.1.0.7", "10.1.0.8", "2001:db8::6"}}
	cfg := func(m members) nft.Config {
		return nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{
			instance(t, "ins-0000web1", "tap-web1", m, web),
			instance(t, "ins-00000db1", "tap-db1", m, db, web),
		}}
	}
	old, rs := compile(t, cfg(before)), compile(t, cfg(after))
	fake := knftables.NewFake(knftables.InetFamily, nft.Table)
	apply(t, fake, nil, old)
	if !apply(t, fake, old, rs) {
		t.Fatal("membership change: Apply was not incremental")
	}
	tx := fake.LastTransaction.String()
	for _, line := range strings.Split(strings.TrimSpace(tx), "\n") {
		if !strings.HasPrefix(line, "add element ") && !strings.HasPrefix(line, "delete element ") {
			t.Errorf("incremental transaction holds %q, want element changes only", line)
		}
	}
	golden(t, "incremental_tx", tx)
	full := knftables.NewFake(knftables.InetFamily, nft.Table)
	apply(t, full, nil, rs)
	if got, want := sortedLines(fake.Dump()), sortedLines(full.Dump()); got != want {
		t.Errorf("after the incremental apply the table is\n%s\nwant, as applied in full:\n%s", got, want)
	}

	// The referring entry is lifted: its group's set changes, no map
	// element, and no hit restarts.
	if got := rs.Restarted(old, true); len(got) != 0 {
		t.Errorf("a membership change restarted %v, want none", got)
	}
	if got := rs.Restarted(old, false); len(got) != len(rs.Counters) {
		t.Errorf("after a full apply %d hits restarted, want all %d", len(got), len(rs.Counters))
	}
	if got := rs.Restarted(rs, true); len(got) != 0 {
		t.Errorf("applying the same ruleset restarted %v", got)
	}

	// In the regions form a new policy changes only elements: the new
	// entries' hits are new, and no element is lost.
	grown := web
	grown.policies = append(grown.policies[:len(grown.policies):len(grown.policies)], "ACCEPT UDP 53 0.0.0.0/0")
	rs2 := compile(t, nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{
		instance(t, "ins-0000web1", "tap-web1", after, grown),
		instance(t, "ins-00000db1", "tap-db1", after, db, grown),
	}})
	if !apply(t, fake, rs, rs2) {
		t.Error("a new policy in the regions form: Apply was not incremental")
	}
	want := []string{"sg-0000web1.in.4", "sg-0000web1.out.4"}
	if got := rs2.Restarted(rs, true); !slices.Equal(got, want) {
		t.Errorf("a new policy restarted %v, want %v", got, want)
	}
	// A policy's literal peer narrowed: its entry loses elements and
	// restarts (its other elements are written again); the entry after
	// it, which gains the packets, goes on counting.
	narrowed := grown
	narrowed.policies = slices.Clone(grown.policies)
	narrowed.policies[1] = "ACCEPT TCP 22 10.0.0.0/9"
	rs3 := compile(t, nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{
		instance(t, "ins-0000web1", "tap-web1", after, narrowed),
		instance(t, "ins-00000db1", "tap-db1", after, db, narrowed),
	}})
	if !apply(t, fake, rs2, rs3) {
		t.Error("a narrowed peer in the regions form: Apply was not incremental")
	}
	want = []string{"sg-0000web1.in.1", "sg-0000web1.out.1"}
	if got := rs3.Restarted(rs2, true); !slices.Equal(got, want) {
		t.Errorf("a narrowed peer restarted %v, want %v", got, want)
	}
	full3 := knftables.NewFake(knftables.InetFamily, nft.Table)
	apply(t, full3, nil, rs3)
	if got, want := sortedLines(fake.Dump()), sortedLines(full3.Dump()); got != want {
		t.Errorf("after the narrowed peer the table is\n%s\nwant, as applied in full:\n%s", got, want)
	}
	// In the collapsed form it changes the runs' chains: a full apply.
	collapsed := func(g group) *nft.Ruleset {
		return compile(t, nft.Config{Mode: nft.Hypervisor, RegionLimit: 2, Instances: []nft.Instance{instance(t, "ins-0000web1", "tap-web1", after, g)}})
	}
	c1, c2 := collapsed(web), collapsed(grown)
	apply(t, fake, nil, c1)
	if apply(t, fake, c1, c2) {
		t.Error("a new policy in the collapsed form: Apply was incremental")
	}
}

// sortedLines sorts the lines of a dump: the fake keeps elements in the
// order they were added.
func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestReadCounters reads a fake's counters: its named counters are read,
// its elements, which have no counters, count zero.
func TestReadCounters(t *testing.T) {
	m := members{"sg-0000web1": {"10.1.0.5"}}
	rs := compile(t, nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(t, "ins-00000db1", "tap-db1", m, db, web)}})
	fake := knftables.NewFake(knftables.InetFamily, nft.Table)
	apply(t, fake, nil, rs)
	ctx := context.Background()
	if _, err := nft.ReadCounters(ctx, fake, nil, rs); err == nil {
		t.Error("ReadCounters accepted counters without values")
	}
	for name, c := range fake.Table.Counters {
		n := uint64(len(name))
		c.Packets, c.Bytes = &n, knftables.PtrTo(100*n)
	}
	hits, err := nft.ReadCounters(ctx, fake, nil, rs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range hits {
		want := uint64(0) // an entry's elements, in a fake
		if _, named := fake.Table.Counters[h.Counter]; named {
			want = uint64(len(h.Counter)) // a default, or a lifted entry's
		}
		if h.Packets != want || h.Bytes != 100*want {
			t.Errorf("hit %s: %d packets %d bytes, want %d and %d", h.Counter, h.Packets, h.Bytes, want, 100*want)
		}
		got[h.Counter] = attribution(h.Attribution)
	}
	for name, want := range map[string]string{
		"sg-00000db1.in.1":        "ins-00000db1 INGRESS SECURITY_GROUP/sg-00000db1/1",
		"sg-0000web1.out.3":       "ins-00000db1 EGRESS SECURITY_GROUP/sg-0000web1/3",
		"ins-00000db1.in.default": "ins-00000db1 INGRESS DEFAULT//-1",
		"sg-00000db1.in.0":        "ins-00000db1 INGRESS SECURITY_GROUP/sg-00000db1/0", // lifted: a named counter
	} {
		if got[name] != want {
			t.Errorf("hit %s = %q, want %q", name, got[name], want)
		}
	}
	if len(hits) != len(rs.Counters) {
		t.Errorf("%d hits for %d counters", len(hits), len(rs.Counters))
	}
	// Without a Runner, only a fake can be read.
	if _, err := nft.ReadCounters(ctx, struct{ knftables.Interface }{fake}, nil, rs); err == nil {
		t.Error("ReadCounters read a table that is not a fake without a Runner")
	}
	// A table that is not the ruleset's is refused.
	tx := fake.NewTransaction()
	tx.Add(&knftables.Counter{Name: "stranger", Packets: knftables.PtrTo[uint64](1), Bytes: knftables.PtrTo[uint64](1)})
	if err := fake.Run(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := nft.ReadCounters(ctx, fake, nil, rs); err == nil {
		t.Error("ReadCounters accepted a counter the ruleset does not have")
	}
}

func attribution(a nft.Attribution) string {
	var os []string
	for _, o := range a.Origins {
		os = append(os, fmt.Sprintf("%v/%s/%d", o.Layer, o.GroupID, o.PolicyIndex))
	}
	return fmt.Sprintf("%s %v %s", a.Instance, a.Direction, strings.Join(os, ","))
}

// listingOf writes the table of fake as nft --json --numeric lists it,
// each element of a map with counters counting count(map, key) packets of
// 100 bytes each. The changes apply to the listing before it is returned.
func listingOf(t *testing.T, fake *knftables.Fake, count func(m, key string) uint64, change func(doc []any) []any) []byte {
	t.Helper()
	part := func(s string) any {
		if p, err := netip.ParsePrefix(s); err == nil {
			return map[string]any{"prefix": map[string]any{"addr": p.Addr().String(), "len": p.Bits()}}
		}
		num := func(s string) any {
			if n, err := strconv.Atoi(s); err == nil {
				return n
			}
			return s
		}
		if lo, hi, ok := strings.Cut(s, "-"); ok {
			return map[string]any{"range": []any{num(lo), num(hi)}}
		}
		return num(s)
	}
	doc := []any{map[string]any{"metainfo": map[string]any{"version": "1.0.6"}}}
	for _, name := range slices.Sorted(maps.Keys(fake.Table.Counters)) {
		c := fake.Table.Counters[name]
		doc = append(doc, map[string]any{"counter": map[string]any{"family": "inet", "table": nft.Table, "name": name, "packets": *c.Packets, "bytes": *c.Bytes}})
	}
	for _, name := range slices.Sorted(maps.Keys(fake.Table.Maps)) {
		m := fake.Table.Maps[name]
		elems := []any{}
		if !strings.Contains(m.Type, "counter") {
			// A dispatch map: interface names to jump verdicts.
			for _, e := range m.Elements {
				iface, err := strconv.Unquote(e.Key[0])
				if err != nil {
					t.Fatal(err)
				}
				verdict, target, _ := strings.Cut(e.Value[0], " ")
				elems = append(elems, []any{iface, map[string]any{verdict: map[string]any{"target": target}}})
			}
		} else {
			for _, e := range m.Elements {
				var key []any
				for _, k := range e.Key {
					key = append(key, part(k))
				}
				n := count(name, strings.Join(e.Key, " . "))
				elems = append(elems, []any{
					map[string]any{"elem": map[string]any{"val": map[string]any{"concat": key}, "counter": map[string]any{"packets": n, "bytes": 100 * n}}},
					map[string]any{e.Value[0]: nil},
				})
			}
		}
		doc = append(doc, map[string]any{"map": map[string]any{"family": "inet", "table": nft.Table, "name": name, "map": "verdict", "elem": elems}})
	}
	if change != nil {
		doc = change(doc)
	}
	out, err := json.Marshal(map[string]any{"nftables": doc})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReadCountersListing reads hits from nft's JSON listing: an entry's
// hit sums its elements' counters; a listing that is not the ruleset's
// table is refused.
func TestReadCountersListing(t *testing.T) {
	rs := compile(t, nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(t, "ins-00host01", "tap-h1", members{}, web)}})
	fake := knftables.NewFake(knftables.InetFamily, nft.Table)
	apply(t, fake, nil, rs)
	for _, c := range fake.Table.Counters {
		c.Packets, c.Bytes = knftables.PtrTo[uint64](7), knftables.PtrTo[uint64](700)
	}
	// Each element counts its port's (or port range's first) value.
	count := func(_, key string) uint64 {
		f := strings.Split(key, " . ")
		lo, _, _ := strings.Cut(f[len(f)-1], "-")
		n, _ := strconv.Atoi(lo)
		return uint64(n)
	}
	ctx := context.Background()
	read := func(change func([]any) []any) ([]nft.Hit, error) {
		out := listingOf(t, fake, count, change)
		return nft.ReadCounters(ctx, nil, func(_ context.Context, _ []byte, args ...string) ([]byte, error) {
			if got := strings.Join(args, " "); got != "--json --numeric list table inet palisade" {
				t.Errorf("ReadCounters ran nft %s", got)
			}
			return out, nil
		}, rs)
	}
	hits, err := read(nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]uint64{}
	for _, h := range hits {
		got[h.Counter] = [2]uint64{h.Packets, h.Bytes}
	}
	for _, d := range []string{"in", "out"} {
		for name, want := range map[string]uint64{
			"0":       80 + 443, // two elements
			"1":       22,
			"2":       0, // shadowed: no element
			"3":       8000,
			"default": 7,
		} {
			if name == "default" {
				name = "ins-00host01." + d + "." + name
			} else {
				name = "sg-0000web1." + d + "." + name
			}
			if got[name] != [2]uint64{want, 100 * want} {
				t.Errorf("hit %s: %v, want %d packets and %d bytes", name, got[name], want, 100*want)
			}
		}
	}
	if len(hits) != len(rs.Counters) {
		t.Errorf("%d hits for %d counters", len(hits), len(rs.Counters))
	}

	elems := func(doc []any, name string, f func([]any) []any) []any {
		for _, o := range doc {
			if m, ok := o.(map[string]any)["map"].(map[string]any); ok && m["name"] == name {
				m["elem"] = f(m["elem"].([]any))
			}
		}
		return doc
	}
	bad := map[string]func([]any) []any{
		"an element missing": func(doc []any) []any {
			return elems(doc, "sg-0000web1.in.v4p", func(e []any) []any { return e[1:] })
		},
		"an element twice": func(doc []any) []any {
			return elems(doc, "sg-0000web1.in.v4p", func(e []any) []any { return append(e, e[0]) })
		},
		"a stranger element": func(doc []any) []any {
			return elems(doc, "sg-0000web1.in.v6p", func(e []any) []any {
				return append(e, []any{map[string]any{"elem": map[string]any{"val": map[string]any{"concat": []any{"::1", 47}}, "counter": map[string]any{"packets": 1, "bytes": 1}}}, map[string]any{"drop": nil}})
			})
		},
		"a changed verdict": func(doc []any) []any {
			return elems(doc, "sg-0000web1.in.v4p", func(e []any) []any {
				e[0].([]any)[1] = map[string]any{"drop": nil}
				return e
			})
		},
		"an element without a counter": func(doc []any) []any {
			return elems(doc, "sg-0000web1.in.v4p", func(e []any) []any {
				delete(e[0].([]any)[0].(map[string]any)["elem"].(map[string]any), "counter")
				return e
			})
		},
		"a protocol by name": func(doc []any) []any {
			return elems(doc, "sg-0000web1.in.v4p", func(e []any) []any {
				e[0].([]any)[0].(map[string]any)["elem"].(map[string]any)["val"].(map[string]any)["concat"].([]any)[1] = "tcp"
				return e
			})
		},
		"a map missing": func(doc []any) []any {
			return slices.DeleteFunc(doc, func(o any) bool {
				m, ok := o.(map[string]any)["map"].(map[string]any)
				return ok && m["name"] == "sg-0000web1.out.v6p"
			})
		},
		"a counter missing": func(doc []any) []any {
			return slices.DeleteFunc(doc, func(o any) bool {
				c, ok := o.(map[string]any)["counter"].(map[string]any)
				return ok && c["name"] == "ins-00host01.in.default"
			})
		},
		"a stranger map": func(doc []any) []any {
			return append(doc, map[string]any{"map": map[string]any{"name": "stranger", "elem": []any{}}})
		},
	}
	for name, change := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := read(change); err == nil {
				t.Error("ReadCounters accepted it")
			} else {
				t.Log(err)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	m := members{}
	ok := instance(t, "ins-00000001", "tap1", m, web)
	tests := []struct {
		name string
		cfg  nft.Config
	}{
		{"no mode", nft.Config{Instances: []nft.Instance{ok}}},
		{"host with two", nft.Config{Mode: nft.Host, Instances: []nft.Instance{ok, instance(t, "ins-00000002", "", m, web)}}},
		{"host with an interface", nft.Config{Mode: nft.Host, Instances: []nft.Instance{ok}}},
		{"bad interface", nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(t, "ins-00000001", "tap 1; drop", m, web)}}},
		{"shared interface", nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{ok, instance(t, "ins-00000002", "tap1", m, web)}}},
		{"same instance twice", nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{ok, instance(t, "ins-00000001", "tap2", m, web)}}},
		{"swapped lists", nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{{ID: "ins-00000001", Interface: "tap1", Ingress: ok.Egress, Egress: ok.Ingress}}}},
		{"group bound twice", nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(t, "ins-00000001", "tap1", m, web, web)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := nft.Compile(tt.cfg); err == nil {
				t.Error("Compile accepted it")
			}
		})
	}
}

// TestNames checks that an ID unfit for a name is hashed, the same way
// every time, and that names stay within nft's limit.
func TestNames(t *testing.T) {
	long := "ins-" + strings.Repeat("x", 80)
	cfg := func() nft.Config {
		return nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{
			instance(t, long, "tap-long", members{}, web),
			instance(t, "ins 0000/odd", "tap-odd", members{}, web),
		}}
	}
	a, b := compile(t, cfg()), compile(t, cfg())
	if len(a.Counters) != len(b.Counters) {
		t.Fatalf("%d counters, then %d", len(a.Counters), len(b.Counters))
	}
	for name, at := range a.Counters {
		if _, ok := b.Counters[name]; !ok {
			t.Errorf("counter %s not made again", name)
		}
		if len(name) > knftables.NameLengthMax || strings.ContainsAny(name, " /") || strings.Contains(name, strings.Repeat("x", 41)) {
			t.Errorf("counter name %q is unfit", name)
		}
		if at.Instance != long && at.Instance != "ins 0000/odd" {
			t.Errorf("counter %s attributed to %q", name, at.Instance)
		}
	}
}

// structuralStates are hosts one change apart each: an instance bound to
// another group, an instance added, one removed, the region limit cut
// (the groups' segments collapsed), the platform's rules added.
func structuralStates(tb testing.TB) []nft.Config {
	m := members{"sg-0000web1": {"10.1.0.5", "2001:db8::5"}}
	port25, err := rules.Platform(policy.Egress, true, []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")})
	if err != nil {
		tb.Fatal(err)
	}
	withPlatform := instance(tb, "ins-00000002", "tap2", m, web, db)
	withPlatform.Egress = list(tb, policy.Egress, port25, m, web, db)
	return []nft.Config{
		{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(tb, "ins-00000001", "tap1", m, web), instance(tb, "ins-00000002", "tap2", m, db, web)}},
		{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(tb, "ins-00000001", "tap1", m, web, db), instance(tb, "ins-00000002", "tap2", m, db, web)}},
		{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(tb, "ins-00000001", "tap1", m, web, db), instance(tb, "ins-00000002", "tap2", m, db, web),
			instance(tb, "ins-00000003", "tap3", m, web)}},
		{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(tb, "ins-00000002", "tap2", m, db, web), instance(tb, "ins-00000003", "tap3", m, web)}},
		{Mode: nft.Hypervisor, RegionLimit: 1, Instances: []nft.Instance{instance(tb, "ins-00000002", "tap2", m, db, web), instance(tb, "ins-00000003", "tap3", m, web)}},
		{Mode: nft.Hypervisor, Instances: []nft.Instance{withPlatform, instance(tb, "ins-00000003", "tap3", m, web)}},
	}
}

// TestIncrementalStructural applies hosts one change apart each
// incrementally: chains, maps, sets and counters are added and deleted in
// the transaction, and the table is as a full apply of the new state
// would leave it.
func TestIncrementalStructural(t *testing.T) {
	states := structuralStates(t)
	fake := knftables.NewFake(knftables.InetFamily, nft.Table)
	prev := compile(t, states[0])
	apply(t, fake, nil, prev)
	for i, cfg := range states[1:] {
		rs := compile(t, cfg)
		if !apply(t, fake, prev, rs) {
			t.Errorf("change %d: Apply was not incremental", i+1)
		}
		full := knftables.NewFake(knftables.InetFamily, nft.Table)
		apply(t, full, nil, rs)
		if got, want := sortedLines(fake.Dump()), sortedLines(full.Dump()); got != want {
			t.Errorf("change %d: after the incremental apply the table is\n%s\nwant, as applied in full:\n%s", i+1, got, want)
		}
		prev = rs
	}
}

// TestRestartedLifting changes an entry's peer so that a later entry
// referring to a group can no longer be lifted: that entry's hit, a named
// counter before and a sum of elements after, restarts; so does it when
// it is lifted again.
func TestRestartedLifting(t *testing.T) {
	m := members{"sg-0000web1": {"10.1.0.5"}}
	cfg := func(first string) nft.Config {
		g := group{"sg-00000db1", []string{first, "ACCEPT TCP 5432 sg-0000web1"}}
		return nft.Config{Mode: nft.Hypervisor, Instances: []nft.Instance{instance(t, "ins-00000db1", "tap-db1", m, g)}}
	}
	apart, overlapping := compile(t, cfg("ACCEPT TCP 80 10.9.0.0/16")), compile(t, cfg("ACCEPT TCP 5432 10.9.0.0/16"))
	const hit = "sg-00000db1.in.1"
	for _, tt := range []struct {
		name     string
		old, new *nft.Ruleset
	}{
		{"no longer lifted", apart, overlapping},
		{"lifted again", overlapping, apart},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := knftables.NewFake(knftables.InetFamily, nft.Table)
			apply(t, fake, nil, tt.old)
			if !apply(t, fake, tt.old, tt.new) {
				t.Fatal("Apply was not incremental")
			}
			if got := tt.new.Restarted(tt.old, true); !slices.Contains(got, hit) {
				t.Errorf("restarted %v, want %s among them", got, hit)
			}
		})
	}
}
