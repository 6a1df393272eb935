package riverpg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/reconcile/internal/lookup"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// rangeArgs is the periodic range lookup, and the reconciler's pass: it
// reports each shop's walks and backlog (see observe.go). One walks at a time: each run
// takes a session advisory lock, and a run that finds it taken ends at
// once. The lock (not a unique job) is what serialises them because
// PostgreSQL drops it the moment its holder's connection dies: a replica
// killed mid-walk blocks the next walk for no longer than that.
type rangeArgs struct{}

func (rangeArgs) Kind() string { return RangeKind }

func (rangeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: RangeQueue, MaxAttempts: 1}
}

// rangeWorker walks, per shop, the clusters of orders due before the next
// range lookup, and stores each record it finds for the check that comes
// due: the order's own job then decides, delivers and completes as
// always, without asking the bank again.
type rangeWorker struct {
	river.WorkerDefaults[rangeArgs]
	r *Reconciler
}

// Timeout lets a walk of many pages, paced behind the checks, finish.
func (w *rangeWorker) Timeout(*river.Job[rangeArgs]) time.Duration {
	return max(time.Minute, 10*w.r.rangeEvery)
}

// maxRangeOrders bounds the orders one range lookup considers.
const maxRangeOrders = 20_000

// due is an order job due soon, with the check it is due for.
type due struct {
	args  orderArgs
	check int
}

func (w *rangeWorker) Work(ctx context.Context, _ *river.Job[rangeArgs]) error {
	r := w.r
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("riverpg: range lookup: %w", err)
	}
	defer conn.Release()
	const lock = `hashtext('qpay_reconcile_range:' || $1)`
	var mine bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lock+`)`, r.schema).Scan(&mine); err != nil {
		return fmt.Errorf("riverpg: range lookup: %w", err)
	}
	if !mine {
		return nil // another replica is walking
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lock+`)`, r.schema) //nolint:errcheck // a lost connection drops it anyway
	backlogs, backlogErr := r.backlogs(ctx)
	byShop := map[string][]due{}
	if r.rangeMin > 0 {
		if err := r.listDue(ctx, byShop); err != nil {
			return err
		}
	}
	shops := map[string]bool{}
	for shop := range backlogs {
		shops[shop] = true
	}
	for shop := range byShop {
		shops[shop] = true
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for shop := range shops {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := r.rangeShop(ctx, shop, byShop[shop], backlogs[shop], backlogErr); err != nil && r.log != nil {
				r.log.LogAttrs(ctx, slog.LevelWarn, "qpay reconcile range lookup", slog.String("shop", shop), slog.Any("error", err))
			}
		})
	}
	wg.Wait()
	if backlogErr != nil && r.log != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "qpay reconcile backlog", slog.Any("error", backlogErr))
	}
	return nil
}

// listDue adds the order jobs due before the next range lookup to byShop.
func (r *Reconciler) listDue(ctx context.Context, byShop map[string][]due) error {
	params := river.NewJobListParams().Kinds(OrderKind).
		States(rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable).
		Where("scheduled_at <= now() + make_interval(secs => @ahead)", river.NamedArgs{"ahead": (2 * r.rangeEvery).Seconds()}).
		First(1000)
	for n := 0; n < maxRangeOrders; {
		res, err := r.client.JobList(ctx, params)
		if err != nil {
			return fmt.Errorf("riverpg: range lookup: list due orders: %w", err)
		}
		for _, j := range res.Jobs {
			var a orderArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				continue
			}
			byShop[a.ShopNo] = append(byShop[a.ShopNo], due{args: a, check: progressOf(j).Checks + 1})
		}
		n += len(res.Jobs)
		if len(res.Jobs) < 1000 {
			break
		}
		params = params.After(res.LastCursor)
	}
	return nil
}

// rangeShop walks one shop's clusters, stores what they find and reports
// the shop's pass with its backlog b (not measured: backlogErr).
func (r *Reconciler) rangeShop(ctx context.Context, shop string, orders []due, b backlog, backlogErr error) (err error) {
	clusters, _ := lookup.Clusters(orders, func(d due) time.Time { return d.args.CreatedAt }, r.rangeMin, r.rangeSpan)
	client, err := r.resolve(ctx, shop)
	if err != nil {
		if len(clusters) == 0 {
			return nil // nothing to walk, and no Observer to report to
		}
		return err
	}
	ctx, rp := begin(ctx, client, sinopac.ReconcileInfo{ShopNo: shop})
	rp.done.Backlog, rp.done.Pending, rp.done.OldestPending = backlogErr == nil, b.pending, b.oldest
	defer func() { rp.end(errors.Join(err, backlogErr)) }()
	pace := r.pace.paceFunc(shop, 0)
	for _, cluster := range clusters {
		win := lookup.Window{PayType: cluster[0].args.PayType, From: cluster[0].args.CreatedAt,
			To: cluster[len(cluster)-1].args.CreatedAt, Want: map[string]bool{}}
		for _, d := range cluster {
			win.Want[d.args.OrderNo] = true
			if d.args.PayType != win.PayType {
				win.PayType = ""
			}
		}
		found, pages, werr := lookup.Range(ctx, client, pace, win, lookup.MaxPages(len(cluster)))
		rp.done.Queries += pages
		if err := r.store(ctx, shop, cluster, found, werr == nil); err != nil {
			return err
		}
		if werr != nil && ctx.Err() != nil {
			return werr
		}
	}
	return nil
}

// store keeps the records found for the checks they are for. After a
// complete walk, an order it did not list is stored as "no record" (NULL):
// the bank has none yet.
func (r *Reconciler) store(ctx context.Context, shop string, cluster []due, found map[string]*sinopac.Order, complete bool) error {
	batch := &pgx.Batch{}
	for _, d := range cluster {
		var raw []byte
		if o := found[d.args.OrderNo]; o != nil {
			var err error
			if raw, err = json.Marshal(o); err != nil {
				return err
			}
		} else if !complete {
			continue // the walk stopped early: the order's own query decides
		}
		batch.Queue(`INSERT INTO `+qualify(r.schema, lookupTable)+` (shop_no, order_no, check_no, record, seen_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (shop_no, order_no) DO UPDATE SET check_no = excluded.check_no, record = excluded.record, seen_at = excluded.seen_at`,
			shop, d.args.OrderNo, d.check, raw)
	}
	if batch.Len() == 0 {
		return nil
	}
	if err := r.pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("riverpg: range lookup: store records: %w", err)
	}
	return nil
}
