package riverpg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/funbiz-go/sinopac/reconcile/internal/lookup"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Job kinds. Renaming one orphans the jobs already stored.
const (
	OrderKind = "qpay_reconcile_order"
	RangeKind = "qpay_reconcile_range"
)

// maxAttempts bounds the failed runs of one order's job (bank or handler
// failures, dead processes; snoozes do not count): at 5 minutes between
// retries, weeks.
const maxAttempts = 10_000

// orderArgs is an order's job: its PendingOrder. ShopNo and OrderNo make
// it unique.
type orderArgs struct {
	ShopNo     string          `json:"shop_no" river:"unique"`
	OrderNo    string          `json:"order_no" river:"unique"`
	PayType    sinopac.PayType `json:"pay_type,omitempty"`
	Amount     sinopac.Amount  `json:"amount"`
	CreatedAt  time.Time       `json:"created_at"`
	ExpiresAt  time.Time       `json:"expires_at"`
	FirstCheck time.Time       `json:"first_check,omitzero"`
}

func (orderArgs) Kind() string { return OrderKind }

func (orderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func argsOf(o reconcile.PendingOrder) orderArgs {
	return orderArgs{ShopNo: o.ShopNo, OrderNo: o.OrderNo, PayType: o.PayType, Amount: o.Amount,
		CreatedAt: o.CreatedAt, ExpiresAt: o.ExpiresAt, FirstCheck: o.FirstCheck}
}

func (a orderArgs) pending() reconcile.PendingOrder {
	return reconcile.PendingOrder{ShopNo: a.ShopNo, OrderNo: a.OrderNo, PayType: a.PayType, Amount: a.Amount,
		CreatedAt: a.CreatedAt.In(sinopac.Taipei), ExpiresAt: a.ExpiresAt.In(sinopac.Taipei), FirstCheck: a.FirstCheck}
}

// progress is what a job keeps between checks, in its River output
// (metadata "output"): written only with a snooze or the completion.
type progress struct {
	Checks  int            `json:"checks"`
	Outcome reconcile.Kind `json:"outcome,omitempty"`
	Key     string         `json:"key,omitempty"`
}

func progressOf(job *rivertype.JobRow) progress {
	var m struct {
		Output progress `json:"output"`
	}
	_ = json.Unmarshal(job.Metadata, &m) // absent or foreign: no checks yet
	return m.Output
}

// orderWorker makes one check of one order.
type orderWorker struct {
	river.WorkerDefaults[orderArgs]
	r *Reconciler
}

func (w *orderWorker) Work(ctx context.Context, job *river.Job[orderArgs]) (err error) {
	r := w.r
	o := job.Args.pending()
	client, clientErr := r.resolve(ctx, o.ShopNo) // nil: no Observer, and a lookup fails
	ctx, rp := begin(ctx, client, sinopac.ReconcileInfo{ShopNo: o.ShopNo, Check: true})
	defer func() { rp.end(err) }()
	attempt := progressOf(job.JobRow).Checks + 1
	bank, prefetched, err := r.prefetched(ctx, o.Key(), attempt)
	if err != nil {
		return err
	}
	if prefetched && reconcile.KindOf(bank) == reconcile.StillPending && r.atOrPastDeadline(ctx, o) {
		// Giving up rests on the bank's answer at the deadline, not on
		// a record a range lookup fetched before it.
		prefetched = false
	}
	if !prefetched {
		if clientErr != nil {
			return fmt.Errorf("riverpg: shop %s: %w", o.ShopNo, clientErr)
		}
		bank, err = lookup.Order(ctx, client, r.pace.paceFunc(o.ShopNo, r.maxWait), o.OrderNo)
		var backlog *backlogError
		if errors.As(err, &backlog) {
			return river.JobSnooze(backlog.wait) // no check made: progress unchanged
		}
		if err != nil {
			return err
		}
		rp.done.Queries = 1
	}

	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("riverpg: %s: %w", o.Key(), err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	var now time.Time
	if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return fmt.Errorf("riverpg: %s: %w", o.Key(), err)
	}
	ev := r.policy.Decide(o, bank, attempt, now.In(sinopac.Taipei))
	rp.done.Checked = 1
	if err := r.handle(ctx, tx, ev); err != nil {
		return fmt.Errorf("riverpg: handler for %s: %w", ev.Key, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM `+qualify(r.schema, lookupTable)+` WHERE shop_no = $1 AND order_no = $2`,
		o.ShopNo, o.OrderNo); err != nil {
		return fmt.Errorf("riverpg: %s: %w", o.Key(), err)
	}
	if ev.Kind.Final() {
		if err := river.RecordOutput(ctx, progress{Checks: attempt, Outcome: ev.Kind, Key: ev.Key}); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("riverpg: complete %s: %w", o.Key(), err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("riverpg: commit %s: %w", ev.Key, err)
		}
		rp.done.Events[string(ev.Kind)] = 1
		return nil
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("riverpg: commit %s: %w", ev.Key, err)
	}
	// Delivered; a crash before River records the snooze delivers it
	// again (same attempt, same Key).
	if err := river.RecordOutput(ctx, progress{Checks: attempt}); err != nil {
		return err
	}
	rp.done.Events[string(ev.Kind)] = 1
	// River adds the snooze to this process's clock: aim at the
	// database's NextCheck whatever this clock says.
	return river.JobSnooze(max(0, time.Until(ev.NextCheck)))
}

// atOrPastDeadline asks the database's clock whether o is due to be given up.
func (r *Reconciler) atOrPastDeadline(ctx context.Context, o reconcile.PendingOrder) bool {
	var past bool
	err := r.pool.QueryRow(ctx, `SELECT now() >= $1`, r.policy.Deadline(o)).Scan(&past)
	return err != nil || past
}

// prefetched returns the record a range lookup stored for the attempt-th
// check of key, if any.
func (r *Reconciler) prefetched(ctx context.Context, key reconcile.OrderKey, attempt int) (*sinopac.Order, bool, error) {
	var raw []byte
	err := r.pool.QueryRow(ctx, `SELECT record FROM `+qualify(r.schema, lookupTable)+
		` WHERE shop_no = $1 AND order_no = $2 AND check_no = $3`, key.ShopNo, key.OrderNo, attempt).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("riverpg: %s: %w", key, err)
	}
	if raw == nil {
		return nil, true, nil // the bank has none (yet)
	}
	var o sinopac.Order
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, false, nil // unreadable: ask the bank
	}
	return &o, true, nil
}
