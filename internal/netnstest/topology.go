package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvKernelTests is the environment variable that turns a missing
// prerequisite (root, ip, nft) from a skip into a failure. CI sets it to 1.
const EnvKernelTests = "PALISADE_KERNEL_TESTS"

// MaxInstances is the largest number of instance namespaces a topology has.
const MaxInstances = 250

// Options describes a topology for New.
type Options struct {
	// Instances is the number of instance namespaces (1 when zero).
	Instances int
	// HostIfNames names the host side of each instance's veth pair, in
	// instance order (for example "tap1", "tap2"); empty means "tapN". Each
	// name is at most 15 bytes. The names live inside the topology's own host
	// namespace, so parallel topologies may use the same ones.
	HostIfNames []string
	// InstanceIfName names the instance side of every pair ("eth0" when empty).
	InstanceIfName string
	// UplinkIfName names the host's interface towards the internet namespace
	// ("uplink" when empty); the internet side is always "eth0".
	UplinkIfName string
	// InternetPrefixes are extra IPv4 or IPv6 prefixes owned by the internet
	// namespace: the host routes them there and the internet namespace treats
	// every address in them as local (a local route on lo, and for IPv6
	// net.ipv6.ip_nonlocal_bind=1), so sockets can bind to any of them (for
	// example 198.51.100.0/24 and 2001:db8:f::/64).
	InternetPrefixes []netip.Prefix
	// Prefix starts every namespace name; empty means a fresh random token.
	// A fixed prefix lets a run remove what a crashed run with the same prefix
	// left behind; two live topologies must not share one.
	Prefix string
}

// Link is the addressing of one namespace's veth link to the host.
type Link struct {
	// Addr4 and Addr6 are the namespace's addresses; Gateway4 and Gateway6
	// the host's addresses on the link, which are the namespace's default
	// routes. Prefix4 (/24) and Prefix6 (/64) are the link's prefixes.
	Addr4, Addr6       netip.Addr
	Gateway4, Gateway6 netip.Addr
	Prefix4, Prefix6   netip.Prefix
}

// Instance is one instance namespace and its link to the host.
type Instance struct {
	// Index is the instance's position, from 1.
	Index int
	NS    NS
	// HostIf is the host-side interface name, InstanceIf the instance-side one.
	HostIf, InstanceIf string
	Link
}

// Internet is the internet namespace and its link to the host.
type Internet struct {
	NS NS
	// HostIf is the host's uplink interface name; the internet side is eth0.
	HostIf string
	Link
	// Prefixes are Options.InternetPrefixes.
	Prefixes []netip.Prefix
}

// newLink addresses a link: the host first, the namespace second.
func newLink(p4, p6 netip.Prefix) Link {
	return Link{
		Prefix4: p4, Prefix6: p6,
		Gateway4: nthAddr(p4, 1), Addr4: nthAddr(p4, 2),
		Gateway6: nthAddr(p6, 1), Addr6: nthAddr(p6, 2),
	}
}

// Topology is a host namespace routing between instance namespaces and one
// internet namespace. New removes it all when the test ends.
type Topology struct {
	// Prefix starts every namespace name of this topology.
	Prefix    string
	Host      NS
	Instances []Instance
	Internet  Internet
}

// Instance returns instance i, counted from 1. It panics when out of range.
func (tp *Topology) Instance(i int) Instance {
	if i < 1 || i > len(tp.Instances) {
		panic(fmt.Sprintf("netnstest: instance %d of %d", i, len(tp.Instances)))
	}
	return tp.Instances[i-1]
}

// Namespaces returns every namespace of the topology: host, instances, internet.
func (tp *Topology) Namespaces() []NS {
	out := []NS{tp.Host}
	for _, in := range tp.Instances {
		out = append(out, in.NS)
	}
	return append(out, tp.Internet.NS)
}

// Available reports why kernel tests cannot run here, or nil when they can:
// they need root and the ip and nft commands.
func Available() error {
	var problems []error
	if os.Geteuid() != 0 {
		problems = append(problems, errors.New("not running as root"))
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			problems = append(problems, fmt.Errorf("%s command not found (install iproute2 and nftables)", tool))
		}
	}
	return errors.Join(problems...)
}

