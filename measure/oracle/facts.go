package oracle

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/measure/internal/measuredb"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// ReadFacts reads, from lienthong's PostgreSQL, the read model, the status
// history, every agency's cases and the portal's feed. The workflows' own
// state comes from Temporal and is the caller's to add.
func ReadFacts(ctx context.Context, db *pgxpool.Pool, accepted []string) (Facts, error) {
	q := measuredb.New(db)
	f := Facts{
		Accepted:  accepted,
		ReadModel: map[string]dossier.Snapshot{},
		Portal:    map[string]PortalRecord{},
		History:   map[string][]HistoryRow{},
	}
	if err := readModel(ctx, q, f.ReadModel); err != nil {
		return f, err
	}
	history, err := q.OracleHistory(ctx)
	if err != nil {
		return f, fmt.Errorf("reading status history: %w", err)
	}
	for _, r := range history {
		f.History[r.Code] = append(f.History[r.Code], HistoryRow{Version: r.Version, Status: dossier.Status(r.Status),
			Step: dossier.StepKind(r.Step), StepStatus: dossier.StepStatus(r.StepStatus)})
	}
	cases, err := q.OracleCases(ctx)
	if err != nil {
		return f, fmt.Errorf("reading the agencies' cases: %w", err)
	}
	for _, c := range cases {
		f.Cases = append(f.Cases, AgencyCase{Agency: c.Agency, CaseID: c.CaseID, DossierCode: c.DossierCode,
			Step: dossier.StepKind(c.Step), Status: dossier.CaseStatus(c.Status)})
	}
	portal, err := q.OraclePortal(ctx)
	if err != nil {
		return f, fmt.Errorf("reading portal statuses: %w", err)
	}
	for _, p := range portal {
		f.Portal[p.DossierCode] = portalRecord(p.Version, p.Status)
	}
	return f, nil
}

// portalRecord decodes what the portal was sent for a version, and says so
// when the payload disagrees with the version it is filed under.
func portalRecord(version int64, payload []byte) PortalRecord {
	rec := PortalRecord{Version: version}
	var ps agencyv1.PortalStatus
	if err := proto.Unmarshal(payload, &ps); err != nil {
		rec.Status = "undecodable: " + err.Error()
		return rec
	}
	rec.Status = ps.GetStatus()
	if ps.GetVersion() != version {
		rec.Status = fmt.Sprintf("%s (payload says v%d)", ps.GetStatus(), ps.GetVersion())
	}
	return rec
}

// readModel reads engine.dossiers and engine.steps into snapshots.
func readModel(ctx context.Context, q *measuredb.Queries, out map[string]dossier.Snapshot) error {
	dossiers, err := q.OracleDossiers(ctx)
	if err != nil {
		return fmt.Errorf("reading dossiers: %w", err)
	}
	for _, d := range dossiers {
		out[d.Code] = dossier.Snapshot{Code: d.Code, Group: dossier.Group(d.Grp), Status: dossier.Status(d.Status), Version: d.Version}
	}
	steps, err := q.OracleSteps(ctx)
	if err != nil {
		return fmt.Errorf("reading steps: %w", err)
	}
	for _, r := range steps {
		step := dossier.Step{Kind: dossier.StepKind(r.Step), Agency: r.Agency, Status: dossier.StepStatus(r.Status),
			StatusSince: r.StatusSince, Attempts: int(r.Attempts), LastError: r.LastError, Reason: r.Reason,
			Missing: r.Missing, CaseID: r.AgencyCaseID}
		// A result that does not decode is left empty; the oracle judges
		// statuses and cases, not results.
		_ = json.Unmarshal(r.Result, &step.Result)
		s := out[r.Code]
		s.Steps = append(s.Steps, step)
		out[r.Code] = s
	}
	return nil
}
