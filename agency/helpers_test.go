package agency_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/pki"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

const (
	engineKey     = "test-engine-key"
	adminKey      = "test-admin-key"
	callbackToken = "test-callback-token"
	testSeed      = 6301
	testPeople    = 400
)

// agencyUnderTest is a running agency and clients for it over real TCP.
type agencyUnderTest struct {
	srv       *agency.Server
	pool      *pgxpool.Pool
	conn      *grpc.ClientConn
	cases     agencyv1.CaseServiceClient
	admin     agencyv1.AdminServiceClient
	justice   agencyv1.JusticeServiceClient
	police    agencyv1.PoliceServiceClient
	insurance agencyv1.InsuranceServiceClient
	portal    agencyv1.PortalServiceClient
}

// fastAuto decides within tens of milliseconds and approves everything.
func fastAuto() *agencyv1.AutoDecider {
	return &agencyv1.AutoDecider{MinDelay: durationpb.New(10 * time.Millisecond), MaxDelay: durationpb.New(30 * time.Millisecond)}
}

// start runs an agency on 127.0.0.1:0 with test defaults for what opts leaves unset.
func start(t *testing.T, opts agency.Options) *agencyUnderTest {
	t.Helper()
	if opts.Pool == nil {
		opts.Pool = pgtest.New(t)
	}
	if opts.ListenAddr == "" {
		opts.ListenAddr = "127.0.0.1:0"
	}
	if opts.APIKeys == nil {
		opts.APIKeys = map[string]string{engineKey: "engine", adminKey: agency.AdminClient}
	}
	if opts.Auto == nil {
		opts.Auto = fastAuto()
	}
	if opts.Seed == 0 {
		opts.Seed = testSeed
	}
	if opts.CallbackAddr != "" && opts.CallbackToken == "" {
		opts.CallbackToken = callbackToken
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := agency.Start(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &agencyUnderTest{
		srv:       srv,
		pool:      opts.Pool,
		conn:      conn,
		cases:     agencyv1.NewCaseServiceClient(conn),
		admin:     agencyv1.NewAdminServiceClient(conn),
		justice:   agencyv1.NewJusticeServiceClient(conn),
		police:    agencyv1.NewPoliceServiceClient(conn),
		insurance: agencyv1.NewInsuranceServiceClient(conn),
		portal:    agencyv1.NewPortalServiceClient(conn),
	}
}

// ctx is a call context with the engine's key.
func (a *agencyUnderTest) ctx(t *testing.T) context.Context {
	return withKey(t, engineKey)
}

func (a *agencyUnderTest) adminCtx(t *testing.T) context.Context {
	return withKey(t, adminKey)
}

func withKey(t *testing.T, key string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}

// count counts the rows of a table in the agency's database.
func (a *agencyUnderTest) count(t *testing.T, table string, where ...string) int {
	t.Helper()
	q := "SELECT count(*) FROM " + table
	if len(where) > 0 {
		q += " WHERE " + where[0]
	}
	var n int
	require.NoError(t, a.pool.QueryRow(t.Context(), q).Scan(&n))
	return n
}

// waitCase polls GetCase until ok holds.
func (a *agencyUnderTest) waitCase(t *testing.T, caseID string, ok func(*agencyv1.Case) bool) *agencyv1.Case {
	t.Helper()
	var last *agencyv1.Case
	require.Eventually(t, func() bool {
		resp, err := a.cases.GetCase(a.ctx(t), &agencyv1.GetCaseRequest{CaseId: caseID})
		if err != nil {
			return false
		}
		last = resp.GetCase()
		return ok(last)
	}, 10*time.Second, 10*time.Millisecond, "case %s never got there; last seen %v", caseID, last)
	return last
}

func hasStatus(s agencyv1.CaseStatus) func(*agencyv1.Case) bool {
	return func(c *agencyv1.Case) bool { return c.GetStatus() == s }
}

func requireCode(t *testing.T, want codes.Code, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, status.Code(err), "error: %v", err)
}

// childID makes a valid ID number for a child of sex born in year.
func childID(t *testing.T, sex civil.Sex, year, serial int) string {
	t.Helper()
	id, err := civil.NewIDNumber("001", sex, year, serial)
	require.NoError(t, err)
	return id
}

var keySeq struct {
	sync.Mutex
	n int
}

// key makes an idempotency key unique within the test binary.
func key(t *testing.T) string {
	keySeq.Lock()
	defer keySeq.Unlock()
	keySeq.n++
	name := strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return '-'
		}
		return r
	}, t.Name())
	return fmt.Sprintf("%s-%d", name, keySeq.n)
}

