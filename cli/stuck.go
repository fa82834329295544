package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

var stuckRuleNames = map[string]enginev1.StuckRule{
	"overdue":    enginev1.StuckRule_STUCK_RULE_OVERDUE,
	"idle":       enginev1.StuckRule_STUCK_RULE_IDLE,
	"retries":    enginev1.StuckRule_STUCK_RULE_RETRIES_FAILING,
	"late-id":    enginev1.StuckRule_STUCK_RULE_LATE_ID_NUMBER,
	"supplement": enginev1.StuckRule_STUCK_RULE_AWAITING_SUPPLEMENT,
}

// stuckCmd lists stuck steps with a diagnosis and a remedy each.
type stuckCmd struct {
	apiClient
	Rule        string `name:"rule" placeholder:"RULES" help:"comma-separated rules: overdue, idle, retries, late-id, supplement (default: all)"`
	Province    string `name:"province" help:"3-digit province code"`
	Agency      string `name:"agency" help:"justice, police or insurance"`
	IdleMinutes int    `name:"idle-minutes" default:"60" help:"a step unchanged this long counts as idle"`
	MinAttempts int    `name:"min-attempts" default:"3" help:"failed attempts that count as retries failing"`
	Limit       int    `name:"limit" default:"100" help:"most cases to list"`
}

func (c *stuckCmd) Run(ctx context.Context) error {
	req := &enginev1.ListStuckRequest{ProvinceCode: c.Province, Agency: c.Agency,
		IdleMinutes: int32(c.IdleMinutes), MinAttempts: int32(c.MinAttempts), PageSize: int32(c.Limit)}
	var err error
	if req.Rules, err = parseStuckRules(c.Rule); err != nil {
		return err
	}
	conn, err := dialAPI(c.apiClient)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := enginev1.NewSupervisorServiceClient(conn).ListStuck(ctx, req)
	if err != nil {
		return callError("listing stuck dossiers", err)
	}
	if c.AsJSON {
		return printJSON(os.Stdout, resp)
	}
	return printStuck(resp.GetCases())
}

// parseStuckRules reads --rule: comma-separated names, none meaning all.
func parseStuckRules(rules string) ([]enginev1.StuckRule, error) {
	var out []enginev1.StuckRule
	for _, r := range strings.Split(rules, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		rule, ok := stuckRuleNames[r]
		if !ok {
			return nil, fmt.Errorf("--rule: %q is not one of overdue, idle, retries, late-id, supplement", r)
		}
		out = append(out, rule)
	}
	return out, nil
}

func printStuck(cases []*enginev1.StuckCase) error {
	if len(cases) == 0 {
		fmt.Println("nothing is stuck")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tSTEP\tRULE\tSINCE\tDIAGNOSIS")
	for _, sc := range cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sc.GetCode(), enumName(sc.GetStep(), "STEP_KIND_"),
			enumName(sc.GetRule(), "STUCK_RULE_"), when(sc.GetSince()), sc.GetDiagnosis())
		fmt.Fprintf(tw, "\t\t\t\t→ %s\n", sc.GetRemedy())
	}
	return tw.Flush()
}
