// Command lienthong runs the interagency workflow engine: everything at once
// (dev) or one part at a time (temporal, api, worker, agency, migrate), plus
// operator tools (token, dossier, stuck, trace, audit, loadgen).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "lienthong:", err)
		os.Exit(1)
	}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"dev", "run everything in one process: embedded Temporal, PostgreSQL, agencies, worker, API and console", runDev},
		{"temporal", "run the embedded Temporal server alone (--db sqlite|memory|postgres)", runTemporal},
		{"api", "run the engine API (gRPC, REST, console) against Temporal and PostgreSQL", runAPI},
		{"worker", "run the workflow and activity worker", runWorker},
		{"agency", "run mock agency services (--name justice|police|insurance|portal|all)", runAgency},
		{"migrate", "apply database migrations", runMigrate},
		{"audit", "verify the audit trail's hash chain and name the first row changed or removed (audit verify)", runAudit},
		{"token", "issue an API token (--role clerk --commune 00004 --sub clerk-1 [--ttl 24h])", runToken},
		{"dossier", "submit or show a dossier through the API (submit --file F | show CODE)", runDossier},
		{"stuck", "list stuck dossiers with a diagnosis and a remedy", runStuck},
		{"trace", "show a dossier and everything that happened to it", runTrace},
		{"loadgen", "submit a realistic mix of dossiers and report throughput, latency, sync lag and memory", runLoadgen},
		{"bench", "measure throughput against the bare engine's limit, in one process (writes docs/BENCHMARKS.md)", runBench},
		{"chaos", "run every part as its own process, inject faults and kills, then check the invariants", runChaos},
		{"version", "print the version", runVersion},
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return errors.New("a subcommand is required")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:])
		}
	}
	usage()
	return fmt.Errorf("unknown subcommand %q", args[0])
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: lienthong <subcommand> [flags]\n\nsubcommands:")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(os.Stderr, "\nEvery flag can also be set as LIENTHONG_<FLAG> (e.g. LIENTHONG_DATABASE_URL); run a subcommand with -h for its flags.")
}
