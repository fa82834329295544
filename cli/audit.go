package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
	"github.com/lienthong/lienthong/store"
)

// auditCmd is `lienthong audit verify`.
type auditCmd struct {
	Verify auditVerifyCmd `cmd:"" name:"verify" help:"walk the audit chain in the database and fail when a row was changed or removed"`
}

// auditVerifyCmd walks the audit chain in the database (store.VerifyAudit)
// and fails when it is broken.
type auditVerifyCmd struct {
	config.Log
	config.Database
	Anchor []string `name:"anchor" sep:"," placeholder:"SEQ:HASH" help:"a position and hash recorded earlier (SEQ:HASH, as this command prints the head), repeatable or comma-separated: a chain rewritten since then fails"`
}

func (c *auditVerifyCmd) Run(ctx context.Context, out io.Writer) error {
	var as []store.AuditAnchor
	for _, s := range c.Anchor {
		an, err := store.ParseAuditAnchor(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("--anchor %s: %w", s, err)
		}
		as = append(as, an)
	}
	cfg := config.From(c)
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
