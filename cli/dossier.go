package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// dossierCmd is `lienthong dossier submit --file F` and `lienthong dossier show CODE`.
type dossierCmd struct {
	Submit dossierSubmitCmd `cmd:"" name:"submit" help:"submit a birth or death dossier from a protojson file"`
	Show   dossierShowCmd   `cmd:"" name:"show" help:"show a dossier's status and steps"`
}

type dossierSubmitCmd struct {
	apiClient
	File string `name:"file" placeholder:"FILE" help:"SubmitBirthRequest or SubmitDeathRequest as protojson; - reads stdin"`
	Path string `arg:"" optional:"" name:"path" help:"the file, when --file is not given"`
}

func (c *dossierSubmitCmd) Run(ctx context.Context) error {
	file := c.File
	var err error
	if file == "" {
		file = c.Path
	}
	if file == "" {
		return errors.New("--file: required")
	}
	raw, err := readFile(file)
	if err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	req, err := parseSubmission(raw)
	if err != nil {
		return fmt.Errorf("--file %s: %w", file, err)
	}
	conn, err := dialAPI(c.apiClient)
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
	if c.AsJSON {
		return printJSON(os.Stdout, resp)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "code\t%s\n", resp.GetCode())
	fmt.Fprintf(tw, "appointment\t%s\n", when(resp.GetAppointmentAt()))
	fmt.Fprintf(tw, "status\t%s\n", enumName(resp.GetDossier().GetStatus(), "DOSSIER_STATUS_"))
	return tw.Flush()
}

// readFile reads file, or stdin for -.
func readFile(file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(file)
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

type dossierShowCmd struct {
	apiClient
	Purpose string `name:"purpose" default:"operator CLI" help:"why the dossier is read (recorded in the audit trail)"`
	Code    string `arg:"" name:"code" help:"the dossier's code"`
}

func (c *dossierShowCmd) Run(ctx context.Context) error {
	conn, err := dialAPI(c.apiClient)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := enginev1.NewClerkServiceClient(conn).GetDossier(ctx, &enginev1.GetDossierRequest{Code: c.Code, Purpose: c.Purpose})
	if err != nil {
		return callError("reading dossier", err)
	}
	if c.AsJSON {
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
