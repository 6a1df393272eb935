// Package reconcile finds out how pending QPay orders ended when the bank's
// notifications did not arrive (BackendURL down longer than the bank's five
// retries, a lost PayToken …): the last line of defence against lost
// orders (掉單).
//
// A Reconciler keeps the orders it is told about (Track) in a durable Store
// — SQLite for one process (OpenSQLite), PostgreSQL for several replicas
// (OpenPostgres) — and on each pass (Run, or the Start loop) asks the bank
// about those due for a check, following a backoff schedule until the order
// is resolved or its expiry plus a grace period has passed. Each check ends
// in one Event for the merchant's Handler.
//
// # Delivery guarantee
//
// At least once, in this order: the bank is asked, the event is handed to
// the Handler, and only when the Handler returns nil is the store updated.
// A crash (or a store failure) between the Handler's return and the store
// write makes the next pass check the order again and deliver its event
// again — once more per such crash, never zero times. A repeated event has
// the same Event.Key (final events: "OrderNo/kind"), so the Handler makes
// delivery exactly-once by recording keys it has applied, ideally in the
// same transaction as its own order update. A Handler error leaves the
// order claimed until its lease ends; it is then checked again.
//
// # Replicas
//
// A pass claims due orders with a lease (WithLease, default 5 min) before
// asking the bank; replicas sharing a PostgreSQL store never claim the same
// order at the same time (FOR UPDATE SKIP LOCKED), and the claims of a
// replica that died run out with the lease. A pass that takes longer than
// the lease may see its writes refused (ErrLeaseLost) while another replica
// checks the order: keep the lease well above a pass's duration.
package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
)

// Handler receives each check's Event. Returning an error means "not
// applied": the order is checked and its event delivered again later.
// Run calls it from one goroutine at a time.
type Handler func(ctx context.Context, e Event) error

// DefaultSchedule is the wait before each check of an order still pending:
// the first check 10 minutes after creation, then 30 min, 1 h, 3 h and 6 h
// after the previous one, then every 12 h (the last value repeats).
var DefaultSchedule = []time.Duration{10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour}

// Defaults of the options.
const (
	DefaultGrace     = 24 * time.Hour
	DefaultLease     = 5 * time.Minute
	DefaultBatchSize = 200
)

// Reconciler checks tracked orders with the bank. It is safe for
// concurrent use; several Reconcilers (processes) may share one store.
type Reconciler struct {
	client *sinopac.Client
	store  Store
	handle Handler

	schedule  []time.Duration
	grace     time.Duration
	lease     time.Duration
	batch     int
	now       func() time.Time
	owner     string
	log       *slog.Logger
	rangeMin  int
	rangeSpan time.Duration
	report    func(Summary, error)
}

// Option configures a Reconciler.
type Option func(*Reconciler) error

// WithSchedule sets the waits between checks (see DefaultSchedule); the
// last one repeats until the order's expiry plus grace.
func WithSchedule(waits ...time.Duration) Option {
	return func(r *Reconciler) error {
		if len(waits) == 0 || slices.ContainsFunc(waits, func(d time.Duration) bool { return d <= 0 }) {
			return &sinopac.ValidationError{Field: "Schedule", Reason: "needs at least one positive wait"}
		}
		r.schedule = slices.Clone(waits)
		return nil
	}
}

// WithGrace sets how long after an order's ExpiresAt it is still checked
// before GaveUp (default DefaultGrace: the bank's records can lag, and an
// ATM transfer made just before the deadline is booked later).
func WithGrace(d time.Duration) Option {
	return func(r *Reconciler) error {
		if d < 0 {
			return &sinopac.ValidationError{Field: "Grace", Reason: "must not be negative"}
		}
		r.grace = d
		return nil
	}
}

// WithLease sets how long a pass holds the orders it claimed (default
// DefaultLease); after a crash they are checked again once it has run out.
func WithLease(d time.Duration) Option {
	return func(r *Reconciler) error {
		if d < time.Second {
			return &sinopac.ValidationError{Field: "Lease", Reason: "must be at least a second"}
		}
		r.lease = d
		return nil
	}
}

