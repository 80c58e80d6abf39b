package classbench

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-sg/palisade/internal/eval"
)

// Options tune Measure. Zero fields take their defaults.
type Options struct {
	Packets       int    // packets in the trace; default 1,000,000
	Seed          uint64 // trace seed
	Rounds        int    // timed rounds of the compiled lookup over the trace; default 5
	Builds        int    // timed compilations; default 5
	LinearPackets int    // packets the linear reference is timed on; default 50,000
	Workers       int    // goroutines checking mismatches; default GOMAXPROCS
}

func (o Options) withDefaults() Options {
	if o.Packets <= 0 {
		o.Packets = 1_000_000
	}
	if o.Rounds <= 0 {
		o.Rounds = 5
	}
	if o.Builds <= 0 {
		o.Builds = 5
	}
	if o.LinearPackets <= 0 {
		o.LinearPackets = 50_000
	}
	o.LinearPackets = min(o.LinearPackets, o.Packets)
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// Result is what Measure found.
type Result struct {
	Rules   int    `json:"rules"`
	Packets int    `json:"packets"`
	Seed    uint64 `json:"seed"`
	// CompiledNsPerLookup is the median over rounds of the mean time of one
	// Classifier.Decide over the whole trace.
	CompiledNsPerLookup float64   `json:"compiled_ns_per_lookup"`
	CompiledRoundsNs    []float64 `json:"compiled_rounds_ns"`
	// LinearNsPerLookup is the mean time of one Linear.Decide over the first
	// LinearPackets packets of the trace.
	LinearNsPerLookup float64 `json:"linear_ns_per_lookup"`
	LinearPackets     int     `json:"linear_packets"`
	Speedup           float64 `json:"speedup"`
	// BuildMs is the median time of eval.Compile.
	BuildMs float64 `json:"build_ms"`
	// BytesPerRule counts the bytes of the compiled lookup structures;
	// HeapBytesPerRule is the median growth of the live heap across
	// Compile.
	BytesPerRule     float64 `json:"bytes_per_rule"`
	HeapBytesPerRule float64 `json:"heap_bytes_per_rule"`
	Tables           int     `json:"tables"`
	AllocsPerLookup  float64 `json:"allocs_per_lookup"`
	// Mismatches counts the packets of the whole trace on which the
	// Classifier and the linear reference disagree (rule or no rule).
	Mismatches int `json:"mismatches"`
}

// Measure compiles rules, times the compiled and the linear lookups on a
// generated trace, and checks every packet of the trace against the linear
// reference.
func Measure(rules []eval.Rule, opt Options) (Result, error) {
	opt = opt.withDefaults()
	res := Result{Rules: len(rules), Packets: opt.Packets, Seed: opt.Seed, LinearPackets: opt.LinearPackets}

	builds := make([]float64, opt.Builds)
	heap := make([]float64, opt.Builds)
	var c *eval.Classifier
	for i := range builds {
		c = nil
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		var err error
		c, err = eval.Compile(rules)
		builds[i] = float64(time.Since(start).Nanoseconds()) / 1e6
		if err != nil {
			return Result{}, fmt.Errorf("compile: %w", err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap[i] = float64(int64(after.HeapAlloc) - int64(before.HeapAlloc))
		runtime.KeepAlive(c)
	}
	res.BuildMs = median(builds)
	if len(rules) > 0 {
		res.HeapBytesPerRule = median(heap) / float64(len(rules))
	}
	st := c.Stats()
	res.BytesPerRule, res.Tables = st.BytesPerRule, st.Tables4+st.Tables6

	pkts := Packets(rules, opt.Packets, opt.Seed)
	lin := eval.Linear(rules)

	// Warm up, then time the rounds.
	for _, p := range pkts[:min(len(pkts), 10_000)] {
		c.Decide(p)
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for range opt.Rounds {
		start := time.Now()
		for _, p := range pkts {
			c.Decide(p)
		}
		res.CompiledRoundsNs = append(res.CompiledRoundsNs, perOp(time.Since(start), len(pkts)))
	}
	runtime.ReadMemStats(&ms1)
	if n := uint64(opt.Rounds * len(pkts)); n > 0 {
		// Whole allocations per lookup, as testing.AllocsPerRun counts
		// them: the runtime's own rare allocations do not show.
		res.AllocsPerLookup = float64((ms1.Mallocs - ms0.Mallocs) / n)
	}
	res.CompiledNsPerLookup = median(res.CompiledRoundsNs)

	start := time.Now()
	for _, p := range pkts[:opt.LinearPackets] {
		lin.Decide(p)
	}
	res.LinearNsPerLookup = perOp(time.Since(start), opt.LinearPackets)
	if res.CompiledNsPerLookup > 0 {
		res.Speedup = res.LinearNsPerLookup / res.CompiledNsPerLookup
	}

	res.Mismatches = mismatches(c, lin, pkts, opt.Workers)
	return res, nil
}

// mismatches counts the packets on which c and lin disagree.
func mismatches(c *eval.Classifier, lin eval.Linear, pkts []eval.Packet, workers int) int {
	var (
		bad  atomic.Int64
		next atomic.Int64
		wg   sync.WaitGroup
	)
	const chunk = 1024
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(pkts) {
					return
				}
				for _, p := range pkts[lo:min(lo+chunk, len(pkts))] {
					m, ok := c.Decide(p)
					lm, lok := lin.Decide(p)
					if m != lm || ok != lok {
						bad.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	return int(bad.Load())
}

func perOp(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / float64(n)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
