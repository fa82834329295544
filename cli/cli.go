// Package cli is lienthong's command line: the table of subcommands, one
// file each, that parse their settings (package config) and call into the
// packages that do the work: stack for the parts of the system, the
// operator commands' gRPC client of the engine API, and the measuring tools
// under measure/. cmd/lienthong only hands it the arguments.
//
// It may import every lienthong package; nothing imports it but
// cmd/lienthong and its tests.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, args []string) error
}

// Commands are the subcommands, in the order usage lists them.
func Commands() []Command { return commands("") }

func commands(version string) []Command {
	return []Command{
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
		{"version", "print the version", versionCommand(version)},
	}
}

// Main runs the subcommand args[0] names with the rest of args. version is
// the binary's, as set at link time; empty means the module's.
func Main(ctx context.Context, args []string, version string) error {
	cmds := commands(version)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(cmds)
		if len(args) == 0 {
			return errors.New("a subcommand is required")
		}
		return nil
	}
	for _, c := range cmds {
		if c.Name == args[0] {
			return c.Run(ctx, args[1:])
		}
	}
	usage(cmds)
	return fmt.Errorf("unknown subcommand %q", args[0])
}

func usage(cmds []Command) {
	fmt.Fprintln(os.Stderr, "usage: lienthong <subcommand> [flags]\n\nsubcommands:")
	for _, c := range cmds {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintln(os.Stderr, "\nEvery flag can also be set as LIENTHONG_<FLAG> (e.g. LIENTHONG_DATABASE_URL); run a subcommand with -h for its flags.")
}
