package store_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/internal/pgtest"
	"github.com/lienthong/lienthong/migrate"
	"github.com/lienthong/lienthong/store"
)

// appendAudit writes n rows, in order, with Vietnamese purposes so the
// hash's byte lengths are tested on more than ASCII.
func appendAudit(t *testing.T, s *store.Store, n int) {
	t.Helper()
	for i := range n {
		require.NoError(t, s.Audit(context.Background(), store.AuditEntry{
			Actor: fmt.Sprintf("clerk:clerk-%d", i%3), Role: "clerk", Action: "view",
			Code: fmt.Sprintf("00004-260302-%04d", i), Purpose: fmt.Sprintf("trả kết quả %d", i),
		}))
	}
}

// idAt is the id of the row at position seq.
func idAt(t *testing.T, pool *pgxpool.Pool, seq int64) int64 {
	t.Helper()
	var id int64
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT id FROM engine.audit WHERE seq = $1`, seq).Scan(&id))
	return id
}

// tamper runs sql as an attacker with the database's superuser would: with
// the audit's own guards switched off, in one transaction.
func tamper(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			`ALTER TABLE engine.audit DISABLE TRIGGER audit_append_only`,
			`ALTER TABLE engine.audit_head DISABLE TRIGGER audit_head_guard`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `ALTER TABLE engine.audit ENABLE TRIGGER audit_append_only;
			ALTER TABLE engine.audit_head ENABLE TRIGGER audit_head_guard`)
		return err
	}))
}

func verify(t *testing.T, s *store.Store, anchors ...store.AuditAnchor) store.AuditVerification {
	t.Helper()
	v, err := s.VerifyAudit(context.Background(), anchors...)
	require.NoError(t, err)
	return v
}

// Many writers on several stores (as API replicas are, each with its own
// pool) append at once; the chain must not fork.
func TestAuditChainHoldsUnderConcurrentAppends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	const replicas, writers, each = 3, 8, 30
	var stores []*store.Store
	for range replicas {
		pool, err := pgxpool.New(ctx, url)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		stores = append(stores, store.New(pool))
	}
	s := stores[0]
	_, err := store.Migrate(ctx, s.Pool())
	require.NoError(t, err)
	require.Nil(t, verify(t, s).Break, "an empty chain holds")

	// A rolled-back append leaves a hole in the ids, which is no gap in the chain.
	tx, err := s.Pool().Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO engine.audit (actor, role, action) VALUES ('x', 'clerk', 'view')`)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx))

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, replicas*writers*each)
	for r, rs := range stores {
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					errs <- rs.Audit(ctx, store.AuditEntry{Actor: fmt.Sprintf("clerk:r%d-w%d", r, w), Role: "clerk", Action: "view",
						Code: "00004-260302-0001", Purpose: fmt.Sprintf("lần %d", i)})
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	const total = replicas * writers * each
	elapsed := time.Since(start)
	t.Logf("%d appends from %d writers on %d stores in %v: %.0f/s", total, replicas*writers, replicas, elapsed, total/elapsed.Seconds())

	v := verify(t, s)
	require.Nil(t, v.Break)
	require.EqualValues(t, total, v.Rows)
	require.EqualValues(t, total, v.Head.Seq)
	var maxID int64
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT max(id) FROM engine.audit`).Scan(&maxID))
	require.Greater(t, maxID, v.Rows, "the rolled-back insert used an id")

	var backwards int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM engine.audit a JOIN engine.audit b ON b.seq = a.seq + 1
		WHERE b.at < a.at`).Scan(&backwards))
	require.Zero(t, backwards, "rows are dated when they join the chain, so time grows along it")
}

// One statement of many rows, and a transaction of several statements,
// chain row after row and move the head once per statement.
func TestAuditChainsManyRowsAtOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	_, err := s.Pool().Exec(ctx, `INSERT INTO engine.audit (actor, role, action, purpose)
		SELECT 'clerk:c' || i, 'clerk', 'view', 'lần ' || i FROM generate_series(1, 5000) i`)
	require.NoError(t, err)
	require.NoError(t, pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		for i := range 3 {
			if _, err := tx.Exec(ctx, `INSERT INTO engine.audit (actor, role, action) VALUES ($1, 'admin', 'view'), ($1, 'admin', 'view')`,
				fmt.Sprint("admin:", i)); err != nil {
				return err
			}
		}
		return nil
	}))
	v := verify(t, s)
	require.Nil(t, v.Break)
	require.EqualValues(t, 5006, v.Rows)
	require.EqualValues(t, 5006, v.Head.Seq)
}

