// Package loadgen owns the load generator: it submits a realistic mix of
// linked birth and death dossiers (package forms) through the engine API at
// a rate and concurrency, waits for them to finish, and reports throughput,
// latencies, status-sync lag and memory. The benchmark and the chaos harness
// build on it. It submits through the API only; to measure it reads the
// engine's and the portal's tables directly.
//
// It is a tool for measuring lienthong, not part of it: it may import stack
// and the engine's data packages; it must not import workflows or
// activities, and no production package may import it.
package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/auth"
	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/forms"
	"github.com/lienthong/lienthong/measure/internal/measuredb"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// Config is one load run.
type Config struct {
	// Addr is the engine API's gRPC address; Clerk, when set, is used instead.
	Addr  string
	Clerk enginev1.ClerkServiceClient
	// Transport secures the connection to Addr; nil is plaintext.
	Transport credentials.TransportCredentials

	// Token is sent on every call. Without it, tokens are minted from
	// TokenKey: a clerk token per commune, or one admin token with AsAdmin.
	Token    string
	TokenKey []byte
	AsAdmin  bool

	// Population must be the one the agencies seeded, or they refuse the people in the forms.
	Population *population.Population
	Dossiers   int
	// BirthShare is the share of birth dossiers (0: deaths only, 1: births only).
	BirthShare float64
	// AllowanceShare is the share of deaths that choose the three-procedure bundle.
	AllowanceShare float64
	// Offset is the first form index. A person dies once, so a second run
	// against the same database needs an offset past the first run's deaths.
	Offset int
	// Seed orders births and deaths; the same seed gives the same run.
	Seed int64

	// Rate is submissions per second; 0 submits as fast as Concurrency allows.
	Rate        float64
	Concurrency int
	// Timeout bounds the whole run, submission and waiting.
	Timeout      time.Duration
	PollInterval time.Duration

	// DB, when set, is lienthong's PostgreSQL: completion is read from the
	// read model and status-sync lag from engine.status_history. Without it,
	// completion is read through the API and lag is not measured.
	DB *pgxpool.Pool

	// Processes whose peak RSS the report shows; empty means this process.
	Processes []Process

	// Progress receives a progress bar (TTY) or a line every ProgressEvery.
	Progress      io.Writer
	ProgressTTY   bool
	ProgressEvery time.Duration

	// Submitted, when set, is called with the accepted dossiers' codes once
	// every submission has been answered, while the run goes on waiting for
	// the dossiers to finish.
	Submitted func(codes []string)

	// RunID prefixes every request id; a random one is made when empty.
	RunID  string
	Logger *slog.Logger
}

func (c *Config) check() error {
	var errs []error
	if c.Clerk == nil && c.Addr == "" {
		errs = append(errs, errors.New("the API address is required"))
	}
	if c.Token == "" && len(c.TokenKey) < auth.MinKeyLength {
		errs = append(errs, errors.New("a token or a token key is required"))
	}
	if c.Population == nil {
		errs = append(errs, errors.New("the seeded population is required"))
	}
	if c.Dossiers <= 0 {
		errs = append(errs, fmt.Errorf("dossiers: got %d, expected at least 1", c.Dossiers))
	}
	if c.BirthShare < 0 || c.BirthShare > 1 {
		errs = append(errs, fmt.Errorf("birth share: got %g, expected 0 to 1", c.BirthShare))
	}
	if c.AllowanceShare < 0 || c.AllowanceShare > 1 {
		errs = append(errs, fmt.Errorf("allowance share: got %g, expected 0 to 1", c.AllowanceShare))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate: got %g, expected 0 or more", c.Rate))
	}
	if c.Offset < 0 {
		errs = append(errs, fmt.Errorf("offset: got %d, expected 0 or more", c.Offset))
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RunID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.RunID = "lg-" + hex.EncodeToString(b[:])
	}
	return errors.Join(errs...)
}

// item is one dossier to submit.
type item struct {
	n         int // position in the run
	birth     bool
	allowance bool
	form      int // form index
}

