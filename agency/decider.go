package agency

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lienthong/lienthong/agency/internal/deskdb"
)

// maxIdle bounds how long the decider sleeps without looking at the queue.
const maxIdle = time.Second

// runDecider decides due cases until ctx ends: every RECEIVED case in auto
// mode, and machine kinds (late ID numbers) in either mode. It sleeps until
// the next case is due, and wakes early when a case is opened or reopened.
func (d *desk) runDecider(ctx context.Context) {
	for {
		next, err := d.decideDue(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := maxIdle
		if err != nil {
			d.log.Warn("deciding due cases", "err", err)
		} else if !next.IsZero() {
			wait = min(max(time.Until(next), time.Millisecond), maxIdle)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.wakeDecider:
			t.Stop()
		case <-t.C:
		}
	}
}

// decideDue decides every due case and returns when the next one is due
// (zero when none waits).
func (d *desk) decideDue(ctx context.Context) (time.Time, error) {
	machine := d.machineKinds()
	for {
		auto := d.settings.isAuto()
		more, err := d.decideOne(ctx, auto, machine)
		if err != nil {
			return time.Time{}, err
		}
		if !more {
			break
		}
	}
	next, err := d.queries(d.pool).NextDueAt(ctx, deskdb.NextDueAtParams{Auto: d.settings.isAuto(), Machine: machine})
	if errors.Is(err, pgx.ErrNoRows) || next == nil {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return *next, nil
}

// decideOne decides the most overdue case, if any. Cases locked by an
// officer's transaction or another decider are skipped, not waited for.
func (d *desk) decideOne(ctx context.Context, auto bool, machine []string) (bool, error) {
	var decided *caseRecord
	var ok bool
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		now := d.now()
		q := d.queries(tx)
		row, err := q.NextDueCase(ctx, deskdb.NextDueCaseParams{Now: now, Auto: auto, Machine: machine})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		c, err := caseOf(deskdb.CaseByIDRow(row))
		if err != nil {
			return err
		}
		_, a := d.settings.current()
		v := d.autoVerdict(c, a)
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		if err := d.apply(ctx, sp, c, v, now); err != nil {
			_ = sp.Rollback(ctx)
			if ctx.Err() != nil {
				return err
			}
			// Put the case aside for a while rather than retrying it in a tight loop.
			d.log.Error("auto decision failed; retrying later", "case_id", c.ID, "dossier_code", c.DossierCode, "step", c.Step, "err", err)
			later := now.Add(5 * time.Second)
			err := q.PostponeCase(ctx, deskdb.PostponeCaseParams{CaseID: c.ID, DueAt: &later})
			decided = c
			return err
		}
		c.Version++
		c.UpdatedAt = now
		if err := d.write(ctx, sp, c); err != nil {
			return err
		}
		if err := d.enqueue(ctx, sp, c); err != nil {
			return err
		}
		if err := sp.Commit(ctx); err != nil {
			return err
		}
		decided, ok = c, true
		return nil
	})
	if err != nil {
		return false, err
	}
	if ok {
		d.logCase("case decided", decided)
		d.wake()
	}
	return decided != nil, nil
}

func (d *desk) machineKinds() []string {
	var out []string
	for k, spec := range d.kinds {
		if spec.machine {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return nonNilSlice(out)
}
