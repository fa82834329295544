package oracle

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// CaseAgencies are the agencies that keep case tables (the portal keeps statuses only).
var CaseAgencies = []string{dossier.AgencyJustice, dossier.AgencyPolice, dossier.AgencyInsurance}

// ReadFacts reads, from lienthong's PostgreSQL, the read model, the status
// history, every agency's cases and the portal's feed. The workflows' own
// state comes from Temporal and is the caller's to add.
func ReadFacts(ctx context.Context, db *pgxpool.Pool, accepted []string) (Facts, error) {
	f := Facts{
		Accepted:  accepted,
		ReadModel: map[string]dossier.Snapshot{},
		Portal:    map[string]PortalRecord{},
		History:   map[string][]HistoryRow{},
	}
	if err := readModel(ctx, db, f.ReadModel); err != nil {
		return f, err
	}
	rows, err := db.Query(ctx, `SELECT code, version, status, step, step_status FROM engine.status_history`)
	if err != nil {
		return f, fmt.Errorf("reading status history: %w", err)
	}
	for rows.Next() {
		var code, st, step, stepStatus string
		var h HistoryRow
		if err := rows.Scan(&code, &h.Version, &st, &step, &stepStatus); err != nil {
			rows.Close()
			return f, fmt.Errorf("reading status history: %w", err)
		}
		h.Status, h.Step, h.StepStatus = dossier.Status(st), dossier.StepKind(step), dossier.StepStatus(stepStatus)
		f.History[code] = append(f.History[code], h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return f, fmt.Errorf("reading status history: %w", err)
	}
	for _, a := range CaseAgencies {
		// The schema name is one of three constants, never input.
		rows, err := db.Query(ctx, `SELECT case_id, dossier_code, step, status FROM `+pgx.Identifier{a, "cases"}.Sanitize())
		if err != nil {
			return f, fmt.Errorf("reading %s cases: %w", a, err)
		}
		for rows.Next() {
			c := AgencyCase{Agency: a}
			var step, st string
			if err := rows.Scan(&c.CaseID, &c.DossierCode, &step, &st); err != nil {
				rows.Close()
				return f, fmt.Errorf("reading %s cases: %w", a, err)
			}
			c.Step, c.Status = dossier.StepKind(step), dossier.CaseStatus(st)
			f.Cases = append(f.Cases, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return f, fmt.Errorf("reading %s cases: %w", a, err)
		}
	}
	prows, err := db.Query(ctx, `SELECT dossier_code, version, status FROM portal.statuses`)
	if err != nil {
		return f, fmt.Errorf("reading portal statuses: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var code string
		var version int64
		var payload []byte
		if err := prows.Scan(&code, &version, &payload); err != nil {
			return f, fmt.Errorf("reading portal statuses: %w", err)
		}
		var ps agencyv1.PortalStatus
		rec := PortalRecord{Version: version}
		if err := proto.Unmarshal(payload, &ps); err != nil {
			rec.Status = "undecodable: " + err.Error()
		} else {
			rec.Status = ps.GetStatus()
			if ps.GetVersion() != version {
				rec.Status = fmt.Sprintf("%s (payload says v%d)", ps.GetStatus(), ps.GetVersion())
			}
		}
		f.Portal[code] = rec
	}
	return f, prows.Err()
}

// readModel reads engine.dossiers and engine.steps into snapshots.
func readModel(ctx context.Context, db *pgxpool.Pool, out map[string]dossier.Snapshot) error {
	rows, err := db.Query(ctx, `SELECT code, grp, status, version FROM engine.dossiers`)
	if err != nil {
		return fmt.Errorf("reading dossiers: %w", err)
	}
	for rows.Next() {
		var s dossier.Snapshot
		var grp, st string
		if err := rows.Scan(&s.Code, &grp, &st, &s.Version); err != nil {
			rows.Close()
			return fmt.Errorf("reading dossiers: %w", err)
		}
		s.Group, s.Status = dossier.Group(grp), dossier.Status(st)
		out[s.Code] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading dossiers: %w", err)
	}
	rows, err = db.Query(ctx, `SELECT code, step, agency, status, status_since, attempts, last_error, reason, missing, agency_case_id, result
		FROM engine.steps ORDER BY code, step`)
	if err != nil {
		return fmt.Errorf("reading steps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var code, kind, st string
		var step dossier.Step
		var result []byte
		if err := rows.Scan(&code, &kind, &step.Agency, &st, &step.StatusSince, &step.Attempts, &step.LastError, &step.Reason,
			&step.Missing, &step.CaseID, &result); err != nil {
			return fmt.Errorf("reading steps: %w", err)
		}
		step.Kind, step.Status = dossier.StepKind(kind), dossier.StepStatus(st)
		_ = json.Unmarshal(result, &step.Result)
		s := out[code]
		s.Steps = append(s.Steps, step)
		out[code] = s
	}
	return rows.Err()
}
