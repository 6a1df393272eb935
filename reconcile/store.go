package reconcile

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
)

// Entry is a PendingOrder as the Store keeps it.
type Entry struct {
	PendingOrder
	Attempts  int       // checks done
	NextCheck time.Time // not checked before this
	Done      bool      // a final event was accepted
	Outcome   Kind      // the final event's kind, when Done
	DoneAt    time.Time
}

// Store keeps the pending orders of the Reconciler durably. Every method is
// safe for concurrent use, also from several processes sharing one file.
//
// A claim is a lease: until it ends, no other owner can claim the entry,
// and only its owner can reschedule or finish it. The owner extends its
// leases while it works on them; a crashed owner's leases run out.
type Store interface {
	// Add stores a new pending entry. An order already stored (same
	// ShopNo and OrderNo) is left as it is (Track is idempotent).
	Add(ctx context.Context, o PendingOrder, nextCheck time.Time) error
	// Claim leases up to limit entries that are pending, due (NextCheck <=
	// now) and not leased by anyone at now, to owner until now+lease,
	// earliest NextCheck first.
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Entry, error)
	// Extend moves owner's leases on the pending entries of keys to end at
	// now+lease (the heartbeat of a pass still working on them) and returns
	// those of keys it holds.
	Extend(ctx context.Context, owner string, keys []OrderKey, now time.Time, lease time.Duration) ([]OrderKey, error)
	// Reschedule records a check that left the order pending and ends the
	// lease. ErrLeaseLost if owner no longer holds it.
	Reschedule(ctx context.Context, owner string, key OrderKey, attempts int, next time.Time) error
	// Finish marks the entry done with its final outcome. ErrLeaseLost if
	// owner no longer holds it.
	Finish(ctx context.Context, owner string, key OrderKey, attempts int, outcome Kind, at time.Time) error
	// Release ends owner's leases on the entries without recording a check.
	Release(ctx context.Context, owner string, keys []OrderKey) error
	// Get returns the entry of key, or ErrNotTracked.
	Get(ctx context.Context, key OrderKey) (Entry, error)
	// List returns the entries, pending ones first (by NextCheck), then the
	// done ones; with pendingOnly, only the pending ones.
	List(ctx context.Context, pendingOnly bool) ([]Entry, error)
	// Backlog counts each shop's pending entries, with the earliest
	// CreatedAt among them, sorted by ShopNo: one aggregate, which every
	// pass runs to report what is left.
	Backlog(ctx context.Context) ([]Backlog, error)
	// Close releases the database.
	Close() error
}

// Backlog is what a shop has pending in a Store.
type Backlog struct {
	ShopNo  string
	Pending int       // entries not done
	Oldest  time.Time // the earliest CreatedAt among them
}

// ErrLeaseLost is returned when an owner writes an entry whose lease it no
// longer holds (it ran out and another owner claimed it).
var ErrLeaseLost = errors.New("reconcile: lease lost")

// ErrNotTracked is returned by Store.Get for an unknown order.
var ErrNotTracked = errors.New("reconcile: order not tracked")

// SQLiteStore is the Store in a SQLite file (OpenSQLite). Times are stored
// as Unix milliseconds: the Reconciler's clock decides everything, and one
// machine has one clock. For several machines use PostgreSQL with River
// (package reconcile/riverpg).
type SQLiteStore struct {
	db *sql.DB
}

// Table is the table SQLiteStore uses.
const Table = "qpay_reconcile"

const schema = `CREATE TABLE IF NOT EXISTS ` + Table + ` (
	shop_no     TEXT NOT NULL,
	order_no    TEXT NOT NULL,
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
	done_at     BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (shop_no, order_no)
)`