// plan decides, from the seed, which dossiers are births and which deaths,
// and which form each uses. commune, when set, keeps only that commune's
// people (a clerk token is bound to one commune).
func plan(c Config, forms *forms.Forms, commune string) ([]item, error) {
	births := int(float64(c.Dossiers)*c.BirthShare + 0.5)
	deaths := c.Dossiers - births
	allowances := int(float64(deaths)*c.AllowanceShare + 0.5)
	rng := mrand.New(mrand.NewPCG(uint64(c.Seed), 0x6c6f6164))

	birthForms, deathForms := formIndexes(forms, commune)
	if births > 0 && len(birthForms) == 0 {
		return nil, fmt.Errorf("no couple in the population lives in commune %s", commune)
	}
	if len(deathForms) < c.Offset+deaths {
		return nil, fmt.Errorf("%d deaths asked but only %d people are left to die from offset %d (commune %q): each person dies once; lower the count or the offset, or raise the birth share",
			deaths, max(len(deathForms)-c.Offset, 0), c.Offset, commune)
	}
	kinds := make([]bool, c.Dossiers)
	for i := range births {
		kinds[i] = true
	}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	allow := make([]bool, deaths)
	for i := range allowances {
		allow[i] = true
	}
	rng.Shuffle(len(allow), func(i, j int) { allow[i], allow[j] = allow[j], allow[i] })

	items := make([]item, c.Dossiers)
	bi, di := 0, 0
	for n, birth := range kinds {
		it := item{n: n, birth: birth}
		if birth {
			// Couples repeat once every couple has had a child; whole laps
			// keep each birth certificate number unique.
			k := c.Offset + bi
			it.form = birthForms[k%len(birthForms)] + k/len(birthForms)*forms.Births()
			bi++
		} else {
			it.form, it.allowance = deathForms[c.Offset+di], allow[di]
			di++
		}
		items[n] = it
	}
	return items, nil
}

// formIndexes lists the birth and death forms a run may use: all of them, or
// only those of one commune.
func formIndexes(forms *forms.Forms, commune string) (birthForms, deathForms []int) {
	at := time.Now()
	for i := range forms.Births() {
		if commune == "" || forms.Birth(i, at, "").GetCommuneCode() == commune {
			birthForms = append(birthForms, i)
		}
	}
	for i := range forms.Deaths() {
		if commune == "" || forms.Death(i, at, "", false).GetForm().GetCommuneCode() == commune {
			deathForms = append(deathForms, i)
		}
	}
	return birthForms, deathForms
}

// tracked is one accepted dossier.
type tracked struct {
	code        string
	receivedAt  time.Time
	status      string
	completedAt time.Time
	done        bool
}

type runner struct {
	cfg    Config
	clerk  enginev1.ClerkServiceClient
	forms  *forms.Forms
	tokens *tokenSource

	mu        sync.Mutex
	byCode    map[string]*tracked
	order     []string
	pending   map[string]*tracked
	latencies []time.Duration
	errs      map[string]int
	samples   map[string]string
	refused   int
	answered  int
	finished  int
	pollErrs  int
	lastAns   time.Time
	submitEnd bool
}

// Run submits the configured dossiers, waits until each is finished or the
// timeout ends, and reports what it measured. When some dossiers did not
// finish, the report comes back with an error saying how many.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.check(); err != nil {
		return Report{}, fmt.Errorf("load run: %w", err)
	}
	r := &runner{
		cfg:     cfg,
		forms:   forms.NewForms(cfg.Population),
		byCode:  map[string]*tracked{},
		pending: map[string]*tracked{},
		errs:    map[string]int{},
		samples: map[string]string{},
	}
	ts, err := newTokenSource(cfg)
	if err != nil {
		return Report{}, fmt.Errorf("load run: %w", err)
	}
	r.tokens = ts
	items, err := plan(cfg, r.forms, ts.commune)
	if err != nil {
		return Report{}, fmt.Errorf("load run: %w", err)
	}
	r.clerk = cfg.Clerk
	if r.clerk == nil {
		creds := cfg.Transport
		if creds == nil {
			creds = insecure.NewCredentials()
		}
		conn, err := grpc.NewClient(cfg.Addr, grpc.WithTransportCredentials(creds))
		if err != nil {
			return Report{}, fmt.Errorf("load run: dialing %s: %w", cfg.Addr, err)
		}
		defer func() { _ = conn.Close() }()
		r.clerk = enginev1.NewClerkServiceClient(conn)
	}

	rep := Report{
		RunID: cfg.RunID, Started: time.Now(), Dossiers: cfg.Dossiers, BirthShare: cfg.BirthShare,
		Rate: cfg.Rate, Concurrency: cfg.Concurrency, Source: "api",
	}
	if cfg.DB != nil {
		rep.Source = "postgresql"
	}
	for _, it := range items {
		if it.birth {
			rep.Births++
		} else {
			rep.Deaths++
		}
	}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	start := time.Now()

	stopProgress := r.progress(start)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.submitAll(runCtx, items, start)
		if cfg.Submitted != nil {
			cfg.Submitted(r.accepted())
		}
	}()
	r.wait(runCtx, start)
	wg.Wait()
	stopProgress()

	// Whatever the run's context did, the figures are read with a fresh one.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer fcancel()
	r.finalRead(fctx, start)
	r.fill(&rep, start)
	if cfg.DB != nil {
		if err := r.lag(fctx, &rep); err != nil {
			rep.LagNote = err.Error()
		}
	} else {
		rep.LagNote = "needs --database-url (status history lives in PostgreSQL)"
	}
	procs := cfg.Processes
	if len(procs) == 0 {
		procs = []Process{{Name: "loadgen"}}
	}
	rep.PeakRSS = MeasureRSS(procs)

	switch {
	case rep.Unfinished > 0:
		return rep, fmt.Errorf("%d of %d accepted dossiers were still open when the run ended after %s", rep.Unfinished, rep.Accepted, FormatDuration(time.Since(start)))
	case rep.Accepted < rep.Dossiers:
		return rep, fmt.Errorf("%d of %d dossiers were not accepted", rep.Dossiers-rep.Accepted, rep.Dossiers)
	}
	return rep, nil
}