// WithBatchSize sets how many orders a pass claims at a time (default
// DefaultBatchSize). Smaller batches share work more evenly among replicas.
func WithBatchSize(n int) Option {
	return func(r *Reconciler) error {
		if n < 1 {
			return &sinopac.ValidationError{Field: "BatchSize", Reason: "must be at least 1"}
		}
		r.batch = n
		return nil
	}
}

// WithClock replaces time.Now (tests, simulations).
func WithClock(now func() time.Time) Option {
	return func(r *Reconciler) error {
		if now == nil {
			return &sinopac.ValidationError{Field: "Clock", Reason: "is nil"}
		}
		r.now = now
		return nil
	}
}

// WithOwner names this reconciler in lease columns (default: host name,
// process id and a random suffix). Two live reconcilers must not share one.
func WithOwner(id string) Option {
	return func(r *Reconciler) error {
		if id == "" {
			return &sinopac.ValidationError{Field: "Owner", Reason: "is empty"}
		}
		r.owner = id
		return nil
	}
}

// WithRangeQueries sets when orders are looked up together: at least
// minOrders due orders created within span are resolved with one range
// query (QueryAllOrders) instead of one OrderNo query each (defaults 3 and
// 6 h). minOrders 0 turns range queries off.
func WithRangeQueries(minOrders int, span time.Duration) Option {
	return func(r *Reconciler) error {
		if minOrders < 0 || span <= 0 {
			return &sinopac.ValidationError{Field: "RangeQueries", Reason: "needs minOrders >= 0 and a positive span"}
		}
		r.rangeMin, r.rangeSpan = minOrders, span
		return nil
	}
}

// WithLogger logs passes (counts and errors, never order contents) at Debug
// and failures at Warn. Without it the reconciler is silent.
func WithLogger(l *slog.Logger) Option {
	return func(r *Reconciler) error { r.log = l; return nil }
}

// WithReport calls f after every pass of Start with the pass's summary and
// error.
func WithReport(f func(Summary, error)) Option {
	return func(r *Reconciler) error { r.report = f; return nil }
}

// New returns a Reconciler that asks the bank through client, keeps its
// state in store and delivers events to handle.
func New(client *sinopac.Client, store Store, handle Handler, opts ...Option) (*Reconciler, error) {
	switch {
	case client == nil:
		return nil, &sinopac.ValidationError{Field: "Client", Reason: "is nil"}
	case store == nil:
		return nil, &sinopac.ValidationError{Field: "Store", Reason: "is nil"}
	case handle == nil:
		return nil, &sinopac.ValidationError{Field: "Handler", Reason: "is nil"}
	}
	r := &Reconciler{client: client, store: store, handle: handle, schedule: DefaultSchedule,
		grace: DefaultGrace, lease: DefaultLease, batch: DefaultBatchSize, now: time.Now,
		rangeMin: 3, rangeSpan: 6 * time.Hour}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	if r.owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		r.owner = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	return r, nil
}

// Track starts watching o. Its first check is due at CreatedAt plus the
// first wait of the schedule (or at the next pass, if that is past).
// Tracking an OrderNo already tracked changes nothing.
func (r *Reconciler) Track(ctx context.Context, o PendingOrder) error {
	switch {
	case o.OrderNo == "" || len(o.OrderNo) > 50:
		return &sinopac.ValidationError{Field: "OrderNo", Reason: "must be 1 to 50 bytes"}
	case o.CreatedAt.IsZero():
		return &sinopac.ValidationError{Field: "CreatedAt", Reason: "is required"}
	case o.ExpiresAt.Before(o.CreatedAt):
		return &sinopac.ValidationError{Field: "ExpiresAt", Reason: "is required and must not be before CreatedAt"}
	}
	switch o.PayType {
	case "", sinopac.PayTypeATM, sinopac.PayTypeCard, sinopac.PayTypeMobile, sinopac.PayTypeCardTrust:
	default:
		return &sinopac.ValidationError{Field: "PayType", Reason: "must be A, C, M or P (OrderQuery does not list wallet orders)"}
	}
	return r.store.Add(ctx, o, o.CreatedAt.Add(r.schedule[0]))
}

