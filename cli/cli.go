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
	"flag"
	"io"
	"os"

	"github.com/alecthomas/kong"

	"github.com/lienthong/lienthong/config"
)

// commandLine is the table of subcommands. Each one's struct, in its own
// file, declares the settings it reads (config's groups) and no others.
type commandLine struct {
	Dev      devCmd      `cmd:"" name:"dev" help:"run everything in one process: embedded Temporal, PostgreSQL, agencies, worker, API and console"`
	Temporal temporalCmd `cmd:"" name:"temporal" help:"run the embedded Temporal server alone (--db sqlite|memory|postgres)"`
	API      apiCmd      `cmd:"" name:"api" help:"run the engine API (gRPC, REST, console) against Temporal and PostgreSQL"`
	Worker   workerCmd   `cmd:"" name:"worker" help:"run the workflow and activity worker"`
	Agency   agencyCmd   `cmd:"" name:"agency" help:"run mock agency services (--name justice|police|insurance|portal|sms|mail|all)"`
	Migrate  migrateCmd  `cmd:"" name:"migrate" help:"apply database migrations"`
	Audit    auditCmd    `cmd:"" name:"audit" help:"verify the audit trail's hash chain and name the first row changed or removed (audit verify)"`
	Token    tokenCmd    `cmd:"" name:"token" help:"issue an API token (--role clerk --commune 00004 --sub clerk-1 [--ttl 24h])"`
	Dossier  dossierCmd  `cmd:"" name:"dossier" help:"submit or show a dossier through the API (submit --file F | show CODE)"`
	Stuck    stuckCmd    `cmd:"" name:"stuck" help:"list stuck dossiers with a diagnosis and a remedy"`
	Trace    traceCmd    `cmd:"" name:"trace" help:"show a dossier and everything that happened to it"`
	Loadgen  loadgenCmd  `cmd:"" name:"loadgen" help:"submit a realistic mix of dossiers and report throughput, latency, sync lag and memory"`
	Bench    benchCmd    `cmd:"" name:"bench" help:"measure throughput against the bare engine's limit, in one process (writes docs/BENCHMARKS.md)"`
	Chaos    chaosCmd    `cmd:"" name:"chaos" help:"run every part as its own process, inject faults and kills, then check the invariants"`
	Version  versionCmd  `cmd:"" name:"version" help:"print the version"`
}

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string
	// Settings are the settings it reads: the only LIENTHONG_* variables
	// and flags it takes.
	Settings []config.Setting
	// Flags are all the flags it takes, its own included.
	Flags []string
}

// Commands are the subcommands, in the order usage lists them.
func Commands() []Command {
	k, err := newParser(io.Discard, func(string) string { return "" }, Env{})
	if err != nil {
		panic(err)
	}
	var out []Command
	for _, c := range k.Model.Children {
		cmd := Command{Name: c.Name, Summary: c.Help}
		for _, group := range c.AllFlags(false) {
			for _, f := range group {
				cmd.Flags = append(cmd.Flags, f.Name)
				if s, ok := config.Describe(f); ok {
					cmd.Settings = append(cmd.Settings, s)
				}
			}
		}
		out = append(out, cmd)
	}
	return out
}

// Env is what a run is handed besides its arguments.
type Env struct {
	// Version is the binary's, as set at link time; empty means the module's.
	Version string
	Getenv  func(string) string
	Stdout  io.Writer
}

// buildVersion is the binary's version, for the version command.
type buildVersion string

// Main runs the subcommand args[0] names with the rest of args. version is
// the binary's, as set at link time; empty means the module's.
func Main(ctx context.Context, args []string, version string) error {
	return Run(ctx, args, Env{Version: version, Getenv: os.Getenv, Stdout: os.Stdout})
}

// Run is Main with the environment and the output given.
func Run(ctx context.Context, args []string, env Env) error {
	kctx, err := parse(ctx, args, env)
	if err != nil || kctx == nil {
		return err
	}
	if err := kctx.Run(); err != nil && !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

// errHelp stops a parse once help is printed.
var errHelp = errors.New("help printed")

// parse reads args and the environment into the subcommand they name; a
// nil context and no error mean help was printed.
func parse(ctx context.Context, args []string, env Env) (kctx *kong.Context, err error) {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	k, err := newParser(env.Stdout, env.Getenv, env, kong.BindTo(ctx, (*context.Context)(nil)))
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			if r != errHelp { //nolint:errorlint // the sentinel itself is what was thrown
				panic(r)
			}
			kctx, err = nil, nil
		}
	}()
	return k.Parse(args)
}

func newParser(out io.Writer, getenv func(string) string, env Env, options ...kong.Option) (*kong.Kong, error) {
	var cli commandLine
	return kong.New(&cli, append([]kong.Option{kong.Name("lienthong"),
		kong.Description("Every flag can also be set as LIENTHONG_<FLAG> (e.g. LIENTHONG_DATABASE_URL), and a secret from the file LIENTHONG_<FLAG>_FILE names. Each subcommand reads only its own settings, which its -h lists with their defaults."),
		kong.Writers(out, out), kong.Exit(func(int) { panic(errHelp) }),
		kong.BindTo(out, (*io.Writer)(nil)), kong.Bind(buildVersion(env.Version)),
		config.Options(getenv)}, options...)...)
}
