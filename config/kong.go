package config

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// Options makes a kong parser read lienthong's settings as lienthong does:
//   - a flag not given on the command line is read from its environment
//     variables through getenv, in the order its env tag lists them, an
//     empty value counting as unset; a secret is then read from the file
//     its first variable with _FILE added names;
//   - a value that does not parse, or does not pass its group's checks,
//     stops the parse with the flag's name and what was expected, every bad
//     value at once;
//   - -h shows each setting's variables and default.
//
// Only the flags of the commands on the command line are read, so a bad
// value for a setting another command declares does no harm.
func Options(getenv func(string) string) kong.Option {
	return kong.OptionFunc(func(k *kong.Kong) error {
		for _, o := range []kong.Option{
			kong.TypeMapper(reflect.TypeFor[bool](), boolMapper{}),
			kong.TypeMapper(reflect.TypeFor[int](), scalar("a whole number", strconv.Atoi)),
			kong.TypeMapper(reflect.TypeFor[int64](), scalar("a whole number", func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) })),
			kong.TypeMapper(reflect.TypeFor[float64](), scalar("a number", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })),
			kong.TypeMapper(reflect.TypeFor[time.Duration](), scalar("a duration such as 500ms or 2s", time.ParseDuration)),
			kong.ValueFormatter(helpText),
			kong.PostBuild(readEnvironmentOurselves),
			kong.Resolvers(environment{getenv}),
			kong.WithAfterApply(validateNode),
		} {
			if err := o.Apply(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// readEnvironmentOurselves stops kong reading the env tags itself, from the
// process's environment, with empty values set: the environment resolver
// reads them instead.
func readEnvironmentOurselves(k *kong.Kong) error {
	var clear func(n *kong.Node)
	clear = func(n *kong.Node) {
		for _, f := range n.Flags {
			f.Envs, f.Tag.Envs = nil, nil
			if placeholder := f.Tag.PlaceHolder; placeholder == "" {
				f.PlaceHolder = placeholderFor(f)
			}
		}
		for _, c := range n.Children {
			clear(c)
		}
	}
	clear(k.Model.Node)
	return nil
}

// placeholderFor names what a flag takes in -h, where kong would show the
// default, which the help text shows instead.
func placeholderFor(f *kong.Flag) string {
	switch name := f.Name; {
	case strings.HasSuffix(name, "-addr") || strings.HasSuffix(name, "-address"):
		return "HOST:PORT"
	case strings.HasSuffix(name, "-url") || strings.HasSuffix(name, "-issuer") || strings.HasSuffix(name, "-endpoint"):
		return "URL"
	case strings.HasSuffix(name, "-file"):
		return "FILE"
	case strings.HasSuffix(name, "-dir"):
		return "DIR"
	}
	switch f.Target.Interface().(type) {
	case time.Duration:
		return "DURATION"
	case int, int64, float64:
		return "N"
	}
	return "VALUE"
}

// environment resolves a flag that the command line did not give.
type environment struct{ getenv func(string) string }

func (environment) Validate(*kong.Application) error { return nil }

func (e environment) Resolve(_ *kong.Context, _ *kong.Path, f *kong.Flag) (any, error) {
	s, ok := Describe(f)
	if !ok {
		return nil, nil
	}
	v, from, err := s.lookup(e.getenv)
	if err != nil || from == "" {
		return nil, err
	}
	// Parse once here, so that an error names the variable; kong, which
	// prefixes the flag, parses it again into the flag.
	if err := decode(f.Value, v, reflect.New(f.Target.Type()).Elem()); err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return v, nil
}

// lookup finds a setting's value in the environment, and says where.
func (s Setting) lookup(getenv func(string) string) (value, from string, err error) {
	for _, env := range s.Envs {
		if v := getenv(env); v != "" {
			return v, env, nil
		}
	}
	if !s.Secret {
		return "", "", nil
	}
	file := s.Envs[0] + "_FILE"
	path := getenv(file)
	if path == "" {
		return "", "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", file, err)
	}
	return strings.TrimSpace(string(b)), file, nil
}

func decode(v *kong.Value, s string, target reflect.Value) error {
	return v.Mapper.Decode(&kong.DecodeContext{Value: v, Scan: kong.ScanFromTokens(kong.Token{Type: kong.FlagValueToken, Value: s})}, target)
}

// validateNode checks the groups of each command on the command line, and
// the application's own.
func validateNode(p *kong.Path) error {
	switch {
	case p.App != nil:
		return Validate(p.App.Target.Addr().Interface())
	case p.Command != nil:
		return Validate(p.Command.Target.Addr().Interface())
	}
	return nil
}

// helpText is a flag's help, with where else its value may come from and
// its default.
func helpText(v *kong.Value) string {
	if v.Flag == nil || v.Name == "help" {
		return v.Help
	}
	var notes []string
	if s, ok := Describe(v.Flag); ok {
		src := "env " + strings.Join(s.Envs, " or ")
		if s.Secret {
			src += " or " + s.Envs[0] + "_FILE"
		}
		notes = append(notes, src)
	}
	if d := defaultText(v); d != "" {
		notes = append(notes, "default: "+d)
	}
	if len(notes) == 0 {
		return v.Help
	}
	return v.Help + " (" + strings.Join(notes, "; ") + ")"
}

// defaultText is what a flag is when nothing sets it.
func defaultText(v *kong.Value) string {
	switch {
	case v.HasDefault:
		return v.Default
	case v.Tag.Has("unset"):
		return v.Tag.Get("unset")
	case v.IsBool():
		return "false"
	}
	return ""
}

// scalar maps one value, with lienthong's wording when it does not parse.
func scalar[T any](expected string, parse func(string) (T, error)) kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		var s string
		if err := ctx.Scan.PopValueInto("value", &s); err != nil {
			return err
		}
		v, err := parse(s)
		if err != nil {
			return fmt.Errorf("got %q, expected %s", s, expected)
		}
		target.Set(reflect.ValueOf(v))
		return nil
	}
}

// boolMapper is kong's, with lienthong's wording: --x alone is true,
// --x=false is false.
type boolMapper struct{}

func (boolMapper) IsBool() bool { return true }

func (boolMapper) Decode(ctx *kong.DecodeContext, target reflect.Value) error {
	if ctx.Scan.Peek().Type != kong.FlagValueToken {
		target.SetBool(true)
		return nil
	}
	t := ctx.Scan.Pop()
	if b, ok := t.Value.(bool); ok {
		target.SetBool(b)
		return nil
	}
	s := fmt.Sprint(t.Value)
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("got %q, expected true or false", s)
	}
	target.SetBool(b)
	return nil
}

// parse reads args and the environment into grammar, as a subcommand would.
func parse(grammar any, args []string, getenv func(string) string) error {
	k, err := kong.New(grammar, Options(getenv))
	if err != nil {
		return err
	}
	_, err = k.Parse(args)
	return err
}