// Summary counts what a pass did.
type Summary struct {
	Checked  int          // orders checked (events produced)
	Events   map[Kind]int // events accepted by the handler, by kind
	Queries  int          // bank lookups: range walks plus single-order queries
	Failed   int          // orders left for later: lookup, handler or store failure
	Duration time.Duration
}

// Run makes one pass: it claims the due orders batch by batch, looks them
// up at the bank, delivers the events and records the outcomes, until no
// order is due. It returns when done or when ctx ends (then with ctx's
// error, after releasing what it had claimed and not yet handled). Other
// failures (bank, handler, store) leave the orders concerned for a later
// pass and are returned joined; the rest of the pass goes on.
func (r *Reconciler) Run(ctx context.Context) (Summary, error) {
	start := time.Now()
	sum := Summary{Events: map[Kind]int{}}
	var errs []error
	for ctx.Err() == nil {
		batch, err := r.store.Claim(ctx, r.owner, r.now(), r.lease, r.batch)
		if err != nil {
			errs = append(errs, err)
			break
		}
		if len(batch) == 0 {
			break
		}
		errs = append(errs, r.process(ctx, batch, &sum)...)
		if len(batch) < r.batch {
			break
		}
	}
	sum.Duration = time.Since(start)
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	if r.log != nil {
		lvl := slog.LevelDebug
		if err != nil {
			lvl = slog.LevelWarn
		}
		r.log.LogAttrs(ctx, lvl, "qpay reconcile pass", slog.Int("checked", sum.Checked), slog.Int("queries", sum.Queries),
			slog.Int("failed", sum.Failed), slog.Duration("duration", sum.Duration), slog.Any("error", err))
	}
	return sum, err
}

