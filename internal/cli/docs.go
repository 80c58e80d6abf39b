package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newDocsCommand(g *globals) *cobra.Command {
	cmd := parentCommand("docs", "Generate documentation from the commands")
	man := &cobra.Command{Use: "man DIR", Short: "Write a man page (section 1) for every command into DIR", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			n := 0
			var walk func(c *cobra.Command) error
			walk = func(c *cobra.Command) error {
				if c.Hidden || (!c.IsAvailableCommand() && c != c.Root()) {
					return nil
				}
				name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
				f, err := os.Create(filepath.Join(args[0], name))
				if err != nil {
					return fmt.Errorf("man pages: %w", err)
				}
				if err := writeMan(f, c); err != nil {
					f.Close()
					return fmt.Errorf("man page %s: %w", name, err)
				}
				if err := f.Close(); err != nil {
					return fmt.Errorf("man page %s: %w", name, err)
				}
				n++
				for _, sub := range c.Commands() {
					if err := walk(sub); err != nil {
						return err
					}
				}
				return nil
			}
			if err := walk(cmd.Root()); err != nil {
				return err
			}
			doc := struct {
				Directory string
				Pages     int
			}{args[0], n}
			return g.emit(cmd, doc, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Wrote %d man pages to %s.\n", n, args[0])
				return err
			})
		}}
	cmd.AddCommand(man)
	return cmd
}

// roff escapes text for a man page.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			line = `\&` + line
		}
		b.WriteString(strings.ReplaceAll(line, "-", `\-`))
		b.WriteByte('\n')
	}
	return b.String()
}

// writeMan writes c's man page: name, synopsis, description, options,
// examples, subcommands and see also.
func writeMan(w io.Writer, c *cobra.Command) error {
	title := strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-"))
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %q 1 %q \"Palisade %s\" \"Palisade Manual\"\n", title, time.Now().UTC().Format("2006-01-02"), Version)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s", strings.ReplaceAll(c.CommandPath(), " ", "-"), roff(c.Short))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n", roff(c.UseLine()))
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	fmt.Fprintf(&b, ".SH DESCRIPTION\n%s", roff(desc))
	flags := func(title string, fs *pflag.FlagSet) {
		if !fs.HasAvailableFlags() {
			return
		}
		fmt.Fprintf(&b, ".SH %s\n", title)
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			name := "\\-\\-" + f.Name
			if f.Shorthand != "" {
				name = "\\-" + f.Shorthand + ", " + name
			}
			def := ""
			if f.DefValue != "" && f.DefValue != "[]" && f.DefValue != "false" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fR\n%s", name, roff(f.Usage+def))
		})
	}
	flags("OPTIONS", c.NonInheritedFlags())
	flags("GLOBAL OPTIONS", c.InheritedFlags())
	if c.Example != "" {
		fmt.Fprintf(&b, ".SH EXAMPLES\n.nf\n%s.fi\n", roff(c.Example))
	}
	var see []string
	if c.HasParent() {
		see = append(see, strings.ReplaceAll(c.Parent().CommandPath(), " ", "-")+"(1)")
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			see = append(see, strings.ReplaceAll(sub.CommandPath(), " ", "-")+"(1)")
		}
	}
	if len(see) > 0 {
		fmt.Fprintf(&b, ".SH SEE ALSO\n%s", roff(strings.Join(see, ", ")))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
