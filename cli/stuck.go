package cli

import (
	"context"
	"flag"
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

// runStuck lists stuck steps with a diagnosis and a remedy each.
func runStuck(ctx context.Context, args []string) error {
	var f apiFlags
	var rules, province, agency string
	var idle, attempts, limit int
	cfg, rest, err := parseCLI("stuck", args, "lienthong stuck [--rule overdue,idle,retries,late-id,supplement] [--province 001] [--agency police] [--json]", func(fs *flag.FlagSet) {
		f.bind(fs)
		fs.StringVar(&rules, "rule", "", "comma-separated rules: overdue, idle, retries, late-id, supplement (default all)")
		fs.StringVar(&province, "province", "", "3-digit province code")
		fs.StringVar(&agency, "agency", "", "justice, police or insurance")
		fs.IntVar(&idle, "idle-minutes", 60, "a step unchanged this long counts as idle")
		fs.IntVar(&attempts, "min-attempts", 3, "failed attempts that count as retries failing")
		fs.IntVar(&limit, "limit", 100, "most cases to list")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("stuck: unexpected argument %q", rest[0])
	}
	req := &enginev1.ListStuckRequest{ProvinceCode: province, Agency: agency,
		IdleMinutes: int32(idle), MinAttempts: int32(attempts), PageSize: int32(limit)}
	if req.Rules, err = parseStuckRules(rules); err != nil {
		return err
	}
	conn, err := dialAPI(cfg, f)
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
	if f.asJSON {
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
	for _, c := range cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.GetCode(), enumName(c.GetStep(), "STEP_KIND_"),
			enumName(c.GetRule(), "STUCK_RULE_"), when(c.GetSince()), c.GetDiagnosis())
		fmt.Fprintf(tw, "\t\t\t\t→ %s\n", c.GetRemedy())
	}
	return tw.Flush()
}
