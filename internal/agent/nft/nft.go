// Package nft compiles an agent's desired state (its instances and their
// effective rule lists) into one nftables table of family inet, named
// palisade, and applies it atomically with nft -f: the whole table in one
// transaction, or, when the table holds a known earlier state, just what
// changed, in one transaction too.
//
// Each list is cut into segments — its platform entries, then each
// group's policies, in order — and each distinct segment is compiled once
// for the whole table: its regions (see package regions) become up to four
// concatenated interval verdict maps, one per key shape — peer address .
// protocol . destination port for TCP and UDP, peer address . protocol for
// the other protocols, in each family — whose elements carry the deciding
// entry's verdict: return (ACCEPT) or drop (DROP). A list's chain sends a
// packet to the chain of its key shape, which looks it up in the maps of
// the list's segments in turn: a packet no element of a segment holds goes
// on to the next segment, so the list's first match is kept, and a packet
// no segment decides meets the list's final counted drop. ACCEPT returns
// rather than accepts, so that traffic between two instances of one host
// passes the sender's egress and then the receiver's ingress; the base
// chain's policy accept lets it through. Each list's chain first drops
// packets of ct state invalid — there rather than in the base chain, so
// that the traffic of interfaces that are not instances is not touched.
// Instances whose lists are equal share one chain.
//
// An entry whose peer is a reference (a group, an address template) is,
// where that keeps the verdict exact, lifted out of its segment's maps
// into rules before them that look the peer up in a named set of the
// reference's addresses (see lift.go): a membership change then changes
// one set's elements.
//
// The maps count per element (a counter in their declaration): an entry's
// hit is the sum of its elements' counters, or a lifted entry's named
// counter, read by ReadCounters from nft's JSON listing. An entry has no
// chain of its own, so that a table of 100,000 entries is not 100,000
// chains. A segment's hits count the packets of every instance whose list
// holds it (Attribution).
//
// A group's maps, sets and hits are named after the group and the
// direction ("sg-1a2b3c4d.in.v4p", "sg-1a2b3c4d.in.7" for policy 7), the
// platform's after a hash of its entries ("pf-1a2b3c4d.out.pf0"); a list's
// chains and final counter after the instance (its ID, or a hash of an ID
// unfit for a name) and the direction ("ins-1a2b3c4d.in",
// "ins-1a2b3c4d.in.v4p", "ins-1a2b3c4d.in.default"). Ruleset.Counters maps
// each hit back to what it counts. A full apply starts every counter from
// zero, an incremental one those Restarted names: read them before.
//
// A segment whose regions exceed the region limit is compiled instead in
// the run-collapsed form: each run of consecutive entries with one action
// is one lookup in up to four interval sets holding the union of its
// entries as disjoint elements, in order, and the counters are then per
// run, not per entry.
//
// The package does no I/O but through the knftables.Interface and the
// Runner it is given.
package nft

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// Table is the name of the table the agent owns, in family inet.
const Table = "palisade"

// DefaultRegionLimit is the most regions one segment (a group's policies,
// the platform's entries) compiles to before it falls back to the
// run-collapsed form.
const DefaultRegionLimit = 65536

// Mode is where the agent enforces groups. The zero value is invalid.
type Mode uint8

// The modes of SPEC §7.
const (
	// Hypervisor filters forwarded traffic by each instance's host-side
	// interface: traffic leaving towards it is the instance's ingress,
	// traffic arriving from it its egress. Other interfaces are untouched.
	Hypervisor Mode = iota + 1
	// Host filters the machine's own traffic, input before iptables'
	// filter chain and output after it; loopback is not filtered.
	Host
)

// String returns hypervisor or host.
func (m Mode) String() string {
	switch m {
	case Hypervisor:
		return "hypervisor"
	case Host:
		return "host"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode parses hypervisor or host.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "hypervisor":
		return Hypervisor, nil
	case "host":
		return Host, nil
	}
	return 0, fmt.Errorf("mode %q: want hypervisor or host", s)
}

// Instance is one instance's desired state: its ID, its host-side
// interface (hypervisor mode; empty in host mode) and its effective lists.
type Instance struct {
	ID        string
	Interface string
	Ingress   rules.List
	Egress    rules.List
}

// Config is an agent's desired state.
type Config struct {
	Mode      Mode
	Instances []Instance // in host mode, exactly one: the host
	// RegionLimit is the most regions one segment may compile to before
	// it is run-collapsed; 0 is DefaultRegionLimit.
	RegionLimit int
}

