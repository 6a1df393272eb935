// Package riverpg runs the reconciler of package reconcile on several
// processes sharing one PostgreSQL database, on the River job queue
// (github.com/riverqueue/river with riverpgxv5) instead of leases of its
// own.
//
// Every tracked order is one River job, unique by (ShopNo, OrderNo),
// inserted by TrackTx in the merchant's own transaction — the one that
// inserts the order — so that no order exists untracked and no order is
// tracked that was rolled back. A job's run is one check: it asks the bank
// (or takes the record a range lookup fetched for it), decides with
// reconcile.Policy, hands the Event to the Handler inside a transaction,
// and then either completes (a final event: in that same transaction,
// with JobCompleteTx) or snoozes until the next check of the schedule.
// A periodic job turns clusters of orders due soon into range walks, as
// the SQLite Reconciler's passes do. A process that dies mid-check leaves
// its jobs running until River's rescuer retries them (RescueStuckJobsAfter).
//
// # Delivery guarantee
//
// A Handler that writes through the transaction it is given applies every
// final event exactly once: the event and the job's completion commit
// together or not at all. A pending event (StillPending) commits before
// the job's snooze is recorded, so a crash between the two delivers it
// again, with the same Event.Key. A Handler that does not use the
// transaction (AtLeastOnce) gets every event at least once, with a stable
// Key, as with the SQLite backend.
//
// # Clocks and rate
//
// Replica clocks play no part: a check is decided at the database's clock
// (now() of PostgreSQL), snoozes are computed to end at the database time
// the schedule says, and each shop's requests are spaced by one row per
// shop advanced in one UPDATE at the database's clock, shared by all
// replicas (WithShopRate).
//
// # Observing
//
// The reconciler reports to the sinopac.Observer of each shop's client
// (sinopac.WithObserver; package otelqpay makes spans and metrics of it).
// River has no pass: every order is a job, run on whichever replica
// fetches it. So each check is reported as a pass of one order
// (ReconcileInfo.Check: its lookup, its event once committed, or its
// failure), counted where it commits, on every replica; and each run of
// the periodic job — the leader's, every WithRangeQueries interval —
// reports a pass per shop with orders tracked: its range walks and the
// shop's backlog (pending jobs, age of the oldest order), from one
// aggregate over River's job table. The backlog is measured by that one
// job only, so one process reports it. A check's calls and Handler run
// with the context its ReconcileStart returned.
//
// # Setup
//
// River's tables and this package's two are created by Migrate (or `qpay
// reconcile migrate --dsn …`), once per deploy, before New is used.
package riverpg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Handler receives each check's Event inside tx, an open transaction on the
// reconciler's database. Writing the merchant's order update (and the
// applied Event.Key) through tx makes the final event and the job's
// completion one commit. Returning an error rolls tx back: the order is
// checked and its event delivered again later. The Handler must not commit
// or roll back tx.
type Handler func(ctx context.Context, tx pgx.Tx, e reconcile.Event) error

// AtLeastOnce adapts a Handler that keeps its state elsewhere: it gets every
// event at least once, with a stable Event.Key.
func AtLeastOnce(h reconcile.Handler) Handler {
	return func(ctx context.Context, _ pgx.Tx, e reconcile.Event) error { return h(ctx, e) }
}

// The River queues of the reconciler's jobs: the orders' checks, and the
// periodic range lookup (a queue of its own, one worker, so that it never
// waits behind a backlog of checks).
const (
	Queue      = "qpay_reconcile"
	RangeQueue = "qpay_reconcile_range"
)

// Defaults of the options.
const (
	DefaultWorkers       = 10
	DefaultRangeInterval = time.Minute
	DefaultMaxWait       = 10 * time.Second
	// DefaultRetention is how long finished jobs (and so their outcomes,
	// given-up orders included) are kept.
	DefaultRetention = 30 * 24 * time.Hour
)

// Reconciler is the River-backed reconciler. It is safe for concurrent
// use. A process that only tracks orders (a web front end) calls New and
// TrackTx and never Start.
type Reconciler struct {
	pool    *pgxpool.Pool
	resolve reconcile.Resolver
	handle  Handler
	client  *river.Client[pgx.Tx]
	pace    *pacer

	policy     reconcile.Policy
	rangeMin   int
	rangeSpan  time.Duration
	rangeEvery time.Duration
	workers    int
	maxWait    time.Duration
	shopRate   float64
	schema     string
	log        *slog.Logger
	configure  []func(*river.Config)
}

