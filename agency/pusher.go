package agency

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/agency/internal/deskdb"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
	"github.com/lienthong/lienthong/telemetry"
)

// Push pacing: a failed push waits pushBackoff, doubling per attempt up to
// pushMaxBackoff; each call may take pushTimeout.
const (
	pushBackoff    = 50 * time.Millisecond
	pushMaxBackoff = 30 * time.Second
	pushTimeout    = 5 * time.Second
	pushBatch      = 64
	pushParallel   = 8
	// Delivered rows are kept this long for diagnosis, then pruned.
	pushKeep   = 24 * time.Hour
	pruneEvery = time.Hour
)

// pusher delivers the outbox to the engine's callback endpoint: each case's
// versions in order, one at a time, retried with backoff until acknowledged.
// Cases are independent, so different cases are pushed in parallel.
type pusher struct {
	d      *desk
	client enginev1.AgencyCallbackServiceClient
	token  string
	faults *faults
	log    *slog.Logger
	// tracing starts each push's trace, linked to the call that opened the
	// case; nil is off.
	tracing *telemetry.Tracing
}

// outboxRow is the oldest undelivered version of one case.
type outboxRow struct {
	id       int64
	caseID   string
	version  int64
	payload  []byte
	attempts int
	// traceParent is the trace of the call that opened the case.
	traceParent string
}

func (p *pusher) run(ctx context.Context) {
	var pruned time.Time
	for {
		if time.Since(pruned) > pruneEvery {
			pruned = time.Now()
			keep := pruned.Add(-pushKeep)
			if err := p.d.queries(p.d.pool).PruneOutbox(ctx, &keep); err != nil && ctx.Err() == nil {
				p.log.Warn("pruning delivered case pushes", "err", err)
			}
		}
		progressed, next, err := p.pass(ctx)
		if ctx.Err() != nil {
			return
		}
		if progressed {
			continue
		}
		wait := maxIdle
		if err != nil {
			p.log.Warn("pushing case changes", "err", err)
		} else if !next.IsZero() {
			wait = min(max(time.Until(next), time.Millisecond), maxIdle)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-p.d.wakePusher:
			t.Stop()
		case <-t.C:
		}
	}
}

// pass pushes every case's oldest undelivered version that is due. It says
// whether anything was delivered (then there may be a next version to push)
// and, if not, when the next retry is due.
func (p *pusher) pass(ctx context.Context) (bool, time.Time, error) {
	q := p.d.queries(p.d.pool)
	rows, err := q.DuePushes(ctx, deskdb.DuePushesParams{Now: time.Now(), Lim: pushBatch})
	if err != nil {
		return false, time.Time{}, err
	}
	due := make([]outboxRow, 0, len(rows))
	for _, r := range rows {
		due = append(due, outboxRow{id: r.ID, caseID: r.CaseID, version: r.Version, payload: r.Payload,
			attempts: int(r.Attempts), traceParent: r.TraceParent})
	}

	if len(due) == 0 {
		next, err := q.NextPushAt(ctx)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, time.Time{}, nil
		}
		if err != nil {
			return false, time.Time{}, err
		}
		return false, next, nil
	}

	delivered := make([]bool, len(due))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pushParallel)
	for i, r := range due {
		g.Go(func() error {
			ok, err := p.deliver(gctx, r)
			delivered[i] = ok
			return err
		})
	}
	err = g.Wait()
	for _, ok := range delivered {
		if ok {
			return true, time.Time{}, err
		}
	}
	return false, time.Now().Add(pushBackoff), err
}

// deliver pushes one version and records the outcome. Only database errors
// are returned; a failed push is recorded for a later retry.
func (p *pusher) deliver(ctx context.Context, r outboxRow) (bool, error) {
	var c agencyv1.Case
	if err := proto.Unmarshal(r.payload, &c); err != nil {
		return false, err
	}
	log := p.log.With("case_id", c.CaseId, "dossier_code", c.DossierCode, "step", c.Step, "version", c.Version)
	if p.faults.loseCallback() {
		log.Info("case push dropped (injected fault)")
		now := time.Now()
		err := p.d.queries(p.d.pool).PushLost(ctx, deskdb.PushLostParams{ID: r.id, SentAt: &now})
		return err == nil, err
	}

	callCtx, cancel := context.WithTimeout(ctx, pushTimeout)
	callCtx, endSpan := p.tracing.StartLinked(callCtx, "push "+p.d.agency+" case", r.traceParent,
		attribute.String("dossier_id", c.DossierCode), attribute.String("step", c.Step), attribute.Int64("version", c.Version))
	if p.token != "" {
		// Over mutual TLS the agency's certificate says who pushes; the
		// token is the plaintext fallback.
		callCtx = metadata.AppendToOutgoingContext(callCtx, "authorization", "Bearer "+p.token)
	}
	_, pushErr := p.client.ReportCase(callCtx, &enginev1.ReportCaseRequest{Case: &c})
	endSpan(pushErr)
	cancel()
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	now := time.Now()
	if pushErr == nil {
		err := p.d.queries(p.d.pool).PushDelivered(ctx, deskdb.PushDeliveredParams{ID: r.id, SentAt: &now})
		if err == nil {
			log.Debug("case pushed", "attempts", r.attempts+1)
		}
		return err == nil, err
	}
	attempts := r.attempts + 1
	wait := backoff(attempts)
	st := status.Convert(pushErr)
	log.WarnContext(callCtx, "case push failed; will retry", "attempt", attempts, "code", st.Code().String(), "error", st.Message(), "retry_in", wait.String())
	return false, p.d.queries(p.d.pool).PushFailed(ctx, deskdb.PushFailedParams{ID: r.id, Attempts: int32(attempts),
		NextAttemptAt: now.Add(wait), LastError: st.Code().String() + ": " + st.Message()})
}

// backoff doubles from pushBackoff up to pushMaxBackoff, with up to 20%
// jitter so that a recovering engine is not hit by every agency at once.
func backoff(attempt int) time.Duration {
	d := pushBackoff << min(attempt-1, 20)
	if d > pushMaxBackoff || d <= 0 {
		d = pushMaxBackoff
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
