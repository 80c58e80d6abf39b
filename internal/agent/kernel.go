package agent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/knftables"

	"github.com/palisade-sg/palisade/internal/agent/nft"
)

// Kernel is where the agent applies rulesets.
type Kernel interface {
	// Apply makes the table hold rs, incrementally from old when it can
	// (old nil: in full), atomically either way.
	Apply(ctx context.Context, old, rs *nft.Ruleset) (incremental bool, err error)
	// Counters reads the counters of the table, which must hold rs.
	Counters(ctx context.Context, rs *nft.Ruleset) ([]nft.Hit, error)
	// Digest sums the table as the kernel holds it, counter values aside,
	// so that any other change to it shows; "" when there is no table.
	// Without elements it leaves out the maps' and sets' elements, which
	// on a large host take seconds to list.
	Digest(ctx context.Context, elements bool) (string, error)
}

// NFT is a Kernel over knftables: the machine's nftables, or a fake.
type NFT struct {
	nft knftables.Interface
	run nft.Runner // nil for a fake
	// fake serialises calls on a fake, which lists its counters without
	// its own lock; the machine's nft needs no such thing.
	fake sync.Mutex
}

// serial locks k for one call when it is a fake, and returns the unlock.
func (k *NFT) serial() func() {
	if k.run != nil {
		return func() {}
	}
	k.fake.Lock()
	return k.fake.Unlock
}

// NewKernel returns the machine's nftables, table inet palisade.
func NewKernel() (*NFT, error) {
	k, err := knftables.New(knftables.InetFamily, nft.Table)
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	run := func(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "nft", args...)
		cmd.Stderr = &stderr
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("nft %s: %w: %.2000s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	return &NFT{nft: k, run: run}, nil
}

// NewKernelOver returns a Kernel over k (knftables.NewFake in tests).
func NewKernelOver(k knftables.Interface) *NFT { return &NFT{nft: k} }

func (k *NFT) Apply(ctx context.Context, old, rs *nft.Ruleset) (bool, error) {
	defer k.serial()()
	return nft.Apply(ctx, k.nft, k.run, old, rs)
}

func (k *NFT) Counters(ctx context.Context, rs *nft.Ruleset) ([]nft.Hit, error) {
	defer k.serial()()
	if f, ok := k.nft.(*knftables.Fake); ok {
		// The fake fails without its table rather than answering so.
		f.RLock()
		none := f.Table == nil
		f.RUnlock()
		if none {
			return nil, fmt.Errorf("no table %s", nft.Table)
		}
	}
	return nft.ReadCounters(ctx, k.nft, k.run, rs)
}

// counterValues are the values nft prints for counters.
var counterValues = regexp.MustCompile(`packets [0-9]+ bytes [0-9]+`)

func (k *NFT) Digest(ctx context.Context, elements bool) (string, error) {
	defer k.serial()()
	var text []byte
	if f, ok := k.nft.(*knftables.Fake); ok {
		f.RLock()
		none := f.Table == nil
		f.RUnlock()
		if none {
			return "", nil
		}
		if !elements {
			// The fake's rules carry no counter values: nothing to strip.
			h := sha256.New()
			terse(h, f)
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		text = []byte(f.Dump())
	} else {
		args := []string{"list", "table", "inet", nft.Table}
		if !elements {
			args = append([]string{"--terse"}, args...)
		}
		out, err := exec.CommandContext(ctx, "nft", args...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) && bytes.Contains(ee.Stderr, []byte("No such file or directory")) {
				return "", nil
			}
			return "", fmt.Errorf("nft list table inet %s: %w", nft.Table, err)
		}
		text = out
	}
	sum := sha256.Sum256(counterValues.ReplaceAll(text, nil))
	return hex.EncodeToString(sum[:]), nil
}

// terse writes the table of fake f as nft --terse lists a table: its
// chains and their rules, its sets and maps by name and type (with, where
// nft shows none, their element counts), its counters, not one element,
// into w.
// Dumping the fake's every element after each apply was most of the CPU
// of a thousand agents on fakes in one process.
func terse(w io.Writer, f *knftables.Fake) {
	f.RLock()
	defer f.RUnlock()
	t := f.Table
	b := bufio.NewWriterSize(w, 4096)
	defer b.Flush()
	if t.Comment != nil {
		b.WriteString("table ")
		b.WriteString(strconv.Quote(*t.Comment))
		b.WriteByte('\n')
	}
	for _, name := range slices.Sorted(maps.Keys(t.Chains)) {
		c := t.Chains[name]
		b.WriteString("chain ")
		b.WriteString(name)
		if c.Hook != nil {
			b.WriteString(" hook ")
			b.WriteString(string(*c.Hook))
		}
		if c.Priority != nil {
			b.WriteString(" priority ")
			b.WriteString(string(*c.Priority))
		}
		b.WriteByte('\n')
		for _, r := range c.Rules {
			b.WriteByte('\t')
			b.WriteString(r.Rule)
			b.WriteByte('\n')
		}
	}
	elems := func(kind, name, typ string, flags []knftables.SetFlag, n int) {
		b.WriteString(kind)
		b.WriteByte(' ')
		b.WriteString(name)
		b.WriteByte(' ')
		b.WriteString(typ)
		b.WriteString(" [")
		for i, fl := range flags {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(string(fl))
		}
		b.WriteString("] ")
		b.WriteString(strconv.Itoa(n))
		b.WriteByte('\n')
	}
	for _, name := range slices.Sorted(maps.Keys(t.Sets)) {
		s := t.Sets[name]
		elems("set", name, s.Type, s.Flags, len(s.Elements))
	}
	for _, name := range slices.Sorted(maps.Keys(t.Maps)) {
		m := t.Maps[name]
		elems("map", name, m.Type, m.Flags, len(m.Elements))
	}
	for _, name := range slices.Sorted(maps.Keys(t.Counters)) {
		b.WriteString("counter ")
		b.WriteString(name)
		b.WriteByte('\n')
	}
}
