// Command lienthong runs the interagency workflow engine: everything at once
// (dev) or one part at a time (temporal, api, worker, agency, migrate), plus
// operator tools (token, dossier, stuck, trace, audit) and the measuring
// tools (loadgen, bench, chaos). The subcommands are package cli's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/lienthong/lienthong/cli"
)

// version is set at link time (-ldflags "-X main.version=..."); otherwise the module version is used.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Main(ctx, os.Args[1:], version)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "lienthong:", err)
		os.Exit(1)
	}
}
