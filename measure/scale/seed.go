package scale

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/lienthong/lienthong/measure/internal/measuredb"
	"github.com/lienthong/lienthong/migrate"
	"github.com/lienthong/lienthong/store"
)

// Database is a fresh database on a server, dropped by Drop.
type Database struct {
	URL    string
	name   string
	server string
}

// CreateDatabase makes a database lt_scale_<random> on the server at serverURL.
func CreateDatabase(ctx context.Context, serverURL string) (*Database, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "lt_scale_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", u.Redacted(), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("creating database: %w", err)
	}
	u.Path = "/" + name
	return &Database{URL: u.String(), name: name, server: serverURL}, nil
}

// Drop removes the database, closing whatever is still connected to it.
func (d *Database) Drop(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, d.server)
	if err != nil {
		return fmt.Errorf("dropping %s: %w", d.name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping %s: %w", d.name, err)
	}
	return nil
}

// MigrateTo applies the engine's migrations up to version (all of them when
// version is 0) and returns the version the schema is at.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, version int) (int, error) {
	ms, err := store.Migrations()
	if err != nil {
		return 0, err
	}
	var upTo []migrate.Migration
	for _, m := range ms {
		if version == 0 || m.Version <= version {
			upTo = append(upTo, m)
		}
	}
	if _, err := migrate.Apply(ctx, pool, store.Component, upTo); err != nil {
		return 0, err
	}
	return upTo[len(upTo)-1].Version, nil
}

// The tables a year fills and their columns, in the order year rows hold them.
var (
	dossierCols = []string{"code", "request_id", "request_hash", "grp", "commune_code", "province_code", "status", "version",
		"received_at", "due_at", "appointment_at", "completed_at", "outcome_reason", "overdue", "current_step", "current_agency",
		"phone_hash", "form", "created_by", "workflow_started_at", "updated_at", "trace_id", "late_registrations"}
	stepCols = []string{"code", "step", "agency", "status", "status_since", "started_at", "due_at", "decided_at", "overdue",
		"attempts", "last_error", "reason", "missing", "agency_case_id", "result", "new_appointment_at", "updated_at"}
	historyCols = []string{"code", "version", "status", "step", "step_status", "at", "decided_at", "synced_at", "portal_synced_at"}
	eventCols   = []string{"code", "at", "kind", "actor", "step", "outcome", "error", "latency_ms", "attempt", "detail", "dedupe_key"}
	contactCols = []string{"code", "phone", "email"}
	noteCols    = []string{"code", "version", "kind", "step", "channel", "subject", "body", "created_at", "state", "attempts",
		"next_attempt_at", "last_error", "sent_at"}
	feedCols = []string{"code", "wanted", "published", "next_attempt_at"}
)

// seededTables are the tables a year fills, parents first.
var seededTables = []string{"dossiers", "steps", "status_history", "events", "notification_contacts", "notifications", "portal_feed"}

// SeedResult is what seeding took.
type SeedResult struct {
	Summary  Summary
	Rows     int64
	Copy     time.Duration // the COPY itself
	Indexes  time.Duration // rebuilding the keys, constraints and indexes
	Refill   time.Duration // engine.rollup_refill(), when the schema has the rollup
	Analyze  time.Duration // VACUUM (ANALYZE)
	Duration time.Duration
}

// Seed fills an empty engine schema with a national year of n dossiers
// received until now. The keys, constraints and indexes of the filled
// tables are dropped during the COPY and rebuilt from their own definitions
// afterwards, so the schema ends exactly as the migrations left it. When the
// schema has the statistics' rollup (0011), its triggers are disabled
// during the COPY and the rollup is refilled once after it. Then every
// table is vacuumed and analysed.
func Seed(ctx context.Context, pool *pgxpool.Pool, n int, now time.Time, seed uint64, progress io.Writer) (SeedResult, error) {
	var res SeedResult
	start := time.Now()
	rebuild, err := dropKeys(ctx, pool)
	if err != nil {
		return res, err
	}
	var rollup bool
	if err := pool.QueryRow(ctx, "SELECT to_regproc('engine.rollup_refill') IS NOT NULL").Scan(&rollup); err != nil {
		return res, fmt.Errorf("looking for the rollup: %w", err)
	}
	if rollup {
		if err := rollupTriggers(ctx, pool, "DISABLE"); err != nil {
			return res, err
		}
	}

	y := newYear(n, now, seed)
	const chunk = 5000
	batches := make(chan []seeded, 2)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(batches)
		for {
			b := y.next(chunk)
			if len(b) == 0 {
				return nil
			}
			select {
			case batches <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	})
	type progressed struct {
		dossiers int
		rows     int64
	}
	copied := make(chan progressed, 2)
	for range 2 {
		g.Go(func() error {
			for b := range batches {
				k, err := copyBatch(gctx, pool, b)
				if err != nil {
					return err
				}
				copied <- progressed{len(b), k}
			}
			return nil
		})
	}
	waited := make(chan error, 1)
	go func() {
		waited <- g.Wait()
		close(copied)
	}()
	last := time.Now()
	dossiers := 0
	for k := range copied {
		res.Rows += k.rows
		dossiers += k.dossiers
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			el := time.Since(start)
			fmt.Fprintf(progress, "seeding: %d/%d dossiers, %d rows, %.0f rows/s\n", dossiers, n, res.Rows, float64(res.Rows)/el.Seconds())
		}
	}
	if err := <-waited; err != nil {
		return res, fmt.Errorf("seeding: %w", err)
	}
	res.Copy = time.Since(start)
	res.Summary = y.summary
	fmt.Fprintf(progress, "seeding: copied %d rows in %s; rebuilding keys and indexes\n", res.Rows, res.Copy.Round(time.Second))

	t := time.Now()
	if err := rebuild(ctx, progress); err != nil {
		return res, err
	}
	res.Indexes = time.Since(t)
	if rollup {
		t = time.Now()
		if err := rollupTriggers(ctx, pool, "ENABLE"); err != nil {
			return res, err
		}
		if _, err := pool.Exec(ctx, "SELECT engine.rollup_refill()"); err != nil {
			return res, fmt.Errorf("refilling the rollup: %w", err)
		}
		res.Refill = time.Since(t)
		fmt.Fprintf(progress, "seeding: refilled the rollup in %s\n", res.Refill.Round(time.Second))
	}
	t = time.Now()
	// A year-old table has been vacuumed: its visibility map lets the
	// planner answer from an index alone, as it would in production.
	if _, err := pool.Exec(ctx, "VACUUM (ANALYZE)"); err != nil {
		return res, fmt.Errorf("vacuuming: %w", err)
	}
	res.Analyze = time.Since(t)
	res.Duration = time.Since(start)
	fmt.Fprintf(progress, "seeding: done in %s (copy %s, keys and indexes %s, vacuum and analyse %s)\n", res.Duration.Round(time.Second),
		res.Copy.Round(time.Second), res.Indexes.Round(time.Second), res.Analyze.Round(time.Second))
	return res, nil
}