func TestAuditVerifyNamesTheChangedRow(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		sql    string
		seq    int64 // the row verify must name
		detail string
	}{
		"a field": {
			sql: `UPDATE engine.audit SET purpose = 'nothing to see' WHERE seq = 4`, seq: 4,
			detail: "its fields no longer match its hash",
		},
		"the time": {
			sql: `UPDATE engine.audit SET at = at - interval '1 microsecond' WHERE seq = 1`, seq: 1,
			detail: "its fields no longer match its hash",
		},
		"a field, with its hash recomputed": {
			sql: `UPDATE engine.audit SET actor = 'clerk:someone-else',
				hash = engine.audit_hash(seq, id, at, 'clerk:someone-else', role, action, code, purpose, prev_hash) WHERE seq = 3`, seq: 3,
			detail: "was changed and its hash recomputed",
		},
		"the last row, with its hash recomputed": {
			sql: `UPDATE engine.audit SET action = 'nothing',
				hash = engine.audit_hash(seq, id, at, actor, role, 'nothing', code, purpose, prev_hash) WHERE seq = 6`, seq: 6,
			detail: "the head records another hash for it",
		},
		"its prev_hash": {
			sql: `UPDATE engine.audit SET prev_hash = sha256('x') WHERE seq = 5`, seq: 5,
			detail: "neither its prev_hash nor its hash matches",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			appendAudit(t, s, 6)
			require.Nil(t, verify(t, s).Break)
			id := idAt(t, s.Pool(), tc.seq)

			tamper(t, s.Pool(), tc.sql)
			b := verify(t, s).Break
			require.NotNil(t, b)
			require.Equal(t, store.AuditChanged, b.Kind, b.Detail)
			require.Equal(t, tc.seq, b.Seq, b.Detail)
			require.Equal(t, id, b.ID, b.Detail)
			require.Contains(t, b.Detail, fmt.Sprintf("row id %d (seq %d)", id, tc.seq))
			require.Contains(t, b.Detail, tc.detail)
		})
	}
}

func TestAuditVerifyNamesTheGap(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		rows int
		sql  string
		seq  int64 // the first position missing
		// detail is the message, given the ids of the rows left.
		detail func(id func(seq int64) int64) string
	}{
		"a row in the middle": {rows: 5, sql: `DELETE FROM engine.audit WHERE seq = 3`, seq: 3,
			detail: func(id func(int64) int64) string {
				return fmt.Sprintf("seq 3 was removed between row id %d (seq 2) and row id %d (seq 4)", id(2), id(4))
			}},
		"the first rows": {rows: 4, sql: `DELETE FROM engine.audit WHERE seq <= 2`, seq: 1,
			detail: func(id func(int64) int64) string {
				return fmt.Sprintf("seq 1 to 2 were removed between the start of the chain and row id %d (seq 3)", id(3))
			}},
		"the last row": {rows: 5, sql: `DELETE FROM engine.audit WHERE seq = 5`, seq: 5,
			detail: func(id func(int64) int64) string {
				return fmt.Sprintf("seq 5 was removed after row id %d (seq 4): the head records seq 5", id(4))
			}},
		"every row": {rows: 3, sql: `DELETE FROM engine.audit`, seq: 1,
			detail: func(func(int64) int64) string {
				return "seq 1 to 3 were removed after the start of the chain: the head records seq 3"
			}},
		"the head": {rows: 1, sql: `DELETE FROM engine.audit_head`,
			detail: func(func(int64) int64) string { return "the chain's head (engine.audit_head) is gone" }},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			appendAudit(t, s, tc.rows)
			ids := map[int64]int64{}
			for seq := int64(1); seq <= int64(tc.rows); seq++ {
				ids[seq] = idAt(t, s.Pool(), seq)
			}
			tamper(t, s.Pool(), tc.sql)
			b := verify(t, s).Break
			require.NotNil(t, b)
			require.Equal(t, store.AuditRemoved, b.Kind)
			require.Equal(t, tc.seq, b.Seq)
			require.Equal(t, tc.detail(func(seq int64) int64 { return ids[seq] }), b.Detail)
		})
	}
}

func TestAuditVerifyFindsRowsWrittenAroundTheChain(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	appendAudit(t, s, 2)
	tamper(t, s.Pool(), `ALTER TABLE engine.audit DISABLE TRIGGER USER;
		INSERT INTO engine.audit (actor, role, action, seq, prev_hash, hash) VALUES ('x', 'admin', 'view', 3, sha256('a'), sha256('b'));
		ALTER TABLE engine.audit ENABLE TRIGGER USER`)
	b := verify(t, s).Break
	require.NotNil(t, b)
	require.Equal(t, store.AuditUnchained, b.Kind)
	require.EqualValues(t, 3, b.Seq)
	require.Contains(t, b.Detail, "outside the chain")
}

