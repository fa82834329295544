package oracle_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/measure/oracle"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/store"
)

// ReadFacts reads back what the engine, an agency and the portal wrote, and
// says when the portal's payload disagrees with the version it is filed under.
func TestReadFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	_, err := store.Migrate(ctx, pool)
	require.NoError(t, err)
	for _, a := range []string{dossier.AgencyJustice, dossier.AgencyPolice, dossier.AgencyInsurance, dossier.AgencyPortal} {
		_, err := agency.Migrate(ctx, pool, a)
		require.NoError(t, err, a)
	}
	st := store.New(pool)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	created, err := st.CreateDossier(ctx, store.NewDossier{
		RequestID: "r1", RequestHash: []byte{1}, Group: dossier.GroupDeath,
		CommuneCode: "00004", ProvinceCode: "001", ReceivedAt: at, DueAt: at.Add(72 * time.Hour), AppointmentAt: at.Add(72 * time.Hour),
		PhoneHash: "h", Form: []byte("form"), CreatedBy: "clerk:1",
		Steps: []dossier.StepKind{dossier.StepDeathRegistration, dossier.StepResidenceCancellation},
	})
	require.NoError(t, err)
	code := created.Snapshot.Code
	sn := created.Snapshot
	sn.Version, sn.Status, sn.At, sn.ChangedStep = 2, dossier.StatusInProgress, at.Add(time.Minute), dossier.StepDeathRegistration
	sn.Steps = []dossier.Step{
		{Kind: dossier.StepDeathRegistration, Agency: dossier.AgencyJustice, Status: dossier.StepAwaitingAgency, StatusSince: sn.At,
			UpdatedAt: sn.At, Attempts: 2, CaseID: "JUS-1", Result: map[string]string{"registration_number": "RD-1"}},
		{Kind: dossier.StepResidenceCancellation, Agency: dossier.AgencyPolice, Status: dossier.StepPending, StatusSince: sn.At, UpdatedAt: sn.At},
	}
	_, err = st.ApplySnapshots(ctx, []dossier.Snapshot{sn}, nil)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO justice.cases (case_id, kind, idempotency_key, request_hash, request, dossier_code, step, status,
		version, created_at, updated_at) VALUES ('JUS-1', 'death', $1, '\x01', '{}', $2, $3, 'IN_REVIEW', 1, now(), now())`,
		code+"/"+string(dossier.StepDeathRegistration), code, dossier.StepDeathRegistration)
	require.NoError(t, err)
	payload, err := proto.Marshal(&agencyv1.PortalStatus{Status: "IN_PROGRESS", Version: 1})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO portal.statuses (dossier_code, version, phone_hash, status, published_at)
		VALUES ($1, 2, repeat('a', 64), $2, now())`, code, payload)
	require.NoError(t, err)

	f, err := oracle.ReadFacts(ctx, pool, []string{code})
	require.NoError(t, err)
	rm := f.ReadModel[code]
	require.Equal(t, dossier.StatusInProgress, rm.Status)
	require.EqualValues(t, 2, rm.Version)
	require.Len(t, rm.Steps, 2)
	require.Equal(t, dossier.StepAwaitingAgency, rm.Steps[0].Status)
	require.Equal(t, 2, rm.Steps[0].Attempts)
	require.Equal(t, "RD-1", rm.Steps[0].Result["registration_number"])
	require.Equal(t, []oracle.AgencyCase{{Agency: dossier.AgencyJustice, CaseID: "JUS-1", DossierCode: code,
		Step: dossier.StepDeathRegistration, Status: dossier.CaseInReview}}, f.Cases)
	require.Equal(t, oracle.PortalRecord{Version: 2, Status: "IN_PROGRESS (payload says v1)"}, f.Portal[code])
	var versions []int64
	for _, h := range f.History[code] {
		versions = append(versions, h.Version)
	}
	require.Contains(t, versions, int64(2))
}
