package riverpg_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain()) // a reconciler process of the replica tests
	}
	goleak.VerifyTestMain(m)
}

const defaultPGDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func baseDSN() string {
	if dsn := os.Getenv("QPAY_TEST_PG_DSN"); dsn != "" {
		return dsn
	}
	return defaultPGDSN
}

// pgSchema makes a fresh schema on the test PostgreSQL server, dropped
// (River's tables with it) when the test ends, and returns a pool on the
// database. Without a server the test is skipped, or fails when CI is set
// or QPAY_REQUIRE_PG=1: PostgreSQL tests must never pass by not running
// where they are expected to run.
func pgSchema(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, baseDSN())
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		msg := fmt.Sprintf("PostgreSQL not reachable (set QPAY_TEST_PG_DSN; default %s): %v", defaultPGDSN, err)
		if os.Getenv("CI") != "" || os.Getenv("QPAY_REQUIRE_PG") != "" {
			t.Fatal(msg + " — required because CI or QPAY_REQUIRE_PG is set")
		}
		t.Skip(msg + " — skipping; set QPAY_REQUIRE_PG=1 to make this a failure")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "qpay_test_" + hex.EncodeToString(b[:])
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		pool.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer pool.Close()
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return pool, schema
}
