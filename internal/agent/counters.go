package agent

import (
	"cmp"
	"slices"

	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/wire"
)

// counterKey is what a counter counts, for reports: one rule of one
// instance's list. The platform address rules are counted together.
type counterKey struct {
	instance  string
	direction policy.Direction
	group     string // "" for a platform rule
	index     int
	platform  rules.PlatformRule
}

type reading struct {
	key            counterKey
	packets, bytes uint64
	// off is what the counter had counted before it counted for key: a
	// counter of a list or group shared by several instances is reported
	// against the first of them (nft.Attribution), which changes when
	// that one leaves; the kernel's counter goes on, and what it counted
	// before is kept under the previous key.
	offPackets, offBytes uint64
}

// counted returns what r counted for its key.
func (r reading) counted() (packets, bytes uint64) {
	return r.packets - r.offPackets, r.bytes - r.offBytes
}

// counterTotals sums the kernel's counters per rule since the agent
// started, across re-applies: a counter made again (it reads less than
// before) or gone keeps what it had counted in base; a counter reported
// against another key from one reading to the next keeps what it had
// counted under the old key, and counts on under the new one.
type counterTotals struct {
	base map[counterKey]reading
	last map[string]reading // by counter name
}

func newCounterTotals() counterTotals {
	return counterTotals{base: map[counterKey]reading{}, last: map[string]reading{}}
}

// keyOf returns the rule a counter counts, or false for the counters not
// reported: the implicit final DROP and the runs of the collapsed form,
// which count several policies together.
func keyOf(a nft.Attribution) (counterKey, bool) {
	if a.Run || len(a.Origins) != 1 {
		return counterKey{}, false
	}
	o := a.Origins[0]
	switch o.Layer {
	case rules.LayerSecurityGroup:
		return counterKey{instance: a.Instance, direction: a.Direction, group: o.GroupID, index: o.PolicyIndex}, true
	case rules.LayerPlatform:
		return counterKey{instance: a.Instance, direction: a.Direction, index: -1, platform: o.Platform}, true
	}
	return counterKey{}, false
}

// update takes a reading of every counter of the applied table.
func (c *counterTotals) update(hits []nft.Hit) {
	seen := make(map[string]bool, len(hits))
	for _, h := range hits {
		k, ok := keyOf(h.Attribution)
		if !ok {
			continue
		}
		seen[h.Counter] = true
		r := reading{key: k, packets: h.Packets, bytes: h.Bytes}
		if prev, ok := c.last[h.Counter]; ok {
			switch {
			case h.Packets < prev.packets || h.Bytes < prev.bytes:
				c.keep(prev) // made again: it counts from zero
			case prev.key != k:
				c.keep(prev)
				r.offPackets, r.offBytes = prev.packets, prev.bytes
			default:
				r.offPackets, r.offBytes = prev.offPackets, prev.offBytes
			}
		}
		c.last[h.Counter] = r
	}
	for name, r := range c.last {
		if !seen[name] {
			c.keep(r)
			delete(c.last, name)
		}
	}
}

func (c *counterTotals) keep(r reading) {
	b := c.base[r.key]
	p, n := r.counted()
	b.packets += p
	b.bytes += n
	b.key = r.key
	c.base[r.key] = b
}

// report returns the totals per rule, in a stable order.
func (c *counterTotals) report() []wire.HostCounter {
	sum := make(map[counterKey]reading, len(c.base)+len(c.last))
	for k, r := range c.base {
		sum[k] = r
	}
	for _, r := range c.last {
		s := sum[r.key]
		p, n := r.counted()
		s.key, s.packets, s.bytes = r.key, s.packets+p, s.bytes+n
		sum[r.key] = s
	}
	keys := make([]counterKey, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b counterKey) int {
		return cmp.Or(cmp.Compare(a.instance, b.instance), cmp.Compare(a.direction, b.direction), cmp.Compare(a.platform, b.platform),
			cmp.Compare(a.group, b.group), cmp.Compare(a.index, b.index))
	})
	out := make([]wire.HostCounter, 0, len(keys))
	for _, k := range keys {
		r := sum[k]
		hc := wire.HostCounter{
			InstanceId: new(wire.String(k.instance)),
			Direction:  new(wire.String(k.direction.String())),
			Packets:    wire.NewInt(int64(r.packets)),
			Bytes:      wire.NewInt(int64(r.bytes)),
		}
		if k.platform != 0 {
			hc.Platform = new(wire.String(k.platform.String()))
		} else {
			hc.SecurityGroupId = new(wire.String(k.group))
			hc.PolicyIndex = wire.NewInt(int64(k.index))
		}
		out = append(out, hc)
	}
	return out
}

// restarted takes the counters named as counting from zero again: their
// last readings are final.
func (c *counterTotals) restarted(names []string) {
	for _, name := range names {
		if r, ok := c.last[name]; ok {
			c.keep(r)
			delete(c.last, name)
		}
	}
}
