package reconcile

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
)

// PendingOrder is an order to watch until the bank says how it ended.
type PendingOrder struct {
	OrderNo   string          // the merchant's OrderNo, as sent to OrderCreate
	PayType   sinopac.PayType // optional; narrows range queries when all orders of a window share it
	Amount    sinopac.Amount  // what the merchant expects (the event carries the bank's)
	CreatedAt time.Time       // when OrderCreate was sent: the bank's TSDate is close to it
	ExpiresAt time.Time       // the payment deadline (ATM ExpireDate, card ExpMinutes …)
}

// Entry is a PendingOrder as the Store keeps it.
type Entry struct {
	PendingOrder
	Attempts  int       // checks done
	NextCheck time.Time // not checked before this
	Done      bool      // a final event was accepted
	Outcome   Kind      // the final event's kind, when Done
	DoneAt    time.Time
}

// Store keeps the pending orders durably. Every method is safe for
// concurrent use, also from several processes sharing one database.
//
// A claim is a lease: until it ends, no other owner can claim the entry,
// and only its owner can reschedule or finish it. A crashed owner's leases
// simply run out.
type Store interface {
	// Add stores a new pending entry. An OrderNo already stored is left as
	// it is (Track is idempotent).
	Add(ctx context.Context, o PendingOrder, nextCheck time.Time) error
	// Claim leases up to limit entries that are pending, due (NextCheck <=
	// now) and not leased by anyone at now, to owner until now+lease,
	// earliest NextCheck first.
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Entry, error)
	// Reschedule records a check that left the order pending and ends the
	// lease. ErrLeaseLost if owner no longer holds it.
	Reschedule(ctx context.Context, owner, orderNo string, attempts int, next time.Time) error
	// Finish marks the entry done with its final outcome. ErrLeaseLost if
	// owner no longer holds it.
	Finish(ctx context.Context, owner, orderNo string, attempts int, outcome Kind, at time.Time) error
	// Release ends owner's leases on the entries without recording a check.
	Release(ctx context.Context, owner string, orderNos []string) error
	// Get returns the entry of orderNo, or ErrNotTracked.
	Get(ctx context.Context, orderNo string) (Entry, error)
	// Close releases the database.
	Close() error
}

// ErrLeaseLost is returned when an owner writes an entry whose lease it no
// longer holds (it ran out and another owner claimed it).
var ErrLeaseLost = errors.New("reconcile: lease lost")

// ErrNotTracked is returned by Store.Get for an unknown OrderNo.
var ErrNotTracked = errors.New("reconcile: order not tracked")

// SQLStore is the Store on a database/sql database: SQLite (OpenSQLite) or
// PostgreSQL (OpenPostgres). Times are stored as Unix milliseconds, so the
// database's clock and time zone play no part: the Reconciler's clock
// decides everything.
type SQLStore struct {
	db       *sql.DB
	postgres bool
	table    string
}

// DefaultTable is the table SQLStore uses.
const DefaultTable = "qpay_reconcile"

func (s *SQLStore) schema() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + s.table + ` (
	order_no    TEXT PRIMARY KEY,
	pay_type    TEXT NOT NULL DEFAULT '',
	amount      BIGINT NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_check  BIGINT NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0,
	done        INTEGER NOT NULL DEFAULT 0,
	outcome     TEXT NOT NULL DEFAULT '',
	done_at     BIGINT NOT NULL DEFAULT 0
)`,
		`CREATE INDEX IF NOT EXISTS ` + s.table + `_due ON ` + s.table + ` (done, next_check)`,
	}
}

func (s *SQLStore) init(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reconcile: create schema: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if s.postgres {
		// Replicas starting together would race on CREATE TABLE IF NOT
		// EXISTS (a unique violation in pg_type): serialise them.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, s.table); err != nil {
			return fmt.Errorf("reconcile: create schema: %w", err)
		}
	}
	for _, q := range s.schema() {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("reconcile: create schema: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("reconcile: create schema: %w", err)
	}
	return nil
}

// bind turns ? placeholders into PostgreSQL's $n.
func (s *SQLStore) bind(q string) string {
	if !s.postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).In(sinopac.Taipei)
}

// Add implements Store.
func (s *SQLStore) Add(ctx context.Context, o PendingOrder, next time.Time) error {
	_, err := s.db.ExecContext(ctx, s.bind(`INSERT INTO `+s.table+
		` (order_no, pay_type, amount, created_at, expires_at, next_check) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (order_no) DO NOTHING`),
		o.OrderNo, string(o.PayType), int64(o.Amount), ms(o.CreatedAt), ms(o.ExpiresAt), ms(next))
	if err != nil {
		return fmt.Errorf("reconcile: add %s: %w", o.OrderNo, err)
	}
	return nil
}

