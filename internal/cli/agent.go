package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"sigs.k8s.io/knftables"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/agent"
	"github.com/palisade-sg/palisade/internal/agent/nft"
)

// Environment variables of agent, besides the client's.
const (
	envAgentMode     = "PALISADE_AGENT_MODE"
	envStateDir      = "PALISADE_STATE_DIR"
	envMetricsListen = "PALISADE_METRICS_LISTEN"
)

func newAgentCommand(g *globals) *cobra.Command {
	var mode, stateDir, metrics string
	var once, dryRun bool
	var o agent.Options
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Enforce this host's security groups in the kernel with nftables",
		Long: `Enforce this host's security groups in the kernel with nftables.

The agent signs in with the host's credential (palisade admin host create),
fetches the host's desired state and follows it, applying it atomically as one
nftables table, inet palisade. It repairs the table when it is changed behind
its back, keeps the last applied rules when the server is unreachable, and
restores them from --state-dir at start before the server answers.

--endpoint may list several servers (replicas), separated by commas: the agent
fails over between them, resuming from the revision it holds.

Modes: hypervisor filters forwarded traffic by each instance's host-side
interface; host filters this machine's own traffic, inbound before iptables'
filter table and outbound after it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.settings()
			if err != nil {
				return err
			}
			if p.SecretId == "" || p.SecretKey == "" {
				return fmt.Errorf("no credentials: give --secret-id and --secret-key of the host (palisade admin host create), or set %s and %s", envSecretID, envSecretKey)
			}
			if mode == "" {
				mode = g.env(envAgentMode)
			}
			if o.Mode, err = nft.ParseMode(mode); err != nil {
				return fmt.Errorf("--mode: %w", err)
			}
			if stateDir == "" {
				stateDir = g.env(envStateDir)
			}
			if stateDir == "" && !once {
				return fmt.Errorf("--state-dir is required (or %s): the agent restores the last applied rules from it at start", envStateDir)
			}
			o.StateDir = stateDir
			var servers []agent.Source
			for _, e := range strings.Split(p.Endpoint, ",") {
				if e = strings.TrimSpace(e); e != "" {
					servers = append(servers, client.New(e, p.SecretId, p.SecretKey, p.Region))
				}
			}
			if o.Source, err = agent.NewFailover(servers...); err != nil {
				return fmt.Errorf("--endpoint: %w", err)
			}
			o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			if dryRun {
				if !once {
					return errors.New("--dry-run needs --once")
				}
				o.Kernel = agent.NewKernelOver(knftables.NewFake(knftables.InetFamily, nft.Table))
			} else if o.Kernel, err = agent.NewKernel(); err != nil {
				return err
			}
			o.Conntrack = agent.ConntrackTool{}
			if metrics == "" {
				metrics = g.env(envMetricsListen)
			}
			ctx := cmd.Context()
			if metrics != "" {
				reg := prometheus.NewRegistry()
				if o.Metrics, err = agent.NewMetrics(reg); err != nil {
					return err
				}
				stop, err := serveMetrics(ctx, metrics, reg)
				if err != nil {
					return err
				}
				defer stop()
			}
			a, err := agent.New(o)
			if err != nil {
				return err
			}
			if once {
				return a.Once(ctx, dryRun, cmd.OutOrStdout())
			}
			return a.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "mode", "", "hypervisor or host (env "+envAgentMode+")")
	f.StringVar(&stateDir, "state-dir", "", "directory keeping the last applied state (env "+envStateDir+")")
	f.StringVar(&metrics, "metrics-listen", "", "address serving Prometheus /metrics, e.g. 127.0.0.1:9469 (env "+envMetricsListen+"; default: none)")
	f.BoolVar(&once, "once", false, "fetch and apply the desired state once, then exit")
	f.BoolVar(&dryRun, "dry-run", false, "with --once: print the ruleset that would be applied, change nothing")
	f.IntVar(&o.RegionLimit, "region-limit", 0, "most regions one segment (a group's policies, the platform's rules) compiles to before it is run-collapsed (0: the default)")
	f.DurationVar(&o.DriftInterval, "drift-interval", agent.DefaultDriftInterval, "how often the table is checked against the one applied")
	f.DurationVar(&o.ReportInterval, "report-interval", agent.DefaultReportInterval, "how often status and counters are reported")
	f.DurationVar(&o.WatchWait, "watch-wait", agent.DefaultWatchWait, "how long one long-poll for changes waits")
	return cmd
}

// serveMetrics serves reg's metrics on addr until ctx ends or stop is
// called.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(sctx) //nolint:errcheck
	}()
	return func() { close(done) }, nil
}
