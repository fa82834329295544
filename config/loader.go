package config

import (
	"errors"
	"flag"
	"fmt"

	"github.com/alecthomas/kong"
)

// Loader binds every setting of a Config to a flag.FlagSet, for the
// subcommands that still parse with package flag.
type Loader struct {
	cfg   *Config
	fs    *flag.FlagSet
	flags []*kong.Flag
}

// NewLoader registers every setting on fs.
func NewLoader(fs *flag.FlagSet, cfg *Config) *Loader {
	k, err := kong.New(cfg, Options(func(string) string { return "" }))
	if err != nil {
		panic(fmt.Sprintf("config: the settings do not build: %v", err))
	}
	l := &Loader{cfg: cfg, fs: fs}
	for _, f := range k.Model.Flags {
		if _, ok := Describe(f); !ok {
			continue
		}
		l.flags = append(l.flags, f)
		set := func(s string) error { return decode(f.Value, s, f.Target) }
		if f.IsBool() {
			fs.BoolFunc(f.Name, helpText(f.Value), set)
		} else {
			fs.Func(f.Name, helpText(f.Value), set)
		}
	}
	return l
}

// Load parses args, filling anything not given on the command line from the
// environment. A bad value is reported with its flag and what was expected.
func (l *Loader) Load(args []string, getenv func(string) string) error {
	if err := l.fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	l.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	for _, f := range l.flags {
		if given[f.Name] {
			continue
		}
		s, _ := Describe(f)
		v, from, err := s.lookup(getenv)
		if err == nil && from != "" {
			if err = decode(f.Value, v, f.Target); err != nil {
				err = fmt.Errorf("%s: %w", from, err)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", f.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return l.cfg.Validate()
}
