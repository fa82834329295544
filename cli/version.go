package cli

import (
	"context"
	"fmt"
	"runtime/debug"
)

// versionCommand prints version, or else the module's.
func versionCommand(version string) func(context.Context, []string) error {
	return func(context.Context, []string) error {
		v := version
		if v == "" {
			if bi, ok := debug.ReadBuildInfo(); ok {
				v = bi.Main.Version
			}
		}
		fmt.Println("lienthong", v)
		return nil
	}
}