// Start runs a pass now and then every interval until ctx ends; it returns
// nil then. A failed pass does not stop the loop (see WithReport and
// WithLogger to observe it).
func (r *Reconciler) Start(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return &sinopac.ValidationError{Field: "interval", Reason: "must be positive"}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		sum, err := r.Run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if r.report != nil {
			r.report(sum, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// process handles one claimed batch.
func (r *Reconciler) process(ctx context.Context, batch []Entry, sum *Summary) []error {
	found, failed, queries, lookupErr := r.lookup(ctx, batch)
	sum.Queries += queries
	var errs []error
	if lookupErr != nil {
		errs = append(errs, lookupErr)
	}
	slices.SortFunc(batch, func(a, b Entry) int { return strings.Compare(a.OrderNo, b.OrderNo) })
	var unhandled []string
	for i, e := range batch {
		if ctx.Err() != nil {
			for _, rest := range batch[i:] {
				unhandled = append(unhandled, rest.OrderNo)
			}
			break
		}
		if failed[e.OrderNo] {
			sum.Failed++ // its lease runs out; a later pass retries
			continue
		}
		now := r.now()
		ev := eventFor(e, found[e.OrderNo], e.Attempts+1, now)
		deadline := e.ExpiresAt.Add(r.grace)
		if ev.Kind == StillPending {
			if !now.Before(deadline) {
				ev.Kind = GaveUp
				ev.Reason = fmt.Sprintf("still unresolved %s after expiry (%s)", r.grace, ev.Reason)
			} else {
				ev.NextCheck = now.Add(r.schedule[min(ev.Attempt, len(r.schedule)-1)])
				if ev.NextCheck.After(deadline) {
					ev.NextCheck = deadline // one last look at the deadline
				}
			}
		}
		ev.setKey()
		sum.Checked++
		if err := r.handle(ctx, ev); err != nil {
			sum.Failed++
			errs = append(errs, fmt.Errorf("reconcile: handler for %s: %w", ev.Key, err))
			continue
		}
		// The event is delivered; a crash before this write repeats it.
		var err error
		if ev.Kind.Final() {
			err = r.store.Finish(context.WithoutCancel(ctx), r.owner, e.OrderNo, ev.Attempt, ev.Kind, now)
		} else {
			err = r.store.Reschedule(context.WithoutCancel(ctx), r.owner, e.OrderNo, ev.Attempt, ev.NextCheck)
		}
		if err != nil {
			sum.Failed++
			errs = append(errs, err)
			continue
		}
		sum.Events[ev.Kind]++
	}
	if len(unhandled) > 0 {
		// Stopping cleanly: let another pass take them at once.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := r.store.Release(rctx, r.owner, unhandled); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// rangePad widens a range query around the tracked creation times: the
// bank's TSDate is stamped when it receives OrderCreate.
const rangePad = 10 * time.Minute

// lookup asks the bank about the batch: clusters of orders created close
// together with one range walk, the rest (and whatever a walk missed) one
// OrderNo query each. found holds the bank's record per OrderNo (absent:
// the bank has none); failed lists orders whose lookup failed.
func (r *Reconciler) lookup(ctx context.Context, batch []Entry) (found map[string]*sinopac.Order, failed map[string]bool, queries int, err error) {
	found, failed = map[string]*sinopac.Order{}, map[string]bool{}
	byTime := slices.Clone(batch)
	slices.SortFunc(byTime, func(a, b Entry) int { return a.CreatedAt.Compare(b.CreatedAt) })
	var errs []error
	var singles []Entry
	for i := 0; i < len(byTime); {
		j := i + 1
		for j < len(byTime) && byTime[j].CreatedAt.Sub(byTime[i].CreatedAt) <= r.rangeSpan {
			j++
		}
		cluster := byTime[i:j]
		i = j
		if r.rangeMin == 0 || len(cluster) < r.rangeMin {
			singles = append(singles, cluster...)
			continue
		}
		want := map[string]bool{}
		pt := cluster[0].PayType
		for _, e := range cluster {
			want[e.OrderNo] = true
			if e.PayType != pt {
				pt = ""
			}
		}
		q := sinopac.QueryConditions{PayType: pt,
			OrderDateTimeS: cluster[0].CreatedAt.Add(-rangePad), OrderDateTimeE: cluster[len(cluster)-1].CreatedAt.Add(rangePad)}
		// The walk may cost at most half of what single queries would; what
		// it has not found by then is looked up singly.
		pages := 0
		orders, werr := r.client.QueryAllOrders(ctx, q, sinopac.WithMaxPages(max(1, len(cluster)/2)),
			sinopac.WithProgress(func(p sinopac.Progress) { pages = p.Pages }))
		queries += pages
		if werr != nil && ctx.Err() != nil {
			errs = append(errs, werr)
		}
		for k := range orders {
			if o := &orders[k]; want[o.OrderNo] {
				found[o.OrderNo] = pickLatest(found[o.OrderNo], o)
			}
		}
		for _, e := range cluster {
			if found[e.OrderNo] == nil {
				singles = append(singles, e)
			}
		}
	}
	for _, e := range singles {
		if ctx.Err() != nil {
			failed[e.OrderNo] = true
			continue
		}
		resp, qerr := r.client.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: e.OrderNo})
		queries++
		if qerr != nil {
			failed[e.OrderNo] = true
			errs = append(errs, fmt.Errorf("reconcile: look up %s: %w", e.OrderNo, qerr))
			continue
		}
		for k := range resp.OrderList {
			found[e.OrderNo] = pickLatest(found[e.OrderNo], &resp.OrderList[k])
		}
	}
	return found, failed, queries, errors.Join(errs...)
}

// pickLatest keeps the most recent of an OrderNo's transactions.
func pickLatest(have, o *sinopac.Order) *sinopac.Order {
	if have == nil || o.TSDate.Time().After(have.TSDate.Time()) {
		c := *o
		return &c
	}
	return have
}
