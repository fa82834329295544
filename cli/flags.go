package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/lienthong/lienthong/config"
)

// parseCLI binds every setting and a measuring tool's own flags with package
// flag, for the tools that kong passes their arguments through to (loadgen,
// bench, chaos). Flags may come before or after the positional arguments,
// which it returns.
func parseCLI(name string, args []string, usage string, own func(*flag.FlagSet)) (config.Config, []string, error) {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("lienthong "+name, flag.ContinueOnError)
	l := config.NewLoader(fs, &cfg)
	own(fs)
	fs.Usage = func() {
		_, _ = fmt.Fprintf(fs.Output(), "usage: %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	if err := l.Load(args, os.Getenv); err != nil {
		return cfg, nil, err
	}
	var pos []string
	rest := fs.Args()
	for len(rest) > 0 {
		switch {
		case rest[0] == "--":
			pos = append(pos, rest[1:]...)
			rest = nil
		case strings.HasPrefix(rest[0], "-") && rest[0] != "-":
			if err := fs.Parse(rest); err != nil {
				return cfg, nil, err
			}
			rest = fs.Args()
		default:
			pos = append(pos, rest[0])
			rest = rest[1:]
		}
	}
	return cfg, pos, cfg.Validate()
}
