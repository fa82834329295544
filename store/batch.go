package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lienthong/lienthong/store/internal/enginedb"
)

// batch gathers statements of different kinds into one pgx.Batch, to be
// sent in one round trip: running a generated :exec query on q queues it in
// b instead. (sqlc's own batches hold one statement each, repeated.) Only
// statements that return no rows can be queued; their results are read from
// what sending b returns, in order.
type batch struct {
	b *pgx.Batch
	q *enginedb.Queries
}

func newBatch() batch {
	b := &pgx.Batch{}
	return batch{b: b, q: enginedb.New(queue{b})}
}

// queue is the enginedb.DBTX that queues instead of running.
type queue struct{ b *pgx.Batch }

func (q queue) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	q.b.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

// errQueued refuses a query that returns rows: its rows would come back
// only when the batch is sent.
var errQueued = errors.New("a query that returns rows cannot be queued in a batch")

func (queue) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, errQueued }

func (queue) QueryRow(context.Context, string, ...any) pgx.Row { return errRow{} }

type errRow struct{}

func (errRow) Scan(...any) error { return errQueued }
