// Command readme writes README.md's table of settings from the settings'
// own tags, so that the table and -h never disagree. Run it from the
// repository's root: `make readme`.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/lienthong/lienthong/config"
)

func main() {
	if err := run("README.md"); err != nil {
		fmt.Fprintln(os.Stderr, "readme:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var table bytes.Buffer
	if err := config.WriteTable(&table, config.Settings()); err != nil {
		return err
	}
	out, err := config.ReplaceTable(doc, table.Bytes())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644) //nolint:gosec // G306: README.md is public
}