// Require skips the test when Available reports a problem, or fails it when
// PALISADE_KERNEL_TESTS=1.
func Require(t testing.TB) {
	t.Helper()
	err := Available()
	if err == nil {
		return
	}
	msg := "kernel test needs root with ip and nft: " + strings.ReplaceAll(err.Error(), "\n", "; ")
	if os.Getenv(EnvKernelTests) == "1" {
		t.Fatal(msg + " (" + EnvKernelTests + "=1)")
	}
	t.Skip(msg + " (set " + EnvKernelTests + "=1 to make this a failure)")
}

// New builds a topology as opts describes and registers its removal with
// t.Cleanup (which runs on failure too). It calls Require first.
func New(t testing.TB, opts Options) *Topology {
	t.Helper()
	Require(t)
	tp, err := plan(opts)
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	sweepStale(staleAge)
	t.Cleanup(func() {
		if err := tp.destroy(); err != nil {
			t.Errorf("netnstest: tear down %s: %v", tp.Prefix, err)
		}
	})
	if err := tp.build(); err != nil {
		t.Fatalf("netnstest: build topology %s: %v", tp.Prefix, err)
	}
	return tp
}

// validIfName reports whether name is a usable interface name: 1 to 15 of
// [A-Za-z0-9_.-], not starting with a punctuation mark.
func validIfName(name string) bool {
	return len(name) >= 1 && len(name) <= 15 && isAlnum(name[0]) && onlyChars(name, "_.-", true)
}

// validPrefix reports whether p is a usable namespace-name prefix: 1 to 32 of
// [a-z0-9-], not starting with '-'.
func validPrefix(p string) bool {
	return len(p) >= 1 && len(p) <= 32 && p[0] != '-' && onlyChars(p, "-", false)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func onlyChars(s, extra string, upper bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.IndexByte(extra, c) >= 0:
		case upper && c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return true
}

// stalePid returns the creating process id of a namespace whose name starts
// with a generated prefix ("nt", pid, "x", six hex digits, "-").
func stalePid(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "nt")
	if !ok {
		return "", false
	}
	pid, rest, ok := strings.Cut(rest, "x")
	if !ok || pid == "" || len(rest) < 7 || rest[6] != '-' {
		return "", false
	}
	for i := 0; i < len(pid); i++ {
		if pid[i] < '0' || pid[i] > '9' {
			return "", false
		}
	}
	for i := 0; i < 6; i++ {
		if !(rest[i] >= '0' && rest[i] <= '9' || rest[i] >= 'a' && rest[i] <= 'f') {
			return "", false
		}
	}
	return pid, true
}

// newPrefix returns a fresh namespace-name prefix carrying the process id, so
// a later run can tell a crashed run's namespaces from a live one's.
func newPrefix() (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random prefix: %w", err)
	}
	return "nt" + strconv.Itoa(os.Getpid()) + "x" + hex.EncodeToString(b[:]), nil
}

