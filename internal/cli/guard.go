package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/wire"
)

// guardFlags are a write command's --force and --confirm-within.
type guardFlags struct {
	forced  bool
	confirm time.Duration
}

// register adds the flags to cmd and its subcommands; policy writes also
// take --confirm-within.
func (gf *guardFlags) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.BoolVar(&gf.forced, "force", false, "write even a change that would cut your own SSH or remote desktop path to an instance (lockout protection)")
	f.DurationVar(&gf.confirm, "confirm-within", 0, "restore the previous version unless `palisade confirm` confirms this one within this time (policy writes; at most 24h)")
}

// registerForce adds --force alone.
func (gf *guardFlags) registerForce(cmd *cobra.Command) {
	cmd.PersistentFlags().BoolVar(&gf.forced, "force", false, "write even a change that would cut your own SSH or remote desktop path to an instance (lockout protection)")
}

func (gf *guardFlags) force() *wire.Bool {
	if !gf.forced {
		return nil
	}
	return wire.NewBool(true)
}

// confirmWithin is --confirm-within in whole seconds, rounded up.
func (gf *guardFlags) confirmWithin() *wire.Int {
	if gf.confirm <= 0 {
		return nil
	}
	return wire.NewInt(int64((gf.confirm + time.Second - 1) / time.Second))
}
