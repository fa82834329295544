package config

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
)

// Setting describes one setting, as its tags declare it: for the README's
// table, for -h, and for the deployment files' checks.
type Setting struct {
	// Flag is the flag's name, without dashes.
	Flag string
	// Envs are the environment variables read for it, in order.
	Envs []string
	// Secret settings may also be read from the file that Envs[0] with
	// _FILE added names.
	Secret bool
	// Default is the value when nothing sets it; when it is empty, Unset
	// says what that means, if anything more than none.
	Default string
	Unset   string
	// IsBool settings are given as --flag or --flag=false.
	IsBool bool
	Help   string
	// Commands are the subcommands that read it, when known.
	Commands []string
}

// Env is the setting's own variable, LIENTHONG_*.
func (s Setting) Env() string { return s.Envs[0] }

// Describe reads a kong flag's tags; false for a flag no environment
// variable sets, such as a command's own.
func Describe(f *kong.Flag) (Setting, bool) {
	envs := splitList(f.Tag.Get("env"))
	if len(envs) == 0 {
		return Setting{}, false
	}
	return Setting{
		Flag:    f.Name,
		Envs:    envs,
		Secret:  f.Tag.Has("secret"),
		Default: f.Default,
		Unset:   f.Tag.Get("unset"),
		IsBool:  f.IsBool(),
		Help:    f.Help,
	}, true
}

// Settings lists every setting, in the order the groups declare them.
func Settings() []Setting {
	var c Config
	k, err := kong.New(&c, Options(func(string) string { return "" }))
	if err != nil {
		panic(fmt.Sprintf("config: the settings do not build: %v", err))
	}
	var out []Setting
	for _, f := range k.Model.Flags {
		if s, ok := Describe(f); ok {
			out = append(out, s)
		}
	}
	return out
}

// WriteTable writes settings as the README's Markdown table.
func WriteTable(w io.Writer, settings []Setting) error {
	withCommands := false
	for _, s := range settings {
		withCommands = withCommands || len(s.Commands) > 0
	}
	var b strings.Builder
	if withCommands {
		b.WriteString("| flag | environment | default | read by | meaning |\n|---|---|---|---|---|\n")
	} else {
		b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	}
	for _, s := range settings {
		envs := make([]string, len(s.Envs))
		for i, e := range s.Envs {
			envs[i] = "`" + e + "`"
		}
		env := strings.Join(envs, " or ")
		if s.Secret {
			env += " or `" + s.Env() + "_FILE`"
		}
		def := s.Unset
		switch {
		case s.Default != "":
			def = "`" + s.Default + "`"
		case def == "" && s.IsBool:
			def = "`false`"
		case def == "":
			def = "none"
		}
		fmt.Fprintf(&b, "| `--%s` | %s | %s |", s.Flag, env, cell(def))
		if withCommands {
			fmt.Fprintf(&b, " %s |", cell(strings.Join(s.Commands, ", ")))
		}
		fmt.Fprintf(&b, " %s |\n", cell(s.Help))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell keeps a table cell in its column.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
