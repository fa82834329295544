package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/config"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// The operator commands talk gRPC to the engine API (--api-grpc-addr) with a
// bearer token from --token or LIENTHONG_TOKEN. They print readable tables,
// or protojson with --json for scripts.

// parseCLI binds the shared configuration and a command's own flags. Flags
// may come before or after the positional arguments, which it returns.
func parseCLI(name string, args []string, usage string, own func(*flag.FlagSet)) (config.Config, []string, error) {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("lienthong "+name, flag.ContinueOnError)
	l := config.NewLoader(fs, &cfg)
	own(fs)
	fs.Usage = func() {
		_, _ = fmt.Fprintf(fs.Output(), "usage: %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	if err := l.Load(args, os.Getenv); err != nil {
		return cfg, nil, err
	}
	var pos []string
	rest := fs.Args()
	for len(rest) > 0 {
		switch {
		case rest[0] == "--":
			pos = append(pos, rest[1:]...)
			rest = nil
		case strings.HasPrefix(rest[0], "-") && rest[0] != "-":
			if err := fs.Parse(rest); err != nil {
				return cfg, nil, err
			}
			rest = fs.Args()
		default:
			pos = append(pos, rest[0])
			rest = rest[1:]
		}
	}
	return cfg, pos, cfg.Validate()
}

// apiFlags are what every API command shares.
type apiFlags struct {
	token  string
	asJSON bool
}

func (f *apiFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.token, "token", "", "API bearer token (env LIENTHONG_TOKEN); `lienthong token` issues one")
	fs.BoolVar(&f.asJSON, "json", false, "print the response as JSON")
}

// bearer sends the token on every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// The token travels over TLS unless --insecure-plaintext says otherwise.
func (bearer) RequireTransportSecurity() bool { return false }

func dialAPI(cfg config.Config, f apiFlags) (*grpc.ClientConn, error) {
	tok := f.token
	if tok == "" {
		tok = os.Getenv("LIENTHONG_TOKEN")
	}
	if tok == "" {
		return nil, errors.New("--token (or LIENTHONG_TOKEN): required; issue one with `lienthong token --role ...`")
	}
	creds, err := apiCredentials(cfg)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(cfg.APIGRPCAddr, grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(bearer(tok)))
	if err != nil {
		return nil, fmt.Errorf("--api-grpc-addr: %w", err)
	}
	return conn, nil
}

// callError makes a gRPC failure readable, with one line per bad field.
func callError(doing string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", doing, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s", doing, st.Code(), st.Message())
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				fmt.Fprintf(&b, "\n  %s: %s", fv.GetField(), fv.GetDescription())
			}
		}
	}
	return errors.New(b.String())
}

func printJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func when(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().In(civil.Zone).Format("2006-01-02 15:04")
}

func enumName(s fmt.Stringer, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), prefix))
}

// ---- dossier ----------------------------------------------------------------

// runDossier is `lienthong dossier submit --file F` and `lienthong dossier show CODE`.
func runDossier(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(os.Stderr, "usage: lienthong dossier submit --file birth.json | lienthong dossier show CODE   [--token T] [--json]")
		if len(args) == 0 {
			return errors.New("dossier: a subcommand (submit or show) is required")
		}
		return nil
	}
	switch args[0] {
	case "submit":
		return dossierSubmit(ctx, args[1:])
	case "show":
		return dossierShow(ctx, args[1:])
	}
	return fmt.Errorf("dossier: unknown subcommand %q, expected submit or show", args[0])
}

func dossierSubmit(ctx context.Context, args []string) error {
	var f apiFlags
	var file string
	cfg, rest, err := parseCLI("dossier submit", args, "lienthong dossier submit --file birth.json [--json]", func(fs *flag.FlagSet) {
		f.bind(fs)
		fs.StringVar(&file, "file", "", "SubmitBirthRequest or SubmitDeathRequest as protojson; - reads stdin")
	})
	if err != nil {
		return err
	}
	if file == "" && len(rest) == 1 {
		file = rest[0]
	}
	if file == "" {
		return errors.New("--file: required")
	}
	var raw []byte
	if file == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	req, err := parseSubmission(raw)
	if err != nil {
		return fmt.Errorf("--file %s: %w", file, err)
	}
	conn, err := dialAPI(cfg, f)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	clerk := enginev1.NewClerkServiceClient(conn)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	var resp interface {
		proto.Message
		GetCode() string
		GetAppointmentAt() *timestamppb.Timestamp
		GetDossier() *enginev1.Dossier
	}
	switch r := req.(type) {
	case *enginev1.SubmitBirthRequest:
		resp, err = clerk.SubmitBirth(ctx, r)
	case *enginev1.SubmitDeathRequest:
		resp, err = clerk.SubmitDeath(ctx, r)
	}
	if err != nil {
		return callError("submitting", err)
	}
	if f.asJSON {
		return printJSON(os.Stdout, resp)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "code\t%s\n", resp.GetCode())
	fmt.Fprintf(tw, "appointment\t%s\n", when(resp.GetAppointmentAt()))
	fmt.Fprintf(tw, "status\t%s\n", enumName(resp.GetDossier().GetStatus(), "DOSSIER_STATUS_"))
	return tw.Flush()
}

