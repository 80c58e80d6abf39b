// Package cli wires Palisade's subcommands. Each subcommand lives in its own
// file and registers itself through newRootCommand.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/client"
)

// Version is the release version, set at build time with
// -ldflags "-X github.com/palisade-sg/palisade/internal/cli.Version=v1.2.3".
// When it is left as "dev", the module version from the build info is
// printed instead (set by go install …@version).
var Version = "dev"

// Run executes the command line args (without the program name) and
// returns its error, unprinted.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return RunEnv(ctx, args, os.LookupEnv, strings.NewReader(""), stdout, stderr)
}

// RunEnv is Run with the environment read through getenv and standard
// input from stdin.
func RunEnv(ctx context.Context, args []string, getenv func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) error {
	root := newRootCommand(&globals{getenv: getenv}, stdout, stderr)
	root.SetIn(stdin)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// Main runs the command line as the palisade binary does and returns the
// process exit code: 0 on success, 1 on any failure. A failure is printed
// on stderr: as "palisade: CODE: message" in text, or, when the command
// line asks for -o json, as {"Error":{"Code","Message","RequestId"}}.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := RunEnv(ctx, args, os.LookupEnv, stdin, stdout, stderr)
	if err == nil {
		return 0
	}
	printError(stderr, wantsJSON(args), err)
	return 1
}

// cliErrorCode is the code of a failure that the server did not answer:
// bad input on the command line or in a file, a network error, a usage
// error.
const cliErrorCode = "ClientError"

// errorDoc is a failure as JSON; with an API error its fields are the
// API's.
// An import refused for bad rows adds Rows: one entry per bad field (or
// per bad row when the problem is not a field's).
type errorDoc struct {
	Error struct {
		Code      string      `json:"Code"`
		Message   string      `json:"Message"`
		RequestId string      `json:"RequestId"`
		Rows      []badRowDoc `json:"Rows,omitempty"`
	} `json:"Error"`
}

type badRowDoc struct {
	Row    string `json:"Row"`
	Field  string `json:"Field"`
	Value  string `json:"Value"`
	Reason string `json:"Reason"`
}

func printError(w io.Writer, asJSON bool, err error) {
	var doc errorDoc
	doc.Error.Code, doc.Error.Message = cliErrorCode, err.Error()
	var ae *client.Error
	if errors.As(err, &ae) {
		doc.Error.Code, doc.Error.Message, doc.Error.RequestId = ae.Code, ae.Message, ae.RequestID
	}
	var ie *ImportError
	if errors.As(err, &ie) {
		for _, r := range ie.Rows {
			if r.Err != nil {
				doc.Error.Rows = append(doc.Error.Rows, badRowDoc{Row: r.Where, Reason: r.Err.Error()})
			}
			for _, f := range r.Fields {
				doc.Error.Rows = append(doc.Error.Rows, badRowDoc{Row: r.Where, Field: f.Field, Value: f.Value, Reason: f.Reason})
			}
		}
	}
	if asJSON {
		b, _ := json.Marshal(doc)
		fmt.Fprintln(w, string(b))
		return
	}
	if ae != nil {
		fmt.Fprintf(w, "palisade: %s\n", ae.Error())
		return
	}
	fmt.Fprintf(w, "palisade: %v\n", err)
}

// wantsJSON reports whether args ask for -o json, read without the flag
// parser so that usage errors are printed in the format asked for too.
func wantsJSON(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "-o" || a == "--output":
			if i+1 < len(args) && args[i+1] == "json" {
				return true
			}
		case a == "-ojson" || a == "-o=json" || a == "--output=json":
			return true
		}
	}
	return false
}

func newRootCommand(g *globals, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "palisade",
		Short: "Palisade: cloud-style stateful security groups for your own fleet",
		Long: `Palisade: cloud-style stateful security groups for your own fleet.

The client commands (sg, rule, instance, template, history, simulate, call,
account) talk to a Palisade server through its API. They read the endpoint and
credentials from flags, then from PALISADE_ENDPOINT, PALISADE_SECRET_ID,
PALISADE_SECRET_KEY and PALISADE_REGION, then from the profile named by
--profile or PALISADE_PROFILE (default "default") in the file that
"palisade configure" writes. Tables by default, -o json for scripts.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("palisade {{.Version}}\n")
	g.register(root)
	root.AddCommand(newVersionCommand(g))
	for _, add := range subcommands {
		root.AddCommand(add(g))
	}
	return root
}

// versionString is Version, or the module version of the build info, with
// the VCS revision and time when the build recorded them.
func versionString() string {
	v := Version
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	var rev, at, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev != "" {
		v += fmt.Sprintf(" (revision %s, %s%s)", rev, at, dirty)
	}
	return v + " " + info.GoVersion
}

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the Palisade version, VCS revision and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			doc := struct{ Version string }{versionString()}
			return g.emit(cmd, doc, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "palisade %s\n", doc.Version)
				return err
			})
		},
	}
}