// Option configures a Reconciler.
type Option func(*Reconciler) error

// WithSchedule sets the waits between checks (see reconcile.DefaultSchedule).
func WithSchedule(waits ...time.Duration) Option {
	return func(r *Reconciler) error {
		p, err := r.policy.WithWaits(waits...)
		if err == nil {
			r.policy = p
		}
		return err
	}
}

// WithGrace sets how long after ExpiresAt an order is still checked
// (default reconcile.DefaultGrace).
func WithGrace(d time.Duration) Option {
	return func(r *Reconciler) error {
		p, err := r.policy.WithGrace(d)
		if err == nil {
			r.policy = p
		}
		return err
	}
}

// WithRangeQueries sets when orders are looked up together: at least
// minOrders orders of one shop due within the next range interval and
// created within span are walked with one range query (defaults
// reconcile.DefaultRangeMin and reconcile.DefaultRangeSpan); every
// interval (default DefaultRangeInterval) the leader enqueues that
// lookup, which also measures each shop's backlog for its Observer (see
// Observing in the package documentation). minOrders 0 turns range
// queries off; the backlog is still measured every interval.
func WithRangeQueries(minOrders int, span, interval time.Duration) Option {
	return func(r *Reconciler) error {
		if minOrders < 0 || span <= 0 || interval <= 0 {
			return &sinopac.ValidationError{Field: "RangeQueries", Reason: "needs minOrders >= 0, a positive span and a positive interval"}
		}
		r.rangeMin, r.rangeSpan, r.rangeEvery = minOrders, span, interval
		return nil
	}
}

// WithShopRate bounds each shop's requests a second across all replicas
// (default reconcile.DefaultShopRate; an OrderQuery is two requests).
func WithShopRate(perSecond float64) Option {
	return func(r *Reconciler) error {
		if perSecond <= 0 {
			return &sinopac.ValidationError{Field: "ShopRate", Reason: "must be positive"}
		}
		r.shopRate = perSecond
		return nil
	}
}

// WithMaxWait sets how long a check waits for its shop's next request
// slot (default DefaultMaxWait); when the shop's backlog is longer, the
// job is snoozed until then instead, which counts as no check.
func WithMaxWait(d time.Duration) Option {
	return func(r *Reconciler) error {
		if d <= 0 {
			return &sinopac.ValidationError{Field: "MaxWait", Reason: "must be positive"}
		}
		r.maxWait = d
		return nil
	}
}

// WithWorkers sets how many checks this process runs at once (default
// DefaultWorkers).
func WithWorkers(n int) Option {
	return func(r *Reconciler) error {
		if n < 1 {
			return &sinopac.ValidationError{Field: "Workers", Reason: "must be at least 1"}
		}
		r.workers = n
		return nil
	}
}

// WithSchema puts River's tables and this package's in schema instead of
// the connection's search_path (Migrate must be given the same).
func WithSchema(schema string) Option {
	return func(r *Reconciler) error {
		if err := checkSchema(schema); err != nil {
			return err
		}
		r.schema = schema
		return nil
	}
}

// WithLogger passes l to River and logs failures of range lookups (never
// order contents). Without it the reconciler and River are silent.
func WithLogger(l *slog.Logger) Option {
	return func(r *Reconciler) error { r.log = l; return nil }
}

// WithRiverConfig lets f adjust River's configuration after this package
// has set it (JobTimeout 2 min, RescueStuckJobsAfter 10 min, the retry
// policy, retention …), e.g. to tune fetching or rescue for tests. Queues,
// Workers and PeriodicJobs are this package's: f must keep them.
func WithRiverConfig(f func(*river.Config)) Option {
	return func(r *Reconciler) error { r.configure = append(r.configure, f); return nil }
}

