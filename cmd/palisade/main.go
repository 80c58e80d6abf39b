// Command palisade is the single Palisade binary: the API server, the host
// agent, operator commands and the client CLI.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/palisade-sg/palisade/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
