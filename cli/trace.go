package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"

	"github.com/lienthong/lienthong/civil"
)

// runTrace prints a dossier and everything that happened to it.
func runTrace(ctx context.Context, args []string) error {
	var f apiFlags
	cfg, rest, err := parseCLI("trace", args, "lienthong trace CODE [--json]", f.bind)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("trace: exactly one dossier code is required")
	}
	conn, err := dialAPI(cfg, f)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := enginev1.NewSupervisorServiceClient(conn).TraceDossier(ctx, &enginev1.TraceDossierRequest{Code: rest[0]})
	if err != nil {
		return callError("tracing dossier", err)
	}
	if f.asJSON {
		return printJSON(os.Stdout, resp)
	}
	printDossier(os.Stdout, resp.GetDossier())
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tKIND\tACTOR\tSTEP\tOUTCOME\tERROR\tDETAIL")
	for _, ev := range resp.GetEvents() {
		step := ""
		if ev.GetStep() != enginev1.StepKind_STEP_KIND_UNSPECIFIED {
			step = enumName(ev.GetStep(), "STEP_KIND_")
		}
		at := "-"
		if ev.GetAt() != nil {
			at = ev.GetAt().AsTime().In(civil.Zone).Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", at, ev.GetKind(), ev.GetActor(), step,
			oneLine(ev.GetOutcome(), 40), oneLine(ev.GetError(), 60), oneLine(ev.GetDetail(), 80))
	}
	return tw.Flush()
}
