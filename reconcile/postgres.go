package reconcile

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// OpenPostgres connects to PostgreSQL with dsn (a URL or key=value string,
// as pgx reads it, e.g. "postgres://user@host:5432/db?sslmode=disable";
// add search_path=NAME to use a schema) and creates the table if needed.
// Several replicas may share the database: each claims its own rows.
func OpenPostgres(dsn string) (*SQLStore, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("reconcile: open postgres: %w", err)
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("reconcile: connect postgres: %w", err)
	}
	s := &SQLStore{db: db, postgres: true, table: DefaultTable}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
