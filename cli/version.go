package cli

import (
	"fmt"
	"io"
	"runtime/debug"
)

// versionCmd prints the binary's version, or else the module's.
type versionCmd struct{}

func (versionCmd) Run(version buildVersion, out io.Writer) error {
	v := string(version)
	if v == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			v = bi.Main.Version
		}
	}
	_, err := fmt.Fprintln(out, "lienthong", v)
	return err
}