const index = `CREATE INDEX IF NOT EXISTS ` + Table + `_due ON ` + Table + ` (done, next_check)`

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
func (s *SQLiteStore) Add(ctx context.Context, o PendingOrder, next time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO `+Table+
		` (shop_no, order_no, pay_type, amount, created_at, expires_at, next_check) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (shop_no, order_no) DO NOTHING`,
		o.ShopNo, o.OrderNo, string(o.PayType), int64(o.Amount), ms(o.CreatedAt), ms(o.ExpiresAt), ms(next))
	if err != nil {
		return fmt.Errorf("reconcile: add %s: %w", o.Key(), err)
	}
	return nil
}

const entryCols = `shop_no, order_no, pay_type, amount, created_at, expires_at, attempts, next_check, done, outcome, done_at`

func scanEntry(sc interface{ Scan(...any) error }) (Entry, error) {
	var (
		e                                    Entry
		pt, outcome                          string
		amount, created, expires, next, done int64
		doneAt                               int64
	)
	if err := sc.Scan(&e.ShopNo, &e.OrderNo, &pt, &amount, &created, &expires, &e.Attempts, &next, &done, &outcome, &doneAt); err != nil {
		return Entry{}, err
	}
	e.PayType, e.Amount = sinopac.PayType(pt), sinopac.Amount(amount)
	e.CreatedAt, e.ExpiresAt, e.NextCheck = fromMS(created), fromMS(expires), fromMS(next)
	e.Done, e.Outcome, e.DoneAt = done != 0, Kind(outcome), fromMS(doneAt)
	return e, nil
}

func (s *SQLiteStore) query(ctx context.Context, what, q string, args ...any) ([]Entry, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("reconcile: %s: %w", what, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reconcile: %s: %w", what, err)
	}
	return out, nil
}

// Claim implements Store with one UPDATE … RETURNING (SQLite has one
// writer at a time: two claims never overlap).
func (s *SQLiteStore) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Entry, error) {
	out, err := s.query(ctx, "claim", `UPDATE `+Table+` SET lease_owner = ?, lease_until = ?
WHERE (shop_no, order_no) IN (SELECT shop_no, order_no FROM `+Table+`
	WHERE done = 0 AND next_check <= ? AND lease_until <= ?
	ORDER BY next_check, shop_no, order_no LIMIT ?)
RETURNING `+entryCols, owner, ms(now.Add(lease)), ms(now), ms(now), limit)
	// RETURNING has no order of its own.
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(a.NextCheck.Compare(b.NextCheck), strings.Compare(a.ShopNo, b.ShopNo), strings.Compare(a.OrderNo, b.OrderNo))
	})
	return out, err
}

// Extend implements Store.
func (s *SQLiteStore) Extend(ctx context.Context, owner string, keys []OrderKey, now time.Time, lease time.Duration) ([]OrderKey, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := []any{ms(now.Add(lease)), owner}
	for _, k := range keys {
		args = append(args, k.ShopNo, k.OrderNo)
	}
	rows, err := s.db.QueryContext(ctx, `UPDATE `+Table+` SET lease_until = ? WHERE lease_owner = ? AND done = 0
AND (shop_no, order_no) IN (VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?), ", len(keys)), ", ")+`)
RETURNING shop_no, order_no`, args...)
	if err != nil {
		return nil, fmt.Errorf("reconcile: extend leases: %w", err)
	}
	defer rows.Close()
	var held []OrderKey
	for rows.Next() {
		var k OrderKey
		if err := rows.Scan(&k.ShopNo, &k.OrderNo); err != nil {
			return nil, fmt.Errorf("reconcile: extend leases: %w", err)
		}
		held = append(held, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reconcile: extend leases: %w", err)
	}
	return held, nil
}

func (s *SQLiteStore) owned(ctx context.Context, what string, key OrderKey, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reconcile: %s %s: %w", what, key, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("reconcile: %s %s: %w", what, key, err)
	} else if n == 0 {
		return fmt.Errorf("reconcile: %s %s: %w", what, key, ErrLeaseLost)
	}
	return nil
}

// Reschedule implements Store.
func (s *SQLiteStore) Reschedule(ctx context.Context, owner string, key OrderKey, attempts int, next time.Time) error {
	return s.owned(ctx, "reschedule", key, `UPDATE `+Table+
		` SET attempts = ?, next_check = ?, lease_owner = '', lease_until = 0
WHERE shop_no = ? AND order_no = ? AND lease_owner = ? AND done = 0`, attempts, ms(next), key.ShopNo, key.OrderNo, owner)
}

// Finish implements Store.
func (s *SQLiteStore) Finish(ctx context.Context, owner string, key OrderKey, attempts int, outcome Kind, at time.Time) error {
	return s.owned(ctx, "finish", key, `UPDATE `+Table+
		` SET attempts = ?, done = 1, outcome = ?, done_at = ?, lease_owner = '', lease_until = 0
WHERE shop_no = ? AND order_no = ? AND lease_owner = ? AND done = 0`, attempts, string(outcome), ms(at), key.ShopNo, key.OrderNo, owner)
}

// Release implements Store.
func (s *SQLiteStore) Release(ctx context.Context, owner string, keys []OrderKey) error {
	for _, k := range keys {
		if _, err := s.db.ExecContext(ctx, `UPDATE `+Table+
			` SET lease_owner = '', lease_until = 0 WHERE shop_no = ? AND order_no = ? AND lease_owner = ?`, k.ShopNo, k.OrderNo, owner); err != nil {
			return fmt.Errorf("reconcile: release %s: %w", k, err)
		}
	}
	return nil
}

// Get implements Store.
func (s *SQLiteStore) Get(ctx context.Context, key OrderKey) (Entry, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+entryCols+` FROM `+Table+` WHERE shop_no = ? AND order_no = ?`, key.ShopNo, key.OrderNo)
	e, err := scanEntry(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("reconcile: %s: %w", key, ErrNotTracked)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("reconcile: get %s: %w", key, err)
	}
	return e, nil
}

// List implements Store.
func (s *SQLiteStore) List(ctx context.Context, pendingOnly bool) ([]Entry, error) {
	where := ""
	if pendingOnly {
		where = " WHERE done = 0"
	}
	return s.query(ctx, "list", `SELECT `+entryCols+` FROM `+Table+where+
		` ORDER BY done, CASE WHEN done = 0 THEN next_check ELSE done_at END, shop_no, order_no`)
}

// Backlog implements Store with one GROUP BY over the pending entries.
func (s *SQLiteStore) Backlog(ctx context.Context) ([]Backlog, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT shop_no, COUNT(*), MIN(created_at) FROM `+Table+
		` WHERE done = 0 GROUP BY shop_no ORDER BY shop_no`)
	if err != nil {
		return nil, fmt.Errorf("reconcile: backlog: %w", err)
	}
	defer rows.Close()
	var out []Backlog
	for rows.Next() {
		var (
			b      Backlog
			oldest int64
		)
		if err := rows.Scan(&b.ShopNo, &b.Pending, &oldest); err != nil {
			return nil, fmt.Errorf("reconcile: backlog: %w", err)
		}
		b.Oldest = fromMS(oldest)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reconcile: backlog: %w", err)
	}
	return out, nil
}

// DB returns the underlying database, for inspection and tests.
func (s *SQLiteStore) DB() *sql.DB { return s.db }

// Close implements Store.
func (s *SQLiteStore) Close() error { return s.db.Close() }
