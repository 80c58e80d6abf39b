package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/internal/fleet"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/backend"
)

// propagationConfig is what `palisade bench propagation` runs.
type propagationConfig struct {
	agents, replicas int
	dsn, masterKey   string
	bench            fleet.BenchOptions
	agent            fleet.AgentOptions
}

func newBenchPropagationCommand() *cobra.Command {
	var (
		cfg          propagationConfig
		output       string
		cpuProfile   string
		allocProfile string
	)
	cmd := &cobra.Command{
		Use:   "propagation --agents N --instances M [--replicas R --db DSN]",
		Short: "Time how long a write takes to reach every agent it affects",
		Long: `Time how long a write takes to reach every agent it affects.

Starts --replicas servers in this process over the empty store --db (a
temporary SQLite file by default; several replicas need PostgreSQL), creates
--agents hosts, each followed by the real agent over a kernel that touches
nothing, through failover over every replica (agent i starts at replica i mod
R), and --instances instances spread over the hosts (instance i on host i mod
N), bound in blocks of --group-size to one group each.

Then --writes writes, one at a time and alternating replicas, each replacing
the first policy of the next group: a write's propagation is the time from
its acknowledgement until every agent of the hosts its group spans holds its
revision (read from the agents every 2 ms). Then --writers write at once for
--duration while the agents follow: the acknowledged writes per second, and
how long after the last one every agent holds it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			progress := func(format string, args ...any) {
				fmt.Fprintf(cmd.ErrOrStderr(), "bench: "+format+"\n", args...)
			}
			cfg.bench.Progress = progress
			// The profiles cover the measured phases: they begin once the
			// agents hold the layout.
			var cpuFile *os.File
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpu-profile: %w", err)
				}
				defer f.Close()
				cpuFile = f
			}
			var profErr error
			profiling := false
			cfg.bench.Measuring = func() {
				if cpuFile != nil {
					if err := pprof.StartCPUProfile(cpuFile); err != nil {
						profErr = fmt.Errorf("--cpu-profile: %w", err)
					} else {
						profiling = true
						progress("profiling the measured phases into %s", cpuProfile)
					}
				}
				if allocProfile != "" {
					if err := writeAllocs(allocProfile + ".base"); err != nil {
						profErr = errors.Join(profErr, fmt.Errorf("--alloc-profile: %w", err))
					}
				}
			}
			res, err := runPropagation(cmd.Context(), cfg, progress)
			if profiling {
				pprof.StopCPUProfile()
			}
			if err != nil {
				return err
			}
			if allocProfile != "" && profErr == nil {
				if err := writeAllocs(allocProfile); err != nil {
					profErr = fmt.Errorf("--alloc-profile: %w", err)
				}
			}
			if profErr != nil {
				return profErr
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			return printPropagation(out, res)
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.agents, "agents", 100, "hosts, each followed by an agent")
	f.IntVar(&cfg.bench.Instances, "instances", 1000, "instances, spread over the hosts")
	f.IntVar(&cfg.bench.GroupSize, "group-size", 1000, "instances bound to each group")
	f.IntVar(&cfg.replicas, "replicas", 1, "servers started over the store")
	f.StringVar(&cfg.dsn, "db", "", "an empty store's DSN (default: a temporary SQLite file)")
	f.StringVar(&cfg.masterKey, "master-key-file", "", "master key file (default: a temporary one)")
	f.IntVar(&cfg.bench.Writes, "writes", 50, "writes measured one at a time")
	f.IntVar(&cfg.bench.Writers, "writers", 4, "concurrent writers of the throughput phase")
	f.DurationVar(&cfg.bench.Duration, "duration", 10*time.Second, "length of the throughput phase")
	f.DurationVar(&cfg.agent.WatchWait, "watch-wait", 0, "how long one WatchHostState waits (default the agent's)")
	f.StringVar(&allocProfile, "alloc-profile", "", "write the allocations of the measured phases to `file`, to read with go tool pprof -base file.base (written when they begin)")
	f.StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the measured phases (replicas and agents) to `file`")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// writeAllocs writes the allocations profile so far to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runPropagation seeds the store, starts the replicas and the agents, and
// runs the benchmark.
func runPropagation(ctx context.Context, cfg propagationConfig, progress func(string, ...any)) (fleet.Result, error) {
	switch {
	case cfg.agents <= 0:
		return fleet.Result{}, fmt.Errorf("--agents %d: want at least one", cfg.agents)
	case cfg.replicas <= 0:
		return fleet.Result{}, fmt.Errorf("--replicas %d: want at least one", cfg.replicas)
	}
	tmp, err := os.MkdirTemp("", "palisade-bench-")
	if err != nil {
		return fleet.Result{}, err
	}
	defer os.RemoveAll(tmp)
	if cfg.dsn == "" {
		cfg.dsn = "sqlite:" + filepath.Join(tmp, "palisade.db")
	}
	if cfg.replicas > 1 && !backend.Shared(cfg.dsn) {
		return fleet.Result{}, fmt.Errorf("--replicas %d: several replicas need a store they can share (--db postgres://…)", cfg.replicas)
	}
	if cfg.masterKey == "" {
		cfg.masterKey = filepath.Join(tmp, "master.key")
	}

	progress("seeding %d hosts in %s", cfg.agents, backend.Redacted(cfg.dsn))
	creds, err := seedFleet(ctx, cfg)
	if err != nil {
		return fleet.Result{}, err
	}

	rctx, stopReplicas := context.WithCancel(ctx)
	defer stopReplicas()
	var endpoints []string
	done := make(chan error, cfg.replicas)
	for range cfg.replicas {
		ready := make(chan net.Addr, 1)
		go func() {
			done <- Serve(rctx, ServeConfig{Listen: "127.0.0.1:0", DSN: cfg.dsn, MasterKeyFile: cfg.masterKey,
				Ready: func(a net.Addr) { ready <- a }}, io.Discard, slog.New(slog.DiscardHandler))
		}()
		select {
		case a := <-ready:
			endpoints = append(endpoints, "http://"+a.String())
		case err := <-done:
			return fleet.Result{}, fmt.Errorf("start a replica: %w", err)
		}
	}
	progress("%d replicas at %v", cfg.replicas, endpoints)
	lay, err := fleet.Lay(ctx, creds, endpoints[0], cfg.bench)
	if err != nil {
		return fleet.Result{}, err
	}
	progress("starting %d agents", cfg.agents)
	fl, err := fleet.Start(creds, endpoints, cfg.agent)
	if err != nil {
		return fleet.Result{}, err
	}
	defer fl.Stop()
	res, err := fleet.Bench(ctx, creds, endpoints, lay, fl, cfg.bench)
	if err != nil {
		return res, err
	}
	fl.Stop()
	stopReplicas()
	for range cfg.replicas {
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			return res, fmt.Errorf("a replica: %w", err)
		}
	}
	return res, nil
}

// seedFleet creates the fleet's account and hosts in the store, which must
// hold no account yet, and closes it.
func seedFleet(ctx context.Context, cfg propagationConfig) (fleet.Credentials, error) {
	st, err := backend.OpenWith(cfg.dsn, backend.Options{MasterKeyFile: cfg.masterKey})
	if err != nil {
		return fleet.Credentials{}, err
	}
	defer st.Close()
	var n int
	if err := st.View(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.CountAccounts(ctx)
		return err
	}); err != nil {
		return fleet.Credentials{}, err
	}
	if n > 0 {
		return fleet.Credentials{}, fmt.Errorf("--db %s holds %d accounts: the benchmark needs an empty store", backend.Redacted(cfg.dsn), n)
	}
	return fleet.Seed(ctx, service.New(st, service.Options{}), cfg.agents)
}

func printPropagation(w io.Writer, r fleet.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "fleet\t%d replicas, %d agents, %d instances in %d groups (a write reaches %d hosts)\n", r.Replicas, r.Agents, r.Instances, r.Groups, r.HostsPerWrite)
	fmt.Fprintf(tw, "setup\t%.1f s, then the agents started and held it %.1f s later\n", r.SetupSeconds, r.ConvergeSeconds)
	fmt.Fprintf(tw, "propagation\tp50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (%d writes one at a time; ack p50 %.1f ms)\n",
		r.PropagationMs.P50, r.PropagationMs.P90, r.PropagationMs.P99, r.PropagationMs.Max, r.Writes, r.AckMsP50)
	fmt.Fprintf(tw, "throughput\t%.1f writes/s from %d writers (%d writes, ack p99 %.1f ms, %d busy, %d errors); every agent held the last %.0f ms after it\n",
		r.WritesPerSecond, r.Writers, r.ThroughputWrites, r.ThroughputAckP99, r.ThroughputRetries, r.ThroughputErrors, r.CatchUpMs)
	return tw.Flush()
}
