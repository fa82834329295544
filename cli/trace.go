package cli

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"

	"github.com/lienthong/lienthong/civil"
)

// traceCmd prints a dossier and everything that happened to it.
type traceCmd struct {
	apiClient
	Code string `arg:"" name:"code" help:"the dossier's code"`
}

func (c *traceCmd) Run(ctx context.Context) error {
	conn, err := dialAPI(c.apiClient)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := enginev1.NewSupervisorServiceClient(conn).TraceDossier(ctx, &enginev1.TraceDossierRequest{Code: c.Code})
	if err != nil {
		return callError("tracing dossier", err)
	}
	if c.AsJSON {
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
