package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/store"
)

// runAudit is `lienthong audit verify`: it walks the audit chain in the
// database (store.VerifyAudit) and fails when it is broken.
func runAudit(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(os.Stderr, "usage: lienthong audit verify [--database-url URL] [--anchor SEQ:HASH ...]")
		if len(args) == 0 || (args[0] != "-h" && args[0] != "--help") {
			return errors.New("audit: expected the subcommand verify")
		}
		return nil
	}
	return auditVerify(ctx, os.Stdout, args[1:])
}

// anchors are --anchor values, repeatable.
type anchors []store.AuditAnchor

func (a *anchors) String() string { return fmt.Sprint(*a) }

func (a *anchors) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		an, err := store.ParseAuditAnchor(part)
		if err != nil {
			return err
		}
		*a = append(*a, an)
	}
	return nil
}

func auditVerify(ctx context.Context, out io.Writer, args []string) error {
	var as anchors
	cfg, rest, err := parseCLI("audit verify", args, "lienthong audit verify [--database-url URL] [--anchor SEQ:HASH ...]", func(fs *flag.FlagSet) {
		fs.Var(&as, "anchor", "a position and hash recorded earlier (SEQ:HASH, as this command prints the head), repeatable or comma-separated: a chain rewritten since then fails")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("audit verify: unexpected argument %q", rest[0])
	}
	pool, err := stack.OpenDatabase(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	v, err := store.New(pool).VerifyAudit(ctx, as...)
	if err != nil {
		return err
	}
	if b := v.Break; b != nil {
		_, _ = fmt.Fprintf(out, "BROKEN: %s (%d rows verified before it)\n", b.Detail, v.Rows)
		return fmt.Errorf("the audit chain is broken at seq %d: %s", b.Seq, b.Kind)
	}
	_, err = fmt.Fprintf(out, "OK: %d rows, head %s\n", v.Rows, v.Head)
	return err
}
