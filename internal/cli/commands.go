package cli

import "github.com/spf13/cobra"

// subcommands lists the constructors of every top-level command besides
// version. Each constructor lives in the file named after its command.
var subcommands = []func(*globals) *cobra.Command{
	newServeCommand,
	newAgentCommand,
	func(*globals) *cobra.Command { return newBenchCommand() },
	newAdminCommand,
	newConfigureCommand,
	newSGCommand,
	newRuleCommand,
	newInstanceCommand,
	newTemplateCommand,
	newHistoryCommand,
	newSimulateCommand,
	newReachCommand,
	newPreviewCommand,
	newConfirmCommand,
	newFindingsCommand,
	newLintCommand,
	newExplainCommand,
	newAccountCommand,
	newCallCommand,
	newDocsCommand,
}
