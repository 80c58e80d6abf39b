package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/policy"
)

// Flow is one connection tracking entry, in its original direction.
type Flow struct {
	Proto              uint8
	Src, Dst           netip.Addr
	SrcPort, DstPort   uint16 // TCP and UDP only
	hasPorts           bool
	family, protoField string
}

// Conntrack lists and deletes the kernel's connection tracking entries.
type Conntrack interface {
	List(ctx context.Context) ([]Flow, error)
	Delete(ctx context.Context, f Flow) error
}

// ConntrackTool is Conntrack through the conntrack program
// (conntrack-tools).
type ConntrackTool struct{}

func (ConntrackTool) List(ctx context.Context) ([]Flow, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "conntrack", "-L", "-o", "extended")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("conntrack -L: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseConntrack(out)
}

func (ConntrackTool) Delete(ctx context.Context, f Flow) error {
	args := []string{"-D", "-f", f.family, "-p", strconv.Itoa(int(f.Proto)), "--orig-src", f.Src.String(), "--orig-dst", f.Dst.String()}
	if f.hasPorts {
		args = append(args, "--orig-port-src", strconv.Itoa(int(f.SrcPort)), "--orig-port-dst", strconv.Itoa(int(f.DstPort)))
	}
	out, err := exec.CommandContext(ctx, "conntrack", args...).CombinedOutput()
	// An entry gone meanwhile (it timed out) is what was asked.
	if err != nil && !bytes.Contains(out, []byte("0 flow entries")) {
		return fmt.Errorf("conntrack %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// parseConntrack reads `conntrack -L -o extended`: per line the family,
// its number, the protocol's name and number, and key=value fields, the
// first src, dst, sport and dport being the original direction's. A line
// it cannot read is an error naming it.
func parseConntrack(out []byte) ([]Flow, error) {
	var flows []Flow
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "conntrack v") {
			continue
		}
		f, err := parseFlow(line)
		if err != nil {
			return nil, fmt.Errorf("conntrack line %d %q: %w", n, line, err)
		}
		flows = append(flows, f)
	}
	return flows, sc.Err()
}

func parseFlow(line string) (Flow, error) {
	fields := strings.Fields(line)
	if len(fields) < 4 {
		return Flow{}, fmt.Errorf("too few fields")
	}
	var f Flow
	f.family = fields[0]
	if f.family != "ipv4" && f.family != "ipv6" {
		return Flow{}, fmt.Errorf("family %q", f.family)
	}
	num, err := strconv.ParseUint(fields[3], 10, 8)
	if err != nil {
		return Flow{}, fmt.Errorf("protocol number %q", fields[3])
	}
	f.Proto, f.protoField = uint8(num), fields[2]
	seen := map[string]bool{}
	for _, kv := range fields[4:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		switch k {
		case "src", "dst":
			a, err := netip.ParseAddr(v)
			if err != nil {
				return Flow{}, fmt.Errorf("%s %q", k, v)
			}
			if k == "src" {
				f.Src = a
			} else {
				f.Dst = a
			}
		case "sport", "dport":
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return Flow{}, fmt.Errorf("%s %q", k, v)
			}
			f.hasPorts = true
			if k == "sport" {
				f.SrcPort = uint16(p)
			} else {
				f.DstPort = uint16(p)
			}
		}
	}
	if !f.Src.IsValid() || !f.Dst.IsValid() {
		return Flow{}, fmt.Errorf("no original addresses")
	}
	return f, nil
}

// flushable returns the flows that the lists of instances no longer admit
// (a flow between two instances of the host: either leg), given as
// instance lists by address. It decides through the evaluator, as the
// kernel's rules do.
func flushable(flows []Flow, instances []hoststate.Instance, only map[string]bool) ([]Flow, error) {
	type legs struct{ in, out *eval.Effective }
	byAddr := map[netip.Addr]*legs{}
	for i := range instances {
		in := &instances[i]
		if !only[in.ID] {
			continue
		}
		l := &legs{}
		var err error
		if l.in, err = eval.CompileList(in.Ingress); err != nil {
			return nil, fmt.Errorf("%s: %w", in.ID, err)
		}
		if l.out, err = eval.CompileList(in.Egress); err != nil {
			return nil, fmt.Errorf("%s: %w", in.ID, err)
		}
		for _, s := range append(append([]string(nil), in.PrivateIPs...), in.IPv6s...) {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("address %q of %s: %w", s, in.ID, err)
			}
			byAddr[a.Unmap()] = l
		}
	}
	var out []Flow
	for _, f := range flows {
		port := f.DstPort
		if !f.hasPorts {
			port = 0
		}
		drop := false
		if l := byAddr[f.Src.Unmap()]; l != nil {
			drop = drop || l.out.Decide(eval.Query{Peer: f.Dst, Proto: f.Proto, Port: port}).Verdict != policy.Accept
		}
		if l := byAddr[f.Dst.Unmap()]; l != nil {
			drop = drop || l.in.Decide(eval.Query{Peer: f.Src, Proto: f.Proto, Port: port}).Verdict != policy.Accept
		}
		if drop {
			out = append(out, f)
		}
	}
	return out, nil
}