// Form is how a list was compiled.
type Form uint8

// The forms.
const (
	FormRegions   Form = iota + 1 // verdict maps of disjoint regions, a counter per element, summed per entry
	FormCollapsed                 // one set lookup per run of same-action entries, a counter per run
)

// String returns regions or collapsed.
func (f Form) String() string {
	switch f {
	case FormRegions:
		return "regions"
	case FormCollapsed:
		return "collapsed"
	}
	return "Form(" + strconv.Itoa(int(f)) + ")"
}

// Attribution says what a hit counts: the packets of an instance's
// direction decided by the entries Origins — one entry's in the regions
// form (the sum of its map elements' counters), a run's entries in the
// collapsed form (Run set, a named counter), the implicit final DROP
// (rules.DefaultOrigin) for the list's default counter.
//
// A segment of a list — a group's policies, the platform's entries — is
// compiled once for every instance whose list holds it, and a list's final
// DROP once for the instances whose lists are equal: such a hit counts the
// packets of all of them. Instance is the first of them by ID, Shared
// lists them all, sorted (nil when there is one). So a hit's sum per group
// and policy is exact; per instance, the packets of the instances sharing
// it are reported against the first, which changes when it leaves (the
// hit goes on counting: what it counted until then stays the old
// instance's).
type Attribution struct {
	Instance  string
	Direction policy.Direction
	Origins   []rules.Origin
	Run       bool
	Shared    []string
}

// plain reports whether s is 1 to max letters, digits and the characters
// of extra, starting with a letter or digit.
func plain(s string, max int, extra string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i, c := range s {
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune(extra, c)) {
			return false
		}
	}
	return true
}

// part returns id for use in names: itself if it is at most 40 letters,
// digits, '-' and '_', otherwise "h" and a hash of it, stable across
// compilations.
func part(id string) string {
	if plain(id, 40, "-_") {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "h" + hex.EncodeToString(sum[:8])
}

// ifaceName reports whether s can be a Linux interface name as Palisade
// accepts them: 1 to 15 letters, digits, '-', '_' and '.'.
func ifaceName(s string) bool { return plain(s, 15, "-_.") }

func dirPart(d policy.Direction) string {
	if d == policy.Egress {
		return "out"
	}
	return "in"
}

// validate reports every problem of a configuration at once.
func (c *Config) validate() error {
	var errs []error
	switch c.Mode {
	case Hypervisor:
	case Host:
		if len(c.Instances) != 1 {
			errs = append(errs, fmt.Errorf("host mode: %d instances, want exactly one (the host)", len(c.Instances)))
		}
	default:
		errs = append(errs, fmt.Errorf("invalid mode %d", c.Mode))
	}
	if c.RegionLimit < 0 {
		errs = append(errs, fmt.Errorf("negative region limit %d", c.RegionLimit))
	}
	ids := map[string]string{}
	ifaces := map[string]string{}
	for i := range c.Instances {
		in := &c.Instances[i]
		if in.ID == "" {
			errs = append(errs, fmt.Errorf("instance %d: empty ID", i))
			continue
		}
		if prev, ok := ids[part(in.ID)]; ok {
			errs = append(errs, fmt.Errorf("instance %q: same name as instance %q", in.ID, prev))
		}
		ids[part(in.ID)] = in.ID
		if in.Ingress.Direction != policy.Ingress {
			errs = append(errs, fmt.Errorf("instance %q: ingress list of direction %v", in.ID, in.Ingress.Direction))
		}
		if in.Egress.Direction != policy.Egress {
			errs = append(errs, fmt.Errorf("instance %q: egress list of direction %v", in.ID, in.Egress.Direction))
		}
		switch {
		case c.Mode == Host && in.Interface != "":
			errs = append(errs, fmt.Errorf("instance %q: host mode filters the host's own traffic, not interface %q", in.ID, in.Interface))
		case c.Mode != Hypervisor:
		case !ifaceName(in.Interface):
			errs = append(errs, fmt.Errorf("instance %q: invalid interface name %q", in.ID, in.Interface))
		case ifaces[in.Interface] != "":
			errs = append(errs, fmt.Errorf("instance %q: interface %q is also instance %q's", in.ID, in.Interface, ifaces[in.Interface]))
		default:
			ifaces[in.Interface] = in.ID
		}
	}
	return errors.Join(errs...)
}