// rollupTriggers disables or enables the rollup's triggers on the seeded
// tables (0011_statistics_rollup.sql).
func rollupTriggers(ctx context.Context, pool *pgxpool.Pool, verb string) error {
	for _, t := range []string{"ALTER TABLE engine.dossiers %s TRIGGER rollup_dossiers", "ALTER TABLE engine.dossiers %s TRIGGER rollup_dossier_deleting",
		"ALTER TABLE engine.steps %s TRIGGER rollup_steps"} {
		if _, err := pool.Exec(ctx, fmt.Sprintf(t, verb)); err != nil {
			return fmt.Errorf("rollup triggers: %w", err)
		}
	}
	return nil
}

// copyBatch copies one batch of dossiers into every table, in one transaction.
func copyBatch(ctx context.Context, pool *pgxpool.Pool, b []seeded) (int64, error) {
	var dossiers, contacts, feed, steps, history, events, notes [][]any
	for _, s := range b {
		dossiers = append(dossiers, s.dossier)
		contacts = append(contacts, s.contact)
		feed = append(feed, s.feed)
		steps = append(steps, s.steps...)
		history = append(history, s.history...)
		events = append(events, s.events...)
		notes = append(notes, s.notifications...)
	}
	var total int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return err
		}
		for _, c := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"dossiers", dossierCols, dossiers}, {"steps", stepCols, steps}, {"status_history", historyCols, history},
			{"events", eventCols, events}, {"notification_contacts", contactCols, contacts},
			{"notifications", noteCols, notes}, {"portal_feed", feedCols, feed},
		} {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"engine", c.table}, c.cols, pgx.CopyFromRows(c.rows))
			if err != nil {
				return fmt.Errorf("copying into %s: %w", c.table, err)
			}
			total += n
		}
		return nil
	})
	return total, err
}

// dropKeys drops the primary keys, unique and foreign-key constraints and
// indexes of the tables a year fills, and returns what rebuilds them as they
// were: keys first, then indexes, then the foreign keys that lean on them.
func dropKeys(ctx context.Context, pool *pgxpool.Pool) (func(context.Context, io.Writer) error, error) {
	type def struct{ table, name, sql string }
	var cons, fks, idx []def
	q := measuredb.New(pool)
	keys, err := q.EngineKeys(ctx, seededTables)
	if err != nil {
		return nil, fmt.Errorf("reading constraints: %w", err)
	}
	for _, k := range keys {
		d := def{k.TableName, k.Name, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", k.TableName, k.Name, k.Definition)}
		if k.Kind == "f" {
			fks = append(fks, d)
		} else {
			cons = append(cons, d)
		}
	}
	indexes, err := q.EngineIndexes(ctx, seededTables)
	if err != nil {
		return nil, fmt.Errorf("reading indexes: %w", err)
	}
	for _, i := range indexes {
		idx = append(idx, def{name: i.Name, sql: i.Definition})
	}
	for _, d := range fks {
		if _, err := pool.Exec(ctx, "ALTER TABLE "+d.table+" DROP CONSTRAINT "+d.name); err != nil {
			return nil, fmt.Errorf("dropping %s: %w", d.name, err)
		}
	}
	for _, d := range cons {
		if _, err := pool.Exec(ctx, "ALTER TABLE "+d.table+" DROP CONSTRAINT "+d.name); err != nil {
			return nil, fmt.Errorf("dropping %s: %w", d.name, err)
		}
	}
	for _, d := range idx {
		if _, err := pool.Exec(ctx, "DROP INDEX "+d.name); err != nil {
			return nil, fmt.Errorf("dropping %s: %w", d.name, err)
		}
	}
	return func(ctx context.Context, progress io.Writer) error {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "SET maintenance_work_mem = '256MB'"); err != nil {
			return err
		}
		defer conn.Exec(context.WithoutCancel(ctx), "RESET maintenance_work_mem") //nolint:errcheck
		for _, group := range [][]def{cons, idx, fks} {
			for _, d := range group {
				t := time.Now()
				if _, err := conn.Exec(ctx, d.sql); err != nil {
					return fmt.Errorf("rebuilding %s: %w", d.name, err)
				}
				fmt.Fprintf(progress, "seeding: rebuilt %s in %s\n", d.name, time.Since(t).Round(10*time.Millisecond))
			}
		}
		return nil
	}, nil
}
