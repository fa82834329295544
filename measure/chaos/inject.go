package chaos

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/jackc/pgx/v5"
	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/measure/internal/measuredb"
	"github.com/lienthong/lienthong/measure/loadgen"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// inject turns the agencies' faults on, runs the plan's kills, connection
// drop and end of faults on schedule, restarts parts that die on their own,
// and submits the load meanwhile. It returns once the load and the
// schedule are both done.
func (r *run) inject(ctx context.Context) (loadgen.Report, error) {
	r.t0 = time.Now()
	if err := r.faultsOn(ctx); err != nil {
		return loadgen.Report{}, err
	}
	scheduleDone := make(chan struct{})
	go func() {
		defer close(scheduleDone)
		r.runSchedule(ctx)
	}()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go r.superviseParts(watchCtx)

	p, o := r.plan, r.o
	r.logf("submitting %d dossiers %s; faults until +%s, outage at +%s, %d kill(s), connection drop at +%s",
		o.Dossiers, loadgen.RateWords(o.Rate), offset(p.ClearAt), offset(p.OutageAt), len(p.Kills), offset(p.DropAt))
	rep, loadErr := loadgen.Run(ctx, loadgen.Config{
		Addr: r.addrs.apiGRPC, Transport: r.apiCreds, TokenKey: r.keys.TokenKeyBytes(),
		Population: population.Generate(r.keys.AgencySeed, r.keys.SeedPeople),
		Dossiers:   o.Dossiers, BirthShare: 0.7, AllowanceShare: 0.5, Seed: o.Seed,
		Rate: o.Rate, Concurrency: o.Concurrency, Timeout: time.Duration(float64(p.ClearAt)*1.2) + o.Settle,
		DB:       r.pool,
		Progress: r.out, ProgressEvery: 15 * time.Second,
		RunID: fmt.Sprintf("chaos-%d", o.Seed),
	})
	<-scheduleDone
	return rep, loadErr
}

// offset is a plan's offset as the tables print it.
func offset(d time.Duration) string { return loadgen.FormatDuration(d.Round(100 * time.Millisecond)) }

// at is when t happened, from the first submission.
func (r *run) at(t time.Time) string { return "+" + offset(t.Sub(r.t0)) }

func (r *run) record(in Injection) {
	r.mu.Lock()
	r.injected = append(r.injected, in)
	r.mu.Unlock()
}

func (r *run) fail(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

// faultsOn turns the agencies' faults on before the first submission; the
// outage is scheduled by time.
func (r *run) faultsOn(ctx context.Context) error {
	o, p := r.o, r.plan
	faults := func(name string) *agencyv1.Faults {
		f := &agencyv1.Faults{
			Seed:                       o.Seed*10 + int64(len(name)),
			UnavailableRatio:           o.Transient,
			UnauthenticatedBurstEvery:  int32(o.BurstEvery),
			UnauthenticatedBurstLength: int32(o.BurstLength),
		}
		if name == dossier.AgencyPolice && o.Outage > 0 {
			f.OutageFrom = timestamppb.New(r.t0.Add(p.OutageAt))
			f.OutageUntil = timestamppb.New(r.t0.Add(p.OutageAt + o.Outage))
		}
		return f
	}
	for _, name := range agency.Names() {
		if err := setFaults(ctx, r.admins[name], faults(name)); err != nil {
			return fmt.Errorf("setting %s faults: %w", name, err)
		}
	}
	until := offset(p.ClearAt)
	seeTraces := "see the trace rows below"
	r.record(Injection{Fault: fmt.Sprintf("%.0f%% UNAVAILABLE at every agency", o.Transient*100), When: "+0 … +" + until, Effect: seeTraces})
	if o.BurstEvery > 0 && o.BurstLength > 0 {
		r.record(Injection{Fault: fmt.Sprintf("UNAUTHENTICATED bursts (%d calls after every %d)", o.BurstLength, o.BurstEvery),
			When: "+0 … +" + until, Effect: seeTraces})
	}
	if o.Outage > 0 {
		r.record(Injection{Fault: "Police full outage (" + loadgen.FormatDuration(o.Outage) + ")",
			When: "+" + offset(p.OutageAt) + " … +" + offset(p.OutageAt+o.Outage), Effect: seeTraces})
	}
	return nil
}

// runSchedule runs the kills, the connection drop and the end of faults at
// their offsets.
func (r *run) runSchedule(ctx context.Context) {
	type event struct {
		at time.Duration
		do func()
	}
	var events []event
	for i, k := range r.plan.Kills {
		events = append(events, event{k, func() { r.killWorker(ctx, i) }})
	}
	events = append(events, event{r.plan.DropAt, func() { r.dropAll(ctx) }})
	events = append(events, event{r.plan.ClearAt, func() { r.clearFaults(ctx) }})
	slices.SortStableFunc(events, func(a, b event) int { return int(a.at - b.at) })
	for _, ev := range events {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(r.t0.Add(ev.at))):
		}
		ev.do()
	}
}

// killWorker is the plan's i-th kill: SIGKILL, the planned downtime, and
// a restart.
func (r *run) killWorker(ctx context.Context, i int) {
	w := r.byName["worker"]
	killedAt := time.Now()
	pid, peak := w.kill()
	time.Sleep(r.plan.Downtime[i])
	if err := w.start(); err != nil {
		r.fail(err)
		return
	}
	restarted := time.Now()
	effect := fmt.Sprintf("pid %d killed (peak RSS %s); restarted after %s", pid, loadgen.FormatBytes(peak), offset(restarted.Sub(killedAt)))
	if err := w.waitReady(ctx, 2*time.Minute); err != nil {
		effect += "; not ready: " + err.Error()
	} else {
		effect += fmt.Sprintf(", ready %s later", offset(time.Since(restarted)))
	}
	r.record(Injection{Fault: fmt.Sprintf("worker SIGKILL #%d", i+1), When: r.at(killedAt), Effect: effect})
}

func (r *run) dropAll(ctx context.Context) {
	when := time.Now()
	n, err := dropConnections(ctx, r.dbURL)
	effect := fmt.Sprintf("%d backends terminated", n)
	if err != nil {
		effect = "failed: " + err.Error()
	}
	r.record(Injection{Fault: "PostgreSQL connections dropped (pg_terminate_backend)", When: r.at(when), Effect: effect})
}

func (r *run) clearFaults(ctx context.Context) {
	when := time.Now()
	for _, name := range agency.Names() {
		if err := setFaults(ctx, r.admins[name], &agencyv1.Faults{}); err != nil {
			r.fail(fmt.Errorf("clearing %s faults: %w", name, err))
		}
	}
	r.record(Injection{Fault: "all faults cleared", When: r.at(when)})
}

// superviseParts restarts parts that die on their own, as a supervisor
// would; they are counted as crashes.
func (r *run) superviseParts(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, p := range r.procs {
				if p.diedOnItsOwn() {
					r.logf("%s exited on its own; restarting it", p.name)
					_ = p.start()
				}
			}
		}
	}
}

func setFaults(ctx context.Context, c agencyv1.AdminServiceClient, f *agencyv1.Faults) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.SetFaults(cctx, &agencyv1.SetFaultsRequest{Faults: f})
	return err
}

// dropConnections terminates every other backend on the run's database.
func dropConnections(ctx context.Context, dbURL string) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	n, err := measuredb.New(conn).DropOtherConnections(cctx)
	return int(n), err
}
