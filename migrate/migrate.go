// Package migrate applies numbered SQL migrations, embedded in the binary, to
// one PostgreSQL schema per component (the engine, each mock agency). It is
// shared by all of them and must not import any other lienthong package.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var fileName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// Migration is one numbered file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads NNNN_name.sql files from dir in fsys, in order.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Apply runs every migration of component not yet applied, each in its own
// transaction, under an advisory lock so concurrent starters do not race.
// It returns how many it applied; running it again applies none.
func Apply(ctx context.Context, pool *pgxpool.Pool, component string, migrations []Migration) (int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrating %s: %w", component, err)
	}
	defer conn.Release()
	lock := int64(0x6c69656e) // "lien"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lock); err != nil {
		return 0, fmt.Errorf("migrating %s: taking lock: %w", component, err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lock) //nolint:errcheck

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS public.lienthong_migrations (
		component text NOT NULL,
		version int NOT NULL,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (component, version))`); err != nil {
		return 0, fmt.Errorf("migrating %s: creating ledger: %w", component, err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM public.lienthong_migrations WHERE component = $1", component)
	if err != nil {
		return 0, fmt.Errorf("migrating %s: reading ledger: %w", component, err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return 0, fmt.Errorf("migrating %s: %w", component, err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("migrating %s: %w", component, err)
	}
	n := 0
	for _, m := range migrations {
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO public.lienthong_migrations (component, version, name) VALUES ($1, $2, $3)", component, m.Version, m.Name)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("migrating %s: applying %s: %w", component, m.Name, err)
		}
		n++
	}
	return n, nil
}