// parseSubmission reads a submission as protojson. A top-level "group"
// ("birth" or "death") picks the request type; otherwise the form tells:
// a child is a birth, a deceased person a death. A missing request_id is
// derived from the file, so running the same file twice is one dossier.
func parseSubmission(raw []byte) (proto.Message, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	group := ""
	if g, ok := top["group"]; ok {
		if err := json.Unmarshal(g, &group); err != nil {
			return nil, errors.New(`"group" must be "birth" or "death"`)
		}
		delete(top, "group")
		group = strings.TrimPrefix(strings.ToLower(group), "group_")
	} else {
		var form map[string]json.RawMessage
		_ = json.Unmarshal(top["form"], &form)
		switch {
		case form["child"] != nil:
			group = "birth"
		case form["deceased"] != nil:
			group = "death"
		}
	}
	body, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	var req interface {
		proto.Message
		GetRequestId() string
	}
	switch group {
	case "birth":
		req = &enginev1.SubmitBirthRequest{}
	case "death":
		req = &enginev1.SubmitDeathRequest{}
	default:
		return nil, errors.New(`cannot tell birth from death: add "group": "birth" or "death", or a form with "child" or "deceased"`)
	}
	if err := protojson.Unmarshal(body, req); err != nil {
		return nil, err
	}
	if req.GetRequestId() == "" {
		sum := sha256.Sum256(raw)
		id := "file-" + hex.EncodeToString(sum[:16])
		switch r := req.(type) {
		case *enginev1.SubmitBirthRequest:
			r.RequestId = id
		case *enginev1.SubmitDeathRequest:
			r.RequestId = id
		}
	}
	return req, nil
}

func dossierShow(ctx context.Context, args []string) error {
	var f apiFlags
	var purpose string
	cfg, rest, err := parseCLI("dossier show", args, "lienthong dossier show CODE [--purpose WHY] [--json]", func(fs *flag.FlagSet) {
		f.bind(fs)
		fs.StringVar(&purpose, "purpose", "operator CLI", "why the dossier is read (recorded in the audit trail)")
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("dossier show: exactly one dossier code is required")
	}
	conn, err := dialAPI(cfg, f)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := enginev1.NewClerkServiceClient(conn).GetDossier(ctx, &enginev1.GetDossierRequest{Code: rest[0], Purpose: purpose})
	if err != nil {
		return callError("reading dossier", err)
	}
	if f.asJSON {
		return printJSON(os.Stdout, resp)
	}
	printDossier(os.Stdout, resp.GetDossier())
	if resp.GetDossier().GetForm() != nil {
		fmt.Println("\nThe form (personal data) is in the --json output; this read was recorded in the audit trail.")
	}
	return nil
}

func printDossier(w io.Writer, d *enginev1.Dossier) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	overdue := ""
	if d.GetOverdue() {
		overdue = "  OVERDUE"
	}
	fmt.Fprintf(tw, "code\t%s\n", d.GetCode())
	fmt.Fprintf(tw, "group\t%s\n", enumName(d.GetGroup(), "GROUP_"))
	fmt.Fprintf(tw, "status\t%s%s\n", enumName(d.GetStatus(), "DOSSIER_STATUS_"), overdue)
	fmt.Fprintf(tw, "commune / province\t%s / %s\n", d.GetCommuneCode(), d.GetProvinceCode())
	fmt.Fprintf(tw, "received\t%s\n", when(d.GetReceivedAt()))
	fmt.Fprintf(tw, "due\t%s\n", when(d.GetDueAt()))
	fmt.Fprintf(tw, "appointment\t%s\n", when(d.GetAppointmentAt()))
	if d.GetOutcomeReason() != "" {
		fmt.Fprintf(tw, "outcome\t%s\n", d.GetOutcomeReason())
	}
	_ = tw.Flush()
	_, _ = fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tAGENCY\tSTATUS\tDUE\tATTEMPTS\tLAST ERROR\tNOTE")
	for _, st := range d.GetSteps() {
		status := enumName(st.GetStatus(), "STEP_STATUS_")
		if st.GetOverdue() {
			status += " (overdue)"
		}
		note := st.GetReason()
		if len(st.GetMissing()) > 0 {
			note = strings.TrimSpace(note + " missing: " + strings.Join(st.GetMissing(), ", "))
		}
		if len(st.GetResult()) > 0 {
			keys := make([]string, 0, len(st.GetResult()))
			for k := range st.GetResult() {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			note = strings.TrimSpace(note + " result: " + strings.Join(keys, ","))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", enumName(st.GetKind(), "STEP_KIND_"), st.GetAgency(), status,
			when(st.GetDueAt()), st.GetAttempts(), oneLine(st.GetLastError(), 60), oneLine(note, 80))
	}
	_ = tw.Flush()
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// ---- stuck ------------------------------------------------------------------

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
	for _, r := range strings.Split(rules, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		rule, ok := stuckRuleNames[r]
		if !ok {
			return fmt.Errorf("--rule: %q is not one of overdue, idle, retries, late-id, supplement", r)
		}
		req.Rules = append(req.Rules, rule)
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
	if len(resp.GetCases()) == 0 {
		fmt.Println("nothing is stuck")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tSTEP\tRULE\tSINCE\tDIAGNOSIS")
	for _, c := range resp.GetCases() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.GetCode(), enumName(c.GetStep(), "STEP_KIND_"),
			enumName(c.GetRule(), "STUCK_RULE_"), when(c.GetSince()), c.GetDiagnosis())
		fmt.Fprintf(tw, "\t\t\t\t→ %s\n", c.GetRemedy())
	}
	return tw.Flush()
}

// ---- trace ------------------------------------------------------------------

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
