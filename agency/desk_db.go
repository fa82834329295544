package agency

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lienthong/lienthong/agency/internal/deskdb"
)

// deskSchema is the schema the case desk's queries (agency/queries/desk.sql)
// are written against; every deciding agency has the same tables in a
// schema named after it.
const deskSchema = "desk."

// queries runs the case desk's queries on db, in the agency's schema.
func (d *desk) queries(db deskdb.DBTX) *deskdb.Queries {
	return deskdb.New(onSchema{db: db, schema: d.agency + "."})
}

// onSchema names the agency's schema in each query before db runs it.
type onSchema struct {
	db     deskdb.DBTX
	schema string
}

func (o onSchema) sql(q string) string { return strings.ReplaceAll(q, deskSchema, o.schema) }

func (o onSchema) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return o.db.Exec(ctx, o.sql(sql), args...)
}

func (o onSchema) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return o.db.Query(ctx, o.sql(sql), args...)
}

func (o onSchema) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return o.db.QueryRow(ctx, o.sql(sql), args...)
}
