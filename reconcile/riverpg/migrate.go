package riverpg

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// This package's own tables, beside River's.
const (
	paceTable   = "qpay_reconcile_pace"   // per shop: when its next request may go
	lookupTable = "qpay_reconcile_lookup" // records a range lookup found, per order and check
)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func checkSchema(s string) error {
	if s != "" && !schemaName.MatchString(s) {
		return fmt.Errorf("riverpg: schema %q: use lower-case letters, digits and _", s)
	}
	return nil
}

func qualify(schema, table string) string {
	if schema == "" {
		return table
	}
	return schema + "." + table
}

// Migrate brings the database up to date: River's migrations (through
// rivermigrate) and this package's two tables, under an advisory lock so
// that replicas starting together do not race. It
// changes nothing when all is current. schema "" means the connection's
// search_path; otherwise the schema must exist and New must be given
// WithSchema(schema). It returns the River versions it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) ([]int, error) {
	if err := checkSchema(schema); err != nil {
		return nil, err
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, fmt.Errorf("riverpg: migrate: %w", err)
	}
	// River's versions each run in a transaction of their own (one adds
	// an enum value that a later statement uses); a session lock on a
	// connection of its own serialises replicas migrating at once.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("riverpg: migrate: %w", err)
	}
	defer conn.Release()
	const lock = `hashtext('qpay_reconcile_migrate:' || $1)`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lock+`)`, schema); err != nil {
		return nil, fmt.Errorf("riverpg: migrate: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lock+`)`, schema) //nolint:errcheck // the session ends with the connection anyway
	var applied []int
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err == nil {
		for _, v := range res.Versions {
			applied = append(applied, v.Version)
		}
		_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+qualify(schema, paceTable)+` (
	shop_no TEXT PRIMARY KEY,
	next_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS `+qualify(schema, lookupTable)+` (
	shop_no  TEXT NOT NULL,
	order_no TEXT NOT NULL,
	check_no INTEGER NOT NULL,
	record   JSONB, -- NULL: a complete range walk did not list the order
	seen_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (shop_no, order_no)
)`)
	}
	if err != nil {
		return nil, fmt.Errorf("riverpg: migrate: %w", err)
	}
	return applied, nil
}