// plan validates opts and computes names and addresses without touching the
// system.
func plan(opts Options) (*Topology, error) {
	n := opts.Instances
	if n == 0 {
		n = 1
	}
	var problems []error
	if n < 0 || n > MaxInstances {
		problems = append(problems, fmt.Errorf("instances %d: want 1 to %d", opts.Instances, MaxInstances))
		n = 0
	}
	if len(opts.HostIfNames) != 0 && len(opts.HostIfNames) != n {
		problems = append(problems, fmt.Errorf("%d host interface names for %d instances", len(opts.HostIfNames), n))
	}
	prefix := opts.Prefix
	if prefix == "" {
		p, err := newPrefix()
		if err != nil {
			return nil, err
		}
		prefix = p
	} else if !validPrefix(prefix) {
		problems = append(problems, fmt.Errorf("prefix %q: want up to 32 of [a-z0-9-]", prefix))
	}
	instIf := opts.InstanceIfName
	if instIf == "" {
		instIf = "eth0"
	}
	uplink := opts.UplinkIfName
	if uplink == "" {
		uplink = "uplink"
	}
	seen := map[string]bool{}
	checkIf := func(what, name string) {
		if !validIfName(name) {
			problems = append(problems, fmt.Errorf("%s interface name %q: want 1 to 15 of [A-Za-z0-9_.-]", what, name))
		}
	}
	checkIf("instance", instIf)
	checkIf("uplink", uplink)
	seen[uplink] = true
	if uplink == "lo" {
		problems = append(problems, errors.New(`uplink interface name "lo" is taken`))
	}
	tp := &Topology{Prefix: prefix, Host: NS(prefix + "-host")}
	for i := 1; i <= n; i++ {
		hostIf := fmt.Sprintf("tap%d", i)
		if len(opts.HostIfNames) == n {
			hostIf = opts.HostIfNames[i-1]
		}
		checkIf("host", hostIf)
		if seen[hostIf] || hostIf == "lo" {
			problems = append(problems, fmt.Errorf("host interface name %q used twice", hostIf))
		}
		seen[hostIf] = true
		p4 := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(i), 0}), 24)
		p6 := netip.MustParsePrefix(fmt.Sprintf("fd00:1:%x::/64", i))
		tp.Instances = append(tp.Instances, Instance{
			Index:      i,
			NS:         NS(fmt.Sprintf("%s-i%d", prefix, i)),
			HostIf:     hostIf,
			InstanceIf: instIf,
			Link:       newLink(p4, p6),
		})
	}
	i4 := netip.MustParsePrefix("203.0.113.0/24")
	i6 := netip.MustParsePrefix("2001:db8:ffff::/64")
	tp.Internet = Internet{NS: NS(prefix + "-inet"), HostIf: uplink, Link: newLink(i4, i6)}
	for _, p := range opts.InternetPrefixes {
		if !p.IsValid() {
			problems = append(problems, errors.New("invalid internet prefix"))
			continue
		}
		if p.Masked() != p {
			problems = append(problems, fmt.Errorf("internet prefix %s has host bits set", p))
			continue
		}
		for _, own := range tp.ownPrefixes() {
			if own.Overlaps(p) {
				problems = append(problems, fmt.Errorf("internet prefix %s overlaps the topology's link prefix %s", p, own))
			}
		}
		tp.Internet.Prefixes = append(tp.Internet.Prefixes, p)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	return tp, nil
}

func (tp *Topology) ownPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, in := range tp.Instances {
		out = append(out, in.Prefix4, in.Prefix6)
	}
	return append(out, tp.Internet.Prefix4, tp.Internet.Prefix6)
}

// nthAddr returns the address n after the prefix's first one.
func nthAddr(p netip.Prefix, n int) netip.Addr {
	a := p.Addr()
	for range n {
		a = a.Next()
	}
	return a
}

func bits(a netip.Addr, p netip.Prefix) string {
	return netip.PrefixFrom(a, p.Bits()).String()
}

