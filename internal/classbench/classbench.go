// Package classbench reads ClassBench filter sets and generates packet
// traces for them, to benchmark and test the evaluator on the standard sets
// of the packet-classification literature.
//
// A filter set has one rule a line, highest priority first:
//
//	@SRC/LEN  DST/LEN  SPLO : SPHI  DPLO : DPHI  PROTO/MASK  FLAGS/MASK
//
// The protocol mask is 0xFF (exact) or 0x00 (any protocol). The trailing
// TCP-flags field is checked for form and otherwise ignored: the evaluator
// does not match on flags.
package classbench

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/eval"
)

// ParseError reports a malformed line.
type ParseError struct {
	Line int    // 1-based line number
	Text string // the line as read
	Err  error  // what is wrong with it
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d: %v: %q", e.Line, e.Err, e.Text)
}

func (e *ParseError) Unwrap() error { return e.Err }

// maxLine bounds the length of one line.
const maxLine = 4096

// Parse reads a filter set. Rule i is the set's line i (blank lines are
// skipped), and its Decider is i. Every rule's action is eval.Accept. Parsing
// stops at the first malformed line, returned as a *ParseError.
func Parse(r io.Reader) ([]eval.Rule, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxLine)
	var rules []eval.Rule
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		rule, err := ParseRule(text)
		if err != nil {
			return nil, &ParseError{Line: line, Text: text, Err: err}
		}
		rule.Decider = int32(len(rules))
		rules = append(rules, rule)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return rules, nil
}

// ParseRule parses one line of a filter set. The rule's action is
// eval.Accept and its Decider 0.
func ParseRule(line string) (eval.Rule, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "@")
	if !ok {
		return eval.Rule{}, fmt.Errorf("missing leading @")
	}
	f := strings.Fields(rest)
	// SRC DST SPLO : SPHI DPLO : DPHI PROTO/MASK FLAGS/MASK
	if len(f) != 10 || f[3] != ":" || f[6] != ":" {
		return eval.Rule{}, fmt.Errorf("want 10 fields \"@SRC DST LO : HI LO : HI PROTO/MASK FLAGS/MASK\", have %d", len(f))
	}
	var (
		r   = eval.Rule{Action: eval.Accept}
		err error
	)
	if r.Src, err = parsePrefix(f[0]); err != nil {
		return eval.Rule{}, fmt.Errorf("source: %w", err)
	}
	if r.Dst, err = parsePrefix(f[1]); err != nil {
		return eval.Rule{}, fmt.Errorf("destination: %w", err)
	}
	if r.Src.Addr().Is4() != r.Dst.Addr().Is4() {
		return eval.Rule{}, fmt.Errorf("source %v and destination %v differ in address family", r.Src, r.Dst)
	}
	if r.SrcPorts, err = parseRange(f[2], f[4]); err != nil {
		return eval.Rule{}, fmt.Errorf("source port: %w", err)
	}
	if r.DstPorts, err = parseRange(f[5], f[7]); err != nil {
		return eval.Rule{}, fmt.Errorf("destination port: %w", err)
	}
	v, m, err := parseMasked(f[8], 8)
	if err != nil {
		return eval.Rule{}, fmt.Errorf("protocol: %w", err)
	}
	switch m {
	case 0xff:
		r.Proto = eval.Proto(v)
	case 0:
		r.Proto = eval.AnyProto
	default:
		return eval.Rule{}, fmt.Errorf("protocol: mask %#x is neither 0x00 nor 0xFF", m)
	}
	if _, _, err := parseMasked(f[9], 16); err != nil {
		return eval.Rule{}, fmt.Errorf("flags: %w", err)
	}
	return r, nil
}

// parsePrefix parses an address/length whose address may have bits set
// beyond the length; it returns the masked prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("prefix %q has a zone", s)
	}
	return p.Masked(), nil
}

func parseRange(lo, hi string) (eval.PortRange, error) {
	l, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return eval.PortRange{}, err
	}
	h, err := strconv.ParseUint(hi, 10, 16)
	if err != nil {
		return eval.PortRange{}, err
	}
	if l > h {
		return eval.PortRange{}, fmt.Errorf("range %d : %d is empty", l, h)
	}
	return eval.PortRange{Lo: uint16(l), Hi: uint16(h)}, nil
}

// parseMasked parses "0xVV/0xMM", each at most bits wide.
func parseMasked(s string, bits int) (value, mask uint64, err error) {
	v, m, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want VALUE/MASK", s)
	}
	if value, err = parseHex(v, bits); err != nil {
		return 0, 0, err
	}
	if mask, err = parseHex(m, bits); err != nil {
		return 0, 0, err
	}
	return value, mask, nil
}

func parseHex(s string, bits int) (uint64, error) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		h, ok = strings.CutPrefix(s, "0X")
	}
	if !ok || h == "" {
		return 0, fmt.Errorf("%q: want a 0x hexadecimal number", s)
	}
	return strconv.ParseUint(h, 16, bits)
}

// Format writes a rule as one filter-set line (without a newline), with
// flags 0x0000/0x0000. Format and ParseRule round-trip.
func Format(r eval.Rule) string {
	proto := "0x00/0x00"
	if r.Proto != eval.AnyProto {
		proto = fmt.Sprintf("0x%02x/0xFF", int(r.Proto))
	}
	return fmt.Sprintf("@%v\t%v\t%d : %d\t%d : %d\t%s\t0x0000/0x0000\t",
		r.Src, r.Dst, r.SrcPorts.Lo, r.SrcPorts.Hi, r.DstPorts.Lo, r.DstPorts.Hi, proto)
}

// ReadFile parses the filter set in the named file.
func ReadFile(name string) ([]eval.Rule, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rules, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rules, nil
}

// SetsDir is where the standard filter sets live in the repository,
// relative to its root.
const SetsDir = "testdata/classbench"

// Locate walks up from dir and returns the first dir/…/testdata/classbench
// directory found: from any package of the repository, its root's.
func Locate(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, filepath.FromSlash(SetsDir))
		if fi, err := os.Stat(cand); err == nil && fi.IsDir() {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s above the working directory", SetsDir)
		}
		dir = parent
	}
}
