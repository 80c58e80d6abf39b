package cli

import "github.com/spf13/cobra"

// subcommands lists the constructors of every top-level command besides
// version. Each constructor lives in the file named after its command.
var subcommands = []func() *cobra.Command{
	newServeCommand,
	newBenchCommand,
	newAdminCommand,
}
