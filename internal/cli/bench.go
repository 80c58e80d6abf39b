package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/internal/classbench"
)

func newBenchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark Palisade's components",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newBenchClassifyCommand(), newBenchPropagationCommand())
	return cmd
}

func newBenchClassifyCommand() *cobra.Command {
	var (
		rules  string
		opt    classbench.Options
		output string
	)
	cmd := &cobra.Command{
		Use:   "classify --rules FILE",
		Short: "Time the packet classifier on a ClassBench filter set",
		Long: `Time the packet classifier on a ClassBench filter set.

The trace holds --packets headers generated from --seed: half inside the box
of a random rule, half uniformly random. The compiled lookup is timed over the
whole trace in several rounds (the median is reported), the linear reference
on its first 50,000 packets; every packet of the trace is checked against the
reference and disagreements are reported as mismatches.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			rs, err := classbench.ReadFile(rules)
			if err != nil {
				return err
			}
			res, err := classbench.Measure(rs, opt)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			return printBench(out, rules, res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&rules, "rules", "", "ClassBench filter set `file`")
	f.IntVar(&opt.Packets, "packets", 1_000_000, "packets in the trace")
	f.Uint64Var(&opt.Seed, "seed", 1, "trace seed")
	f.IntVar(&opt.Rounds, "rounds", 5, "timed rounds of the compiled lookup")
	f.IntVar(&opt.LinearPackets, "linear-packets", 50_000, "packets the linear reference is timed on")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	_ = cmd.MarkFlagRequired("rules")
	return cmd
}

func printBench(w io.Writer, name string, r classbench.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "rules\t%s: %d rules\n", name, r.Rules)
	fmt.Fprintf(tw, "packets\t%d (seed %d)\n", r.Packets, r.Seed)
	fmt.Fprintf(tw, "compiled\t%.1f ns/lookup (median of %d rounds), %.2g allocs/lookup\n", r.CompiledNsPerLookup, len(r.CompiledRoundsNs), r.AllocsPerLookup)
	fmt.Fprintf(tw, "linear\t%.0f ns/lookup (%d packets)\n", r.LinearNsPerLookup, r.LinearPackets)
	fmt.Fprintf(tw, "speedup\t%.0fx\n", r.Speedup)
	fmt.Fprintf(tw, "build\t%.1f ms, %d tables\n", r.BuildMs, r.Tables)
	fmt.Fprintf(tw, "memory\t%.1f bytes/rule (live heap %.1f)\n", r.BytesPerRule, r.HeapBytesPerRule)
	fmt.Fprintf(tw, "mismatches\t%d\n", r.Mismatches)
	return tw.Flush()
}