const entryCols = `order_no, pay_type, amount, created_at, expires_at, attempts, next_check, done, outcome, done_at`

func scanEntry(sc interface{ Scan(...any) error }) (Entry, error) {
	var (
		e                                    Entry
		pt, outcome                          string
		amount, created, expires, next, done int64
		doneAt                               int64
	)
	if err := sc.Scan(&e.OrderNo, &pt, &amount, &created, &expires, &e.Attempts, &next, &done, &outcome, &doneAt); err != nil {
		return Entry{}, err
	}
	e.PayType, e.Amount = sinopac.PayType(pt), sinopac.Amount(amount)
	e.CreatedAt, e.ExpiresAt, e.NextCheck = fromMS(created), fromMS(expires), fromMS(next)
	e.Done, e.Outcome, e.DoneAt = done != 0, Kind(outcome), fromMS(doneAt)
	return e, nil
}

// Claim implements Store. One UPDATE … RETURNING takes the lease; on
// PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED, so
// replicas claiming at the same moment take disjoint sets without waiting.
func (s *SQLStore) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Entry, error) {
	lock := ""
	if s.postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := s.bind(`UPDATE ` + s.table + ` SET lease_owner = ?, lease_until = ?
WHERE order_no IN (SELECT order_no FROM ` + s.table + `
	WHERE done = 0 AND next_check <= ? AND lease_until <= ?
	ORDER BY next_check, order_no LIMIT ?` + lock + `)
RETURNING ` + entryCols)
	rows, err := s.db.QueryContext(ctx, q, owner, ms(now.Add(lease)), ms(now), ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("reconcile: claim: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("reconcile: claim: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reconcile: claim: %w", err)
	}
	// RETURNING has no order of its own.
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(a.NextCheck.Compare(b.NextCheck), strings.Compare(a.OrderNo, b.OrderNo))
	})
	return out, nil
}

func (s *SQLStore) owned(ctx context.Context, what, orderNo, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, s.bind(q), args...)
	if err != nil {
		return fmt.Errorf("reconcile: %s %s: %w", what, orderNo, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("reconcile: %s %s: %w", what, orderNo, err)
	} else if n == 0 {
		return fmt.Errorf("reconcile: %s %s: %w", what, orderNo, ErrLeaseLost)
	}
	return nil
}

// Reschedule implements Store.
func (s *SQLStore) Reschedule(ctx context.Context, owner, orderNo string, attempts int, next time.Time) error {
	return s.owned(ctx, "reschedule", orderNo, `UPDATE `+s.table+
		` SET attempts = ?, next_check = ?, lease_owner = '', lease_until = 0
WHERE order_no = ? AND lease_owner = ? AND done = 0`, attempts, ms(next), orderNo, owner)
}

// Finish implements Store.
func (s *SQLStore) Finish(ctx context.Context, owner, orderNo string, attempts int, outcome Kind, at time.Time) error {
	return s.owned(ctx, "finish", orderNo, `UPDATE `+s.table+
		` SET attempts = ?, done = 1, outcome = ?, done_at = ?, lease_owner = '', lease_until = 0
WHERE order_no = ? AND lease_owner = ? AND done = 0`, attempts, string(outcome), ms(at), orderNo, owner)
}

// Release implements Store.
func (s *SQLStore) Release(ctx context.Context, owner string, orderNos []string) error {
	for _, no := range orderNos {
		if _, err := s.db.ExecContext(ctx, s.bind(`UPDATE `+s.table+
			` SET lease_owner = '', lease_until = 0 WHERE order_no = ? AND lease_owner = ?`), no, owner); err != nil {
			return fmt.Errorf("reconcile: release %s: %w", no, err)
		}
	}
	return nil
}

// Get implements Store.
func (s *SQLStore) Get(ctx context.Context, orderNo string) (Entry, error) {
	row := s.db.QueryRowContext(ctx, s.bind(`SELECT `+entryCols+` FROM `+s.table+` WHERE order_no = ?`), orderNo)
	e, err := scanEntry(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("reconcile: %s: %w", orderNo, ErrNotTracked)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("reconcile: get %s: %w", orderNo, err)
	}
	return e, nil
}

// DB returns the underlying database, for inspection and tests.
func (s *SQLStore) DB() *sql.DB { return s.db }

// Close implements Store.
func (s *SQLStore) Close() error { return s.db.Close() }
