package pgtest

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestTemplateIsMadeOnceAndCopied(t *testing.T) {
	ctx := context.Background()
	var migrations atomic.Int32
	key := freshName() + freshName() // a key no other run has used
	tpl := Template{Name: "selftest", Key: key, Migrate: func(ctx context.Context, pool *pgxpool.Pool) error {
		migrations.Add(1)
		_, err := pool.Exec(ctx, "CREATE TABLE marks (n int); INSERT INTO marks VALUES (7)")
		return err
	}}
	a, b := NewFrom(t, tpl), NewFrom(t, tpl)
	if got := migrations.Load(); got != 1 {
		t.Fatalf("the migrations ran %d times for two copies, want once", got)
	}
	for _, pool := range []*pgxpool.Pool{a, b} {
		var n int
		if err := pool.QueryRow(ctx, "SELECT n FROM marks").Scan(&n); err != nil || n != 7 {
			t.Fatalf("a copy holds %d (%v), want the template's 7", n, err)
		}
	}
	if _, err := a.Exec(ctx, "UPDATE marks SET n = 8"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(ctx, "SELECT n FROM marks").Scan(&n); err != nil || n != 7 {
		t.Fatalf("writing to one copy changed another: %d (%v)", n, err)
	}

	// Another key makes another template and drops the old one.
	made.Clear() // as a new test process would start
	newer := tpl
	newer.Key = freshName() + freshName()
	NewFrom(t, newer)
	dropAtEnd(t, "lt_template_selftest_"+newer.Key[:16]) // this test's own template is no use to the next
	if got := migrations.Load(); got != 2 {
		t.Fatalf("a new key ran the migrations %d times in all, want 2", got)
	}
	admin := connect(ctx, t)
	defer admin.Close(ctx)
	var left []string
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, 'lt_template_selftest_') ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		left = append(left, name)
	}
	if want := "lt_template_selftest_" + newer.Key[:16]; len(left) != 1 || left[0] != want {
		t.Fatalf("templates left: %v, want only %s", left, want)
	}
}