// submitAll feeds the items to Concurrency submitters, paced by Rate.
func (r *runner) submitAll(ctx context.Context, items []item, start time.Time) {
	defer func() {
		r.mu.Lock()
		r.submitEnd = true
		r.mu.Unlock()
	}()
	work := make(chan item)
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				r.submit(ctx, it)
			}
		}()
	}
	defer wg.Wait()
	defer close(work)
	for i, it := range items {
		if r.cfg.Rate > 0 {
			at := start.Add(time.Duration(float64(i) / r.cfg.Rate * float64(time.Second)))
			if d := time.Until(at); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case work <- it:
		}
	}
}

// retryable codes are worth another try with the same request id: the API
// makes a repeated submission return the dossier it already stored.
func retryable(c codes.Code) bool {
	switch c {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return true
	}
	return false
}

const submitAttempts = 4

func (r *runner) submit(ctx context.Context, it item) {
	requestID := fmt.Sprintf("%s-%05d", r.cfg.RunID, it.n)
	var (
		commune string
		call    func(ctx context.Context) (string, *timestamppb.Timestamp, error)
	)
	now := time.Now()
	if it.birth {
		req := r.forms.Birth(it.form, now, requestID)
		commune = req.GetCommuneCode()
		call = func(ctx context.Context) (string, *timestamppb.Timestamp, error) {
			resp, err := r.clerk.SubmitBirth(ctx, req)
			return resp.GetCode(), resp.GetDossier().GetReceivedAt(), err
		}
	} else {
		req := r.forms.Death(it.form, now, requestID, it.allowance)
		commune = req.GetForm().GetCommuneCode()
		call = func(ctx context.Context) (string, *timestamppb.Timestamp, error) {
			resp, err := r.clerk.SubmitDeath(ctx, req)
			return resp.GetCode(), resp.GetDossier().GetReceivedAt(), err
		}
	}
	token, err := r.tokens.forCommune(commune)
	if err != nil {
		r.fail(codes.Internal, err)
		r.refuse()
		return
	}
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(auth.WithBearer(ctx, token), 30*time.Second)
		began := time.Now()
		code, received, err := call(cctx)
		took := time.Since(began)
		cancel()
		if err == nil {
			r.accept(code, received, began, took)
			return
		}
		c := status.Code(err)
		if ctx.Err() != nil {
			r.refuse()
			return
		}
		r.fail(c, err)
		if !retryable(c) || attempt == submitAttempts {
			r.cfg.Logger.Warn("submission refused", "request_id", requestID, "code", c.String(), "error", err)
			r.refuse()
			return
		}
		select {
		case <-ctx.Done():
			r.refuse()
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (r *runner) accept(code string, received *timestamppb.Timestamp, began time.Time, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answered++
	r.lastAns = time.Now()
	r.latencies = append(r.latencies, took)
	if _, dup := r.byCode[code]; dup {
		return
	}
	t := &tracked{code: code, receivedAt: began, status: string(dossier.StatusReceived)}
	if received != nil {
		t.receivedAt = received.AsTime()
	}
	r.byCode[code] = t
	r.pending[code] = t
	r.order = append(r.order, code)
}

// accepted are the codes of the dossiers accepted so far, in order.
func (r *runner) accepted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.order)
}

func (r *runner) fail(c codes.Code, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := codeName(c)
	r.errs[name]++
	if _, ok := r.samples[name]; !ok {
		r.samples[name] = status.Convert(err).Message()
	}
}

