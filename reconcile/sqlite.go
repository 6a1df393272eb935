package reconcile

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"
)

// OpenSQLite opens (creating if needed) the SQLite database file at path
// and its table. The file is in WAL mode with a busy timeout, so a second
// process on the same file waits instead of failing; one process holds one
// connection (SQLite has one writer at a time anyway).
//
// A file made by an earlier version (without the shop_no column) is
// refused with an error that says so: track its orders again.
func OpenSQLite(path string) (*SQLiteStore, error) {
	if path == "" {
		return nil, fmt.Errorf("reconcile: OpenSQLite needs a file path")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("reconcile: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("reconcile: create schema in %s: %w", path, err)
	}
	var shopCol int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('`+Table+`') WHERE name = 'shop_no'`).Scan(&shopCol); err != nil || shopCol == 0 {
		db.Close()
		return nil, fmt.Errorf("reconcile: %s holds a table %s without shop_no (made by an earlier version): track the orders in a new file", path, Table)
	}
	if _, err := db.ExecContext(ctx, index); err != nil {
		db.Close()
		return nil, fmt.Errorf("reconcile: create index in %s: %w", path, err)
	}
	return &SQLiteStore{db: db}, nil
}