// birthRequest is a valid birth registration for a child born yesterday.
func birthRequest(t *testing.T, idNumber string) *agencyv1.RegisterBirthRequest {
	born := time.Now().Add(-24 * time.Hour)
	return &agencyv1.RegisterBirthRequest{
		IdempotencyKey:         key(t),
		DossierCode:            "00004-250701-0001",
		Step:                   "birth_registration",
		CommuneCode:            "00004",
		ChildFullName:          "Nguyễn Minh Khang",
		ChildSex:               agencyv1.Sex_SEX_MALE,
		ChildBirthTime:         timestamppb.New(born),
		PlaceOfBirth:           "Bệnh viện Đa khoa Xanh Pôn",
		Ethnicity:              "Kinh",
		Nationality:            "Việt Nam",
		BirthCertificateNumber: "GCS-2025-000123",
		Father:                 &agencyv1.PersonRef{FullName: "Nguyễn Văn An", BirthDate: "1992-03-04"},
		Mother:                 &agencyv1.PersonRef{FullName: "Trần Thị Lan", BirthDate: "1994-05-06"},
		ChildIdNumber:          idNumber,
	}
}

// bornYesterdayID is a valid ID number for birthRequest's child.
func bornYesterdayID(t *testing.T, serial int) string {
	return childID(t, civil.SexMale, time.Now().Add(-24*time.Hour).In(civil.Zone).Year(), serial)
}

// fakeEngine is an AgencyCallbackService that refuses its first calls.
type fakeEngine struct {
	enginev1.UnimplementedAgencyCallbackServiceServer
	mu        sync.Mutex
	failFirst int
	calls     []*agencyv1.Case
	acked     []*agencyv1.Case
	auth      []string
	// peers are the identities of callers' certificates, over TLS.
	peers []string
}

func (f *fakeEngine) ReportCase(ctx context.Context, req *enginev1.ReportCaseRequest) (*enginev1.ReportCaseResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	md, _ := metadata.FromIncomingContext(ctx)
	f.auth = append(f.auth, md.Get("authorization")...)
	if id, ok := pki.PeerIdentity(ctx); ok {
		f.peers = append(f.peers, id.String())
	}
	f.calls = append(f.calls, req.GetCase())
	if len(f.calls) <= f.failFirst {
		return nil, status.Error(codes.Unavailable, "engine busy")
	}
	f.acked = append(f.acked, req.GetCase())
	return &enginev1.ReportCaseResponse{Applied: true}, nil
}

func (f *fakeEngine) snapshot() (calls, acked []*agencyv1.Case, auth []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*agencyv1.Case(nil), f.calls...), append([]*agencyv1.Case(nil), f.acked...), append([]string(nil), f.auth...)
}

// ackedFor lists the acknowledged pushes of one case.
func (f *fakeEngine) ackedFor(caseID string) []*agencyv1.Case {
	_, acked, _ := f.snapshot()
	var out []*agencyv1.Case
	for _, c := range acked {
		if c.GetCaseId() == caseID {
			out = append(out, c)
		}
	}
	return out
}

func startFakeEngine(t *testing.T, failFirst int, opts ...grpc.ServerOption) (*fakeEngine, string) {
	t.Helper()
	f := &fakeEngine{failFirst: failFirst}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer(opts...)
	enginev1.RegisterAgencyCallbackServiceServer(s, f)
	go s.Serve(lis) //nolint:errcheck // ends with Stop
	t.Cleanup(s.Stop)
	return f, lis.Addr().String()
}
