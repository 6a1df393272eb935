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
func OpenSQLite(path string) (*SQLStore, error) {
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
	s := &SQLStore{db: db, table: DefaultTable}
	if err := s.init(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
