package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at link time (-ldflags "-X main.version=..."); otherwise the module version is used.
var version = ""

func runVersion(_ context.Context, _ []string) error {
	v := version
	if v == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			v = bi.Main.Version
		}
	}
	fmt.Println("lienthong", v)
	return nil
}