// New builds a Reconciler on pool (whose schema Migrate has prepared) that
// asks the bank through the clients resolve gives for each shop and
// delivers events to handle.
func New(pool *pgxpool.Pool, resolve reconcile.Resolver, handle Handler, opts ...Option) (*Reconciler, error) {
	switch {
	case pool == nil:
		return nil, &sinopac.ValidationError{Field: "Pool", Reason: "is nil"}
	case resolve == nil:
		return nil, &sinopac.ValidationError{Field: "Resolver", Reason: "is nil"}
	case handle == nil:
		return nil, &sinopac.ValidationError{Field: "Handler", Reason: "is nil"}
	}
	r := &Reconciler{pool: pool, resolve: resolve, handle: handle, policy: reconcile.DefaultPolicy(),
		rangeMin: reconcile.DefaultRangeMin, rangeSpan: reconcile.DefaultRangeSpan, rangeEvery: DefaultRangeInterval,
		workers: DefaultWorkers, maxWait: DefaultMaxWait, shopRate: reconcile.DefaultShopRate}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	r.pace = &pacer{pool: pool, table: qualify(r.schema, paceTable), interval: time.Duration(float64(time.Second) / r.shopRate)}
	logger := r.log
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &orderWorker{r: r})
	river.AddWorker(workers, &rangeWorker{r: r})
	cfg := &river.Config{
		Queues:  map[string]river.QueueConfig{Queue: {MaxWorkers: r.workers}, RangeQueue: {MaxWorkers: 1}},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(r.rangeEvery),
			func() (river.JobArgs, *river.InsertOpts) { return rangeArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})},
		Schema:                      r.schema,
		Logger:                      logger,
		JobTimeout:                  2 * time.Minute,
		RescueStuckJobsAfter:        10 * time.Minute,
		RetryPolicy:                 retryPolicy{},
		CompletedJobRetentionPeriod: DefaultRetention,
		CancelledJobRetentionPeriod: DefaultRetention,
		DiscardedJobRetentionPeriod: DefaultRetention,
	}
	for _, f := range r.configure {
		f(cfg)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("riverpg: %w", err)
	}
	r.client = client
	return r, nil
}

// River is the underlying River client (for subscriptions, job listing,
// or inserting jobs of the application's own).
func (r *Reconciler) River() *river.Client[pgx.Tx] { return r.client }

// Policy is the reconciler's decision logic (schedule and grace).
func (r *Reconciler) Policy() reconcile.Policy {
	return reconcile.Policy{Waits: slices.Clone(r.policy.Waits), Grace: r.policy.Grace}
}

// Start starts working the jobs (and, on the elected leader, the periodic
// range lookups and River's maintenance: scheduling, rescue, cleaning)
// until ctx ends or Stop is called.
func (r *Reconciler) Start(ctx context.Context) error {
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("riverpg: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs, waits for the checks under way (until ctx
// ends, when they are cancelled and left for a later run) and returns.
func (r *Reconciler) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = r.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	return err
}

// Track starts watching o in a transaction of its own. Prefer TrackTx
// inside the transaction that creates the order.
func (r *Reconciler) Track(ctx context.Context, o reconcile.PendingOrder) error {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("riverpg: track %s: %w", o.Key(), err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	if err := r.TrackTx(ctx, tx, o); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("riverpg: track %s: %w", o.Key(), err)
	}
	return nil
}

// TrackTx enqueues o's job inside tx: it exists once tx commits, and not
// at all if tx rolls back. Its first check is due at Policy.FirstCheck
// (at once, if that is past). Tracking an order already tracked — whose
// job is waiting, running, or finished within the retention — changes
// nothing.
func (r *Reconciler) TrackTx(ctx context.Context, tx pgx.Tx, o reconcile.PendingOrder) error {
	if err := o.Validate(); err != nil {
		return err
	}
	opts := &river.InsertOpts{ScheduledAt: r.policy.FirstCheck(o)}
	if _, err := r.client.InsertTx(ctx, tx, argsOf(o), opts); err != nil {
		return fmt.Errorf("riverpg: track %s: %w", o.Key(), err)
	}
	return nil
}

// retryPolicy spaces the retries of a failed check (bank or handler
// failure, a process that died): 2^attempt seconds, at most 5 minutes.
type retryPolicy struct{}

func (retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	wait := time.Duration(1<<min(job.Attempt, 9)) * time.Second
	return time.Now().Add(min(wait, 5*time.Minute))
}