func (tp *Topology) build() error {
	for _, ns := range tp.Namespaces() {
		if err := removeNS(ns); err != nil {
			return err
		}
		if err := runIP("netns", "add", string(ns)); err != nil {
			return err
		}
	}
	// Host settings before any interface exists, so new ones inherit them.
	for _, kv := range [][2]string{
		{"net.ipv4.ip_forward", "1"},
		{"net.ipv6.conf.all.forwarding", "1"},
		{"net.ipv4.conf.all.rp_filter", "0"},
		{"net.ipv4.conf.default.rp_filter", "0"},
		{"net.ipv6.conf.default.accept_dad", "0"},
	} {
		if err := Sysctl(tp.Host, kv[0], kv[1]); err != nil {
			return err
		}
	}
	host := []string{"link set lo up"}
	for _, in := range tp.Instances {
		host = append(host,
			fmt.Sprintf("link add %s type veth peer name %s netns %s", in.HostIf, in.InstanceIf, in.NS),
			fmt.Sprintf("addr add %s dev %s", bits(in.Gateway4, in.Prefix4), in.HostIf),
			fmt.Sprintf("addr add %s dev %s nodad", bits(in.Gateway6, in.Prefix6), in.HostIf),
			fmt.Sprintf("link set %s up", in.HostIf),
		)
	}
	inet := tp.Internet
	host = append(host,
		fmt.Sprintf("link add %s type veth peer name eth0 netns %s", inet.HostIf, inet.NS),
		fmt.Sprintf("addr add %s dev %s", bits(inet.Gateway4, inet.Prefix4), inet.HostIf),
		fmt.Sprintf("addr add %s dev %s nodad", bits(inet.Gateway6, inet.Prefix6), inet.HostIf),
		fmt.Sprintf("link set %s up", inet.HostIf),
	)
	for _, p := range inet.Prefixes {
		via := inet.Addr4
		if p.Addr().Is6() {
			via = inet.Addr6
		}
		host = append(host, fmt.Sprintf("route add %s via %s dev %s", p, via, inet.HostIf))
	}
	if err := ipBatch(tp.Host, host); err != nil {
		return err
	}
	for _, in := range tp.Instances {
		if err := setupLeaf(in.NS, in.InstanceIf, in.Link, nil); err != nil {
			return err
		}
	}
	if err := setupLeaf(inet.NS, "eth0", inet.Link, inet.Prefixes); err != nil {
		return err
	}
	// Interfaces created before the settings above or moved between
	// namespaces keep their own copies; set them per interface as well.
	ifs := []string{tp.Internet.HostIf}
	for _, in := range tp.Instances {
		ifs = append(ifs, in.HostIf)
	}
	for _, name := range ifs {
		if err := writeSysctl(tp.Host, "net/ipv4/conf/"+name+"/rp_filter", "0"); err != nil {
			return err
		}
	}
	return nil
}

// setupLeaf addresses a namespace at the end of one link and points its
// default routes at the host; local prefixes become wholly local (AnyIP).
func setupLeaf(ns NS, ifName string, l Link, local []netip.Prefix) error {
	for _, kv := range [][2]string{
		{"net/ipv4/conf/all/rp_filter", "0"},
		{"net/ipv4/conf/default/rp_filter", "0"},
		{"net/ipv4/conf/" + ifName + "/rp_filter", "0"},
		{"net/ipv6/conf/" + ifName + "/accept_dad", "0"},
	} {
		if err := writeSysctl(ns, kv[0], kv[1]); err != nil {
			return err
		}
	}
	lines := []string{
		"link set lo up",
		fmt.Sprintf("addr add %s dev %s", bits(l.Addr4, l.Prefix4), ifName),
		fmt.Sprintf("addr add %s dev %s nodad", bits(l.Addr6, l.Prefix6), ifName),
		fmt.Sprintf("link set %s up", ifName),
		fmt.Sprintf("route add default via %s dev %s", l.Gateway4, ifName),
		fmt.Sprintf("route add default via %s dev %s", l.Gateway6, ifName),
	}
	for _, p := range local {
		lines = append(lines, fmt.Sprintf("route add local %s dev lo", p))
		if p.Addr().Is6() {
			// IPv6 binds only to configured addresses, a local route is not
			// enough as it is for IPv4.
			if err := Sysctl(ns, "net.ipv6.ip_nonlocal_bind", "1"); err != nil {
				return err
			}
		}
	}
	return ipBatch(ns, lines)
}

// destroy removes every namespace of the topology, reporting all failures.
func (tp *Topology) destroy() error {
	var problems []error
	for _, ns := range tp.Namespaces() {
		if err := removeNS(ns); err != nil {
			problems = append(problems, err)
		}
	}
	return errors.Join(problems...)
}

// removeNS deletes the named namespace if it exists.
func removeNS(ns NS) error {
	if _, err := os.Lstat(ns.Path()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return runIP("netns", "delete", string(ns))
}

// staleAge is how old a generated namespace of a dead process must be before
// New removes it.
const staleAge = time.Minute

// sweepStale removes namespaces with a generated prefix whose creating
// process no longer runs (a crashed or killed earlier run) and that are at
// least minAge old. Failures are ignored: a leftover namespace never breaks
// a run, since names are unique.
func sweepStale(minAge time.Duration) {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, ok := stalePid(e.Name())
		if !ok || pid == strconv.Itoa(os.Getpid()) {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < minAge {
			continue
		}
		_ = removeNS(NS(e.Name()))
	}
}
