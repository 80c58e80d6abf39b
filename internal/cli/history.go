package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/wire"
)

// ANSI colours of diff lines on a terminal.
const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiReset = "\x1b[0m"
)

func newHistoryCommand(g *globals) *cobra.Command {
	cmd := parentCommand("history", "A group's history: list its changes, show a version's diff, restore a version")

	var offset, limit int64
	list := &cobra.Command{Use: "list SG [--offset N] [--limit N]", Short: "List a group's changes, newest first (DescribeSecurityGroupHistory)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.DescribeSecurityGroupHistory(cmd.Context(), &wire.DescribeSecurityGroupHistoryRequest{
				SecurityGroupId: wire.NewString(args[0]), Offset: wire.NewIntString(offset), Limit: wire.NewIntString(limit)})
			if err != nil {
				return err
			}
			return g.emit(cmd, resp, func(w io.Writer) error {
				rows := make([][]string, len(resp.HistorySet))
				for i, e := range resp.HistorySet {
					action := e.Action
					if e.RestoredFrom != "" {
						action += " (from version " + e.RestoredFrom + ")"
					}
					rows[i] = []string{e.Version, e.Time, action, e.SecretId, changeSummary(e.Changes)}
				}
				if err := table(w, []string{"VERSION", "TIME (UTC)", "ACTION", "SECRET ID", "CHANGES"}, rows); err != nil {
					return err
				}
				if shown := offset + int64(len(resp.HistorySet)); uint64(shown) < resp.TotalCount {
					fmt.Fprintf(w, "(%d of %d changes; --offset %d for more)\n", len(resp.HistorySet), resp.TotalCount, shown)
				}
				return nil
			})
		}}
	list.ValidArgsFunction = completeFirst(g.groupIDs)
	list.Flags().Int64Var(&offset, "offset", 0, "skip this many of the newest changes")
	list.Flags().Int64Var(&limit, "limit", 20, "list at most this many changes (1-100)")

	var color string
	show := &cobra.Command{Use: "show SG VERSION [--color auto|always|never]", Short: "Show the diff of a version: the changes that left the group at it",
		Long: `Show the diff of a version: the changes that left the group at it (its
policy write, then any attribute or tag change made while it was current).
Lines read "+ Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh" (added), "- …"
(removed) and "~ Name: "a" -> "b"" (an attribute changed); on a terminal
added lines are green and removed ones red, unless NO_COLOR is set.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			version, err := versionArg(args[1])
			if err != nil {
				return err
			}
			useColor, err := g.colorOn(cmd.OutOrStdout(), color)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			// Every change of that version, a page of 100 at a time.
			var resp *wire.DescribeSecurityGroupHistoryResponse
			for {
				page, err := c.DescribeSecurityGroupHistory(cmd.Context(), &wire.DescribeSecurityGroupHistoryRequest{
					SecurityGroupId: wire.NewString(args[0]), Version: wire.NewString(version),
					Offset: wire.NewIntString(int64(historyLen(resp))), Limit: wire.NewIntString(100)})
				if err != nil {
					return err
				}
				if resp == nil {
					resp = page
				} else {
					resp.HistorySet = append(resp.HistorySet, page.HistorySet...)
				}
				if len(page.HistorySet) == 0 || uint64(len(resp.HistorySet)) >= page.TotalCount {
					break
				}
			}
			if len(resp.HistorySet) == 0 {
				return fmt.Errorf("version %s of %s is not in its history", version, args[0])
			}
			return g.emit(cmd, resp, func(w io.Writer) error {
				// Oldest first, as the changes were made.
				for i := len(resp.HistorySet) - 1; i >= 0; i-- {
					e := resp.HistorySet[i]
					head := fmt.Sprintf("version %s  %s  %s  by %s  request %s", e.Version, e.Time, e.Action, e.SecretId, e.RequestId)
					if e.RestoredFrom != "" {
						head += "  restored from version " + e.RestoredFrom
					}
					fmt.Fprintln(w, head)
					if len(e.Changes) == 0 {
						fmt.Fprintln(w, "  (no change to the policies or attributes)")
					}
					for _, ch := range e.Changes {
						fmt.Fprintln(w, diffLine(ch, useColor))
					}
				}
				return nil
			})
		}}
	show.ValidArgsFunction = completeFirst(g.groupIDs)
	show.Flags().StringVar(&color, "color", "auto", "colour the diff: auto (on a terminal), always or never")

	var current string
	restore := &cobra.Command{Use: "restore SG VERSION [--version CURRENT]", Short: "Re-apply an earlier version's policies as a new version (RestoreSecurityGroupVersion)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			version, err := versionArg(args[1])
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			req := &wire.RestoreSecurityGroupVersionRequest{SecurityGroupId: wire.NewString(args[0]), Version: wire.NewString(version)}
			if current != "" {
				req.SecurityGroupPolicySetVersion = wire.NewString(current)
			}
			resp, err := c.RestoreSecurityGroupVersion(cmd.Context(), req)
			if err != nil {
				return err
			}
			g.printWarnings(cmd, resp.Warnings)
			return g.emit(cmd, resp, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Restored version %s of %s as version %s.\n", version, args[0], resp.Version)
				return err
			})
		}}
	restore.ValidArgsFunction = completeFirst(g.groupIDs)
	restore.Flags().StringVar(&current, "version", "", "fail unless the group's policy Version is this one (optimistic concurrency)")

	cmd.AddCommand(list, show, restore)
	return cmd
}

func historyLen(r *wire.DescribeSecurityGroupHistoryResponse) int {
	if r == nil {
		return 0
	}
	return len(r.HistorySet)
}

// versionArg checks a VERSION argument: a decimal integer.
func versionArg(s string) (string, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return "", fmt.Errorf("VERSION %q: want a version number", s)
	}
	return strconv.FormatUint(n, 10), nil
}

// changeSummary counts a change's lines: "+2 -1 ~1".
func changeSummary(cs []wire.HistoryChange) string {
	n := map[string]int{}
	for _, c := range cs {
		n[c.Kind]++
	}
	var parts []string
	for _, k := range []string{"+", "-", "~"} {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s%d", k, n[k]))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// diffLine formats one line of a diff, indented, green when added and red
// when removed if color is on.
func diffLine(c wire.HistoryChange, color bool) string {
	line := "  " + c.Kind + " " + c.Text
	if !color {
		return line
	}
	switch c.Kind {
	case "+":
		return ansiGreen + line + ansiReset
	case "-":
		return ansiRed + line + ansiReset
	}
	return line
}

// colorOn decides whether a diff written to w is coloured: --color always
// or never, or auto: on a terminal, unless NO_COLOR is set, never with -o
// json.
func (g *globals) colorOn(w io.Writer, mode string) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if g.output == "json" || g.env("NO_COLOR") != "" {
			return false, nil
		}
		f, ok := w.(*os.File)
		return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())), nil
	}
	return false, fmt.Errorf("--color %q: want auto, always or never", mode)
}