// A superuser can rewrite the tail and the head consistently; only a hash
// kept outside the database shows it.
func TestAuditAnchorsShowARewrittenTail(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	appendAudit(t, s, 4)
	head := verify(t, s).Head
	mid, err := store.ParseAuditAnchor(fmt.Sprintf("2:%x", hashAt(t, s.Pool(), 2)))
	require.NoError(t, err)
	require.Nil(t, verify(t, s, head, mid).Break, "anchors that match pass")

	tamper(t, s.Pool(), `DELETE FROM engine.audit WHERE seq = 4;
		UPDATE engine.audit_head SET seq = 3, hash = (SELECT hash FROM engine.audit WHERE seq = 3)`)
	require.Nil(t, verify(t, s).Break, "a consistent rewrite passes the chain alone")
	b := verify(t, s, head).Break
	require.NotNil(t, b)
	require.Equal(t, store.AuditRemoved, b.Kind)
	require.Contains(t, b.Detail, "seq 4, anchored, is gone")

	id := idAt(t, s.Pool(), 2)
	tamper(t, s.Pool(), `UPDATE engine.audit SET purpose = 'x', hash = engine.audit_hash(seq, id, at, actor, role, action, code, 'x', prev_hash) WHERE seq = 2`)
	// Re-chain what follows, as a careful attacker would.
	tamper(t, s.Pool(), `UPDATE engine.audit SET prev_hash = (SELECT hash FROM engine.audit WHERE seq = 2) WHERE seq = 3;
		UPDATE engine.audit SET hash = engine.audit_hash(seq, id, at, actor, role, action, code, purpose, prev_hash) WHERE seq = 3;
		UPDATE engine.audit_head SET hash = (SELECT hash FROM engine.audit WHERE seq = 3)`)
	require.Nil(t, verify(t, s).Break)
	b = verify(t, s, mid).Break
	require.NotNil(t, b)
	require.Equal(t, id, b.ID)
	require.Contains(t, b.Detail, "no longer has its anchored hash")

	for _, bad := range []string{"", "3", "x:00", "-1:" + head.String()[2:], "3:abcd"} {
		_, err := store.ParseAuditAnchor(bad)
		require.Error(t, err, bad)
	}
}

func hashAt(t *testing.T, pool *pgxpool.Pool, seq int64) []byte {
	t.Helper()
	var h []byte
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT hash FROM engine.audit WHERE seq = $1`, seq).Scan(&h))
	return h
}

func TestAuditGuardsRefuseDirectChanges(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	appendAudit(t, s, 1)
	ctx := context.Background()
	for _, sql := range []string{
		`UPDATE engine.audit SET purpose = 'x'`,
		`DELETE FROM engine.audit`,
		`TRUNCATE engine.audit`,
		`UPDATE engine.audit_head SET seq = 0`,
		`DELETE FROM engine.audit_head`,
		`TRUNCATE engine.audit_head`,
		`INSERT INTO engine.audit_head (one, seq, hash) VALUES (true, 9, sha256('x'))`,
	} {
		_, err := s.Pool().Exec(ctx, sql)
		require.Error(t, err, sql)
	}
	err := s.Audit(ctx, store.AuditEntry{Actor: "clerk:a", Role: "clerk", Action: "view", Purpose: "nul\x00"})
	require.Equal(t, dossier.KindInvalid, dossier.KindOf(err), "text PostgreSQL refuses is refused alone, not with its batch")
	require.Nil(t, verify(t, s).Break)
}

// A database with audit rows from before the chain is chained by the
// migration, in id order, and verifies.
func TestAuditMigrationChainsOldRows(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	ms, err := migrate.Load(os.DirFS("."), "migrations")
	require.NoError(t, err)
	var before []migrate.Migration
	for _, m := range ms {
		if m.Version < 8 {
			before = append(before, m)
		}
	}
	_, err = migrate.Apply(ctx, pool, store.Component, before)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO engine.audit (at, actor, role, action, code, purpose) VALUES
		('2025-01-02 03:04:05.123456+07', 'clerk:a', 'clerk', 'view', '00004-250102-0001', 'trả kết quả'),
		('2025-01-02 03:04:05.123456+07', 'supervisor:b', 'supervisor', 'read audit', '00004-250102-0001', 'ListAudit'),
		(now(), 'admin:c', 'admin', 'sign-in', '', '')`)
	require.NoError(t, err)

	n, err := store.Migrate(ctx, pool)
	require.NoError(t, err)
	require.Positive(t, n)
	s := store.New(pool)
	v := verify(t, s)
	require.Nil(t, v.Break)
	require.EqualValues(t, 3, v.Rows)

	appendAudit(t, s, 2)
	v = verify(t, s)
	require.Nil(t, v.Break, "new rows follow the old ones")
	require.EqualValues(t, 5, v.Head.Seq)
	entries, err := s.AuditOf(ctx, "00004-250102-0001")
	require.NoError(t, err)
	require.Len(t, entries, 2)
	require.Equal(t, "clerk:a", entries[0].Actor)
	require.Equal(t, time.Date(2025, 1, 1, 20, 4, 5, 123456000, time.UTC), entries[0].At.UTC(), "old rows keep their time")

	tamper(t, pool, `UPDATE engine.audit SET purpose = 'xem' WHERE seq = 1`)
	require.Equal(t, store.AuditChanged, verify(t, s).Break.Kind, "old rows are protected too")
}