func (r *runner) refuse() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused++
	r.answered++
	r.lastAns = time.Now()
}

// codeName spells gRPC codes the way the API's errors and google.rpc.Code
// do, e.g. UNAVAILABLE.
func codeName(c codes.Code) string {
	return code.Code(c).String() //nolint:gosec // G115: gRPC codes are small non-negative numbers
}

// wait polls until every accepted dossier has finished after submission ended.
func (r *runner) wait(ctx context.Context, start time.Time) {
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.poll(ctx, start, true); err != nil {
			r.cfg.Logger.Debug("polling read model", "error", err)
			r.mu.Lock()
			r.pollErrs++
			r.mu.Unlock()
		}
		r.mu.Lock()
		done := r.submitEnd && len(r.pending) == 0
		r.mu.Unlock()
		if done {
			return
		}
	}
}

// poll reads the status of pending dossiers; terminalOnly limits an API
// listing to finished ones.
func (r *runner) poll(ctx context.Context, start time.Time, terminalOnly bool) error {
	r.mu.Lock()
	codes := make([]string, 0, len(r.pending))
	for c := range r.pending {
		codes = append(codes, c)
	}
	r.mu.Unlock()
	if len(codes) == 0 {
		return nil
	}
	var seen []observed
	var err error
	if r.cfg.DB != nil {
		seen, err = pollDB(ctx, r.cfg.DB, codes)
	} else {
		seen, err = r.pollAPI(ctx, start, terminalOnly)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range seen {
		t, ok := r.pending[o.code]
		if !ok {
			continue
		}
		t.status = o.status
		if dossier.Status(o.status).Terminal() {
			t.done = true
			t.completedAt = o.completedAt
			if !o.receivedAt.IsZero() {
				t.receivedAt = o.receivedAt
			}
			delete(r.pending, o.code)
			r.finished++
		}
	}
	return err
}

type observed struct {
	code, status            string
	receivedAt, completedAt time.Time
}

func pollDB(ctx context.Context, db *pgxpool.Pool, codes []string) ([]observed, error) {
	rows, err := measuredb.New(db).DossiersByCode(ctx, codes)
	if err != nil {
		return nil, fmt.Errorf("reading dossiers: %w", err)
	}
	out := make([]observed, 0, len(rows))
	for _, r := range rows {
		o := observed{code: r.Code, status: r.Status, receivedAt: r.ReceivedAt}
		if r.CompletedAt != nil {
			o.completedAt = *r.CompletedAt
		}
		out = append(out, o)
	}
	return out, nil
}

var terminalStatuses = []enginev1.DossierStatus{
	enginev1.DossierStatus_DOSSIER_STATUS_COMPLETED, enginev1.DossierStatus_DOSSIER_STATUS_PARTIALLY_COMPLETED,
	enginev1.DossierStatus_DOSSIER_STATUS_REJECTED, enginev1.DossierStatus_DOSSIER_STATUS_CANCELLED,
}

// pollAPI lists the dossiers received since the run started.
func (r *runner) pollAPI(ctx context.Context, start time.Time, terminalOnly bool) ([]observed, error) {
	token, err := r.tokens.lister()
	if err != nil {
		return nil, err
	}
	req := &enginev1.ListDossiersRequest{ReceivedFrom: timestamppb.New(start.Add(-time.Minute)), PageSize: 500}
	if terminalOnly {
		req.Statuses = terminalStatuses
	}
	if r.tokens.commune != "" {
		req.CommuneCode = r.tokens.commune
	}
	var out []observed
	for pages := 0; pages < 1000; pages++ {
		cctx, cancel := context.WithTimeout(auth.WithBearer(ctx, token), 30*time.Second)
		resp, err := r.clerk.ListDossiers(cctx, req)
		cancel()
		if err != nil {
			return out, fmt.Errorf("listing dossiers: %w", err)
		}
		for _, d := range resp.GetDossiers() {
			o := observed{code: d.GetCode(), status: strings.TrimPrefix(d.GetStatus().String(), "DOSSIER_STATUS_")}
			if d.GetReceivedAt() != nil {
				o.receivedAt = d.GetReceivedAt().AsTime()
			}
			if d.GetCompletedAt() != nil {
				o.completedAt = d.GetCompletedAt().AsTime()
			}
			out = append(out, o)
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	return out, nil
}

// finalRead records the last status of dossiers that did not finish.
func (r *runner) finalRead(ctx context.Context, start time.Time) {
	if err := r.poll(ctx, start, false); err != nil {
		r.mu.Lock()
		r.pollErrs++
		r.mu.Unlock()
	}
}

func (r *runner) fill(rep *Report, start time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep.Accepted = len(r.order)
	rep.Refused = r.refused
	rep.Finished = r.finished
	rep.Unfinished = len(r.pending)
	rep.Errors, rep.ErrorSamples, rep.PollErrors = r.errs, r.samples, r.pollErrs
	rep.Codes = append([]string(nil), r.order...)
	rep.ByStatus = map[string]int{}
	var e2e []time.Duration
	var last time.Time
	for _, code := range r.order {
		t := r.byCode[code]
		rep.ByStatus[t.status]++
		if !t.done || t.completedAt.IsZero() {
			continue
		}
		e2e = append(e2e, t.completedAt.Sub(t.receivedAt))
		if t.completedAt.After(last) {
			last = t.completedAt
		}
	}
	rep.SubmitLatency = Summarize(r.latencies)
	rep.EndToEnd = Summarize(e2e)
	if !r.lastAns.IsZero() {
		rep.SubmitDuration = r.lastAns.Sub(start)
		if s := rep.SubmitDuration.Seconds(); s > 0 {
			rep.SubmitRate = float64(rep.Accepted) / s
		}
	}
	if !last.IsZero() {
		rep.Duration = last.Sub(start)
		if s := rep.Duration.Seconds(); s > 0 {
			rep.Throughput = float64(rep.Finished) / s
		}
	}
}

// lag reads, for every version an agency's decision made, how long the read
// model and the portal took to hold it.
func (r *runner) lag(ctx context.Context, rep *Report) error {
	rows, err := measuredb.New(r.cfg.DB).DecisionLags(ctx, rep.Codes)
	if err != nil {
		return fmt.Errorf("reading status history: %w", err)
	}
	var readModel, portal []time.Duration
	for _, row := range rows {
		readModel = append(readModel, row.SyncedAt.Sub(row.DecidedAt))
		if row.PortalSyncedAt != nil {
			portal = append(portal, row.PortalSyncedAt.Sub(row.DecidedAt))
		}
	}
	rep.ReadModelLag, rep.PortalLag = Summarize(readModel), Summarize(portal)
	return nil
}

// tokenSource mints or holds the bearer tokens a run uses.
type tokenSource struct {
	cfg     Config
	fixed   string
	commune string // a fixed clerk token's commune

	mu    sync.Mutex
	cache map[string]string
}

func newTokenSource(cfg Config) (*tokenSource, error) {
	ts := &tokenSource{cfg: cfg, fixed: cfg.Token, cache: map[string]string{}}
	if cfg.Token != "" {
		role, commune, err := peekClaims(cfg.Token)
		if err != nil {
			return nil, err
		}
		if role == string(auth.RoleClerk) {
			ts.commune = commune
		}
	}
	return ts, nil
}

const tokenTTL = 12 * time.Hour

func (ts *tokenSource) forCommune(commune string) (string, error) {
	if ts.fixed != "" {
		return ts.fixed, nil
	}
	key := "clerk/" + commune
	claims := auth.Claims{Subject: "loadgen-" + commune, Role: auth.RoleClerk, Commune: commune}
	if ts.cfg.AsAdmin {
		key, claims = "admin", auth.Claims{Subject: "loadgen", Role: auth.RoleAdmin}
	} else if c, ok := civil.LookupCommune(commune); ok {
		claims.Province = c.ProvinceCode
	}
	return ts.mint(key, claims)
}

// lister may list every dossier of the run.
func (ts *tokenSource) lister() (string, error) {
	if ts.fixed != "" {
		return ts.fixed, nil
	}
	return ts.mint("admin", auth.Claims{Subject: "loadgen", Role: auth.RoleAdmin})
}

func (ts *tokenSource) mint(key string, c auth.Claims) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if tok, ok := ts.cache[key]; ok {
		return tok, nil
	}
	tok, err := auth.Issue(ts.cfg.TokenKey, c, tokenTTL)
	if err != nil {
		return "", err
	}
	ts.cache[key] = tok
	return tok, nil
}

// peekClaims reads a token's role and commune without verifying it: the
// load generator only needs to know which commune's people it may submit.
func peekClaims(token string) (role, commune string, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "", errors.New("--token: expected a JWT (three dot-separated parts)")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", fmt.Errorf("--token: %w", err)
	}
	var c struct {
		Role    string `json:"role"`
		Commune string `json:"commune"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return "", "", fmt.Errorf("--token: %w", err)
	}
	return c.Role, c.Commune, nil
}
