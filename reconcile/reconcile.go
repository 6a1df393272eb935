// Package reconcile finds out how pending QPay orders ended when the bank's
// notifications did not arrive (BackendURL down longer than the bank's five
// retries, a lost PayToken …): the last line of defence against lost
// orders (掉單).
//
// It has two backends, sharing one decision logic (Policy: which event a
// bank record means, when the next check is due, when to give up) and one
// way of asking the bank (an OrderNo query, or one range walk for orders
// created close together, paced per shop):
//
//   - Reconciler, in this package: one process, its state in a SQLite file
//     (OpenSQLite). Passes (Run, or the Start loop) claim the due orders,
//     ask the bank and hand each check's Event to the Handler.
//   - reconcile/riverpg: several processes sharing PostgreSQL, on the River
//     job queue: one job per order, enqueued in the merchant's own
//     transaction (TrackTx), the final event applied in the same
//     transaction as the job's completion.
//
// Both serve many shops: every PendingOrder names its ShopNo, and a
// Resolver — (*sinopac.ClientSet).Client has its shape — gives the client
// of each shop.
//
// # Delivery guarantee
//
// At least once, in this order: the bank is asked, the event is handed to
// the Handler, and only when the Handler returns nil is the store updated.
// A crash (or a store failure) between the Handler's return and the store
// write makes the next pass check the order again and deliver its event
// again — once more per such crash, never zero times. A repeated event has
// the same Event.Key, so the Handler makes delivery exactly-once by
// recording keys it has applied, ideally in the same transaction as its
// own order update. A Handler error leaves the order claimed until its
// lease ends; it is then checked again.
//
// # Leases
//
// A pass claims due orders with a lease (WithLease, default 5 min) before
// asking the bank, and extends the leases of its batch while it works on
// it: before each event it hands over, and every third of the lease in the
// background, so a slow Handler does not let another process (sharing the
// file) claim the same orders. Before handing over an event the pass
// checks that it still holds that order's lease; the claims of a process
// that died run out with the lease.
//
// # Rate
//
// The gateway answers HTTP 429 above about 5 requests a second per shop.
// A Reconciler spaces each shop's requests (every OrderQuery is two: Nonce
// and Order) to WithShopRate (default DefaultShopRate).
//
// # Observing
//
// A pass reports to the sinopac.Observer of each shop's client
// (sinopac.WithObserver; package otelqpay makes spans and metrics of it):
// ReconcileStart and ReconcileEnd once per shop and pass, for every shop
// whose orders it looked up or that has orders pending. Per shop, because
// each shop's client has an Observer of its own, and a ShopNo is a
// low-cardinality attribute (an OrderNo never is). The report holds the
// shop's checks, lookups, failures, events by kind and backlog: its
// pending orders and the age of the oldest, from one Store.Backlog
// aggregate per pass. The shop's calls and the Handler run with the
// context its ReconcileStart returned, so their spans are the pass's
// children. Summary carries the same counts for all shops together.
package reconcile

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/reconcile/internal/lookup"
	"golang.org/x/time/rate"
)

// Handler receives each check's Event. Returning an error means "not
// applied": the order is checked and its event delivered again later.
// Run calls it from one goroutine at a time.
type Handler func(ctx context.Context, e Event) error

// Defaults of the options.
const (
	DefaultLease     = 5 * time.Minute
	DefaultBatchSize = 200
	// DefaultShopRate is the default bound on a shop's requests a second
	// (the gateway's limit is about 5).
	DefaultShopRate = 4.0
	// DefaultRangeMin and DefaultRangeSpan: at least 3 due orders created
	// within 6 h of each other are looked up with one range walk.
	DefaultRangeMin  = 3
	DefaultRangeSpan = 6 * time.Hour
)

// Reconciler checks tracked orders with the bank. It is safe for
// concurrent use; several Reconcilers (processes) may share one store.
type Reconciler struct {
	resolve Resolver
	store   Store
	handle  Handler

	policy    Policy
	lease     time.Duration
	batch     int
	now       func() time.Time
	owner     string
	log       *slog.Logger
	rangeMin  int
	rangeSpan time.Duration
	report    func(Summary, error)
	shopRate  float64

	mu     sync.Mutex
	pacers map[string]*rate.Limiter
}

// Option configures a Reconciler.
type Option func(*Reconciler) error

// WithSchedule sets the waits between checks (see DefaultSchedule); the
// last one repeats until the order's expiry plus grace.
func WithSchedule(waits ...time.Duration) Option {
	return func(r *Reconciler) error {
		p, err := r.policy.WithWaits(waits...)
		if err == nil {
			r.policy = p
		}
		return err
	}
}

// WithGrace sets how long after an order's ExpiresAt it is still checked
// before GaveUp (default DefaultGrace).
func WithGrace(d time.Duration) Option {
	return func(r *Reconciler) error {
		p, err := r.policy.WithGrace(d)
		if err == nil {
			r.policy = p
		}
		return err
	}
}

// WithLease sets how long a claim holds without being extended (default
// DefaultLease); after a crash the orders are checked again once it has
// run out.
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
// DefaultBatchSize).
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
// minOrders due orders of one shop created within span are resolved with
// one range walk (QueryAllOrders) instead of one OrderNo query each
// (defaults DefaultRangeMin and DefaultRangeSpan). minOrders 0 turns range
// queries off.
func WithRangeQueries(minOrders int, span time.Duration) Option {
	return func(r *Reconciler) error {
		if minOrders < 0 || span <= 0 {
			return &sinopac.ValidationError{Field: "RangeQueries", Reason: "needs minOrders >= 0 and a positive span"}
		}
		r.rangeMin, r.rangeSpan = minOrders, span
		return nil
	}
}

// WithShopRate bounds each shop's requests to perSecond (default
// DefaultShopRate), in bursts of at most one query (two requests).
func WithShopRate(perSecond float64) Option {
	return func(r *Reconciler) error {
		if perSecond <= 0 {
			return &sinopac.ValidationError{Field: "ShopRate", Reason: "must be positive"}
		}
		r.shopRate = perSecond
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

// New returns a Reconciler that asks the bank through the clients resolve
// gives for each shop, keeps its state in store and delivers events to
// handle. For one shop, resolve is SingleShop(client); for many,
// clientSet.Client.
func New(resolve Resolver, store Store, handle Handler, opts ...Option) (*Reconciler, error) {
	switch {
	case resolve == nil:
		return nil, &sinopac.ValidationError{Field: "Resolver", Reason: "is nil"}
	case store == nil:
		return nil, &sinopac.ValidationError{Field: "Store", Reason: "is nil"}
	case handle == nil:
		return nil, &sinopac.ValidationError{Field: "Handler", Reason: "is nil"}
	}
	r := &Reconciler{resolve: resolve, store: store, handle: handle, policy: DefaultPolicy(),
		lease: DefaultLease, batch: DefaultBatchSize, now: time.Now, rangeMin: DefaultRangeMin,
		rangeSpan: DefaultRangeSpan, shopRate: DefaultShopRate, pacers: map[string]*rate.Limiter{}}
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

// Policy is the reconciler's decision logic (schedule and grace).
func (r *Reconciler) Policy() Policy {
	return Policy{Waits: slices.Clone(r.policy.Waits), Grace: r.policy.Grace}
}

// Track starts watching o. Its first check is due at Policy.FirstCheck
// (or at the next pass, if that is past). Tracking an order already
// tracked (same ShopNo and OrderNo) changes nothing.
func (r *Reconciler) Track(ctx context.Context, o PendingOrder) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return r.store.Add(ctx, o, r.policy.FirstCheck(o))
}

// Summary counts what a pass did.
type Summary struct {
	Checked int          // orders checked (events produced)
	Events  map[Kind]int // events accepted by the handler, by kind
	Queries int          // bank lookups: range pages plus single-order queries
	Failed  int          // orders left for later: lookup, handler or store failure
	// Pending and OldestPending are what is left after the pass: the
	// orders still tracked, and the age of the oldest (since CreatedAt).
	Pending       int
	OldestPending time.Duration
	Duration      time.Duration
}

// Run makes one pass: it claims the due orders batch by batch, looks them
// up at the bank, delivers the events and records the outcomes, until no
// order is due. It returns when done or when ctx ends (then with ctx's
// error, after releasing what it had claimed and not yet handled). Other
// failures (bank, handler, store) leave the orders concerned for a later
// pass and are returned joined; the rest of the pass goes on.
//
// Each shop's share of the pass (its lookups, events and backlog) is
// reported to the Observer of the shop's client (sinopac.WithObserver):
// every shop whose orders it looked up or that has orders pending.
func (r *Reconciler) Run(ctx context.Context) (Summary, error) {
	start := time.Now()
	p := newPass(ctx)
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
		errs = append(errs, r.process(ctx, batch, p)...)
		if len(batch) < r.batch {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	sum, err := r.finish(p, errs, start)
	if r.log != nil {
		lvl := slog.LevelDebug
		if err != nil {
			lvl = slog.LevelWarn
		}
		r.log.LogAttrs(ctx, lvl, "qpay reconcile pass", slog.Int("checked", sum.Checked), slog.Int("queries", sum.Queries),
			slog.Int("failed", sum.Failed), slog.Int("pending", sum.Pending), slog.Duration("oldest_pending", sum.OldestPending),
			slog.Duration("duration", sum.Duration), slog.Any("error", err))
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

// heartbeat extends the owner's leases every third of the lease until
// stop is called, so that a slow Handler keeps the batch claimed.
func (r *Reconciler) heartbeat(ctx context.Context, keys []OrderKey) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := r.store.Extend(ctx, r.owner, keys, r.now(), r.lease); err != nil && r.log != nil && ctx.Err() == nil {
					r.log.LogAttrs(ctx, slog.LevelWarn, "qpay reconcile lease heartbeat", slog.Any("error", err))
				}
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// process handles one claimed batch, counting and keeping each order's
// failure in its shop's share of p; it returns the failures of no one
// shop.
func (r *Reconciler) process(ctx context.Context, batch []Entry, p *pass) []error {
	slices.SortFunc(batch, func(a, b Entry) int {
		return cmp.Or(strings.Compare(a.ShopNo, b.ShopNo), strings.Compare(a.OrderNo, b.OrderNo))
	})
	keys := make([]OrderKey, len(batch))
	for i, e := range batch {
		keys[i] = e.Key()
	}
	stop := r.heartbeat(ctx, keys)
	defer stop()
	found, failed := r.lookup(ctx, p, batch)
	var errs []error
	var unhandled []OrderKey
	for i, e := range batch {
		if ctx.Err() != nil {
			for _, rest := range batch[i:] {
				unhandled = append(unhandled, rest.Key())
			}
			break
		}
		shop := p.shop(e.ShopNo)
		if failed[e.Key()] {
			shop.sum.Failed++ // its lease runs out; a later pass retries
			continue
		}
		// Extend the batch's leases and make sure this one is still ours:
		// never hand over an event of an order another pass may hold.
		now := r.now()
		held, err := r.store.Extend(context.WithoutCancel(ctx), r.owner, keys[i:], now, r.lease)
		if err != nil {
			shop.sum.Failed++
			shop.errs = append(shop.errs, err)
			continue
		}
		if !slices.Contains(held, e.Key()) {
			shop.sum.Failed++
			shop.errs = append(shop.errs, fmt.Errorf("reconcile: %s: %w", e.Key(), ErrLeaseLost))
			continue
		}
		ev := r.policy.Decide(e.PendingOrder, found[e.Key()], e.Attempts+1, now)
		shop.sum.Checked++
		if err := r.handle(shop.ctx, ev); err != nil {
			shop.sum.Failed++
			shop.errs = append(shop.errs, fmt.Errorf("reconcile: handler for %s: %w", ev.Key, err))
			continue
		}
		// The event is delivered; a crash before this write repeats it.
		if ev.Kind.Final() {
			err = r.store.Finish(context.WithoutCancel(ctx), r.owner, e.Key(), ev.Attempt, ev.Kind, now)
		} else {
			err = r.store.Reschedule(context.WithoutCancel(ctx), r.owner, e.Key(), ev.Attempt, ev.NextCheck)
		}
		if err != nil {
			shop.sum.Failed++
			shop.errs = append(shop.errs, err)
			continue
		}
		shop.sum.Events[ev.Kind]++
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

// pace returns the request pacer of shopNo.
func (r *Reconciler) pace(shopNo string) lookup.Pace {
	r.mu.Lock()
	l, ok := r.pacers[shopNo]
	if !ok {
		l = rate.NewLimiter(rate.Limit(r.shopRate), lookup.RequestsPerQuery)
		r.pacers[shopNo] = l
	}
	r.mu.Unlock()
	return func(ctx context.Context, n int) error { return l.WaitN(ctx, n) }
}

// lookup asks the bank about the batch, each shop's orders with its own
// client and pacing, the shops concurrently. found holds the bank's record
// per order (absent: the bank has none); failed lists orders whose lookup
// failed. Queries and failures are counted in each shop's share of p.
func (r *Reconciler) lookup(ctx context.Context, p *pass, batch []Entry) (found map[OrderKey]*sinopac.Order, failed map[OrderKey]bool) {
	byShop := map[string][]Entry{}
	for _, e := range batch {
		byShop[e.ShopNo] = append(byShop[e.ShopNo], e)
	}
	found, failed = map[OrderKey]*sinopac.Order{}, map[OrderKey]bool{}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, 4)
	)
	for shop, entries := range byShop {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			share := p.shop(shop)
			f, fl, q, err := r.lookupShop(ctx, p, shop, entries)
			share.sum.Queries += q
			if err != nil {
				share.errs = append(share.errs, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for no, o := range f {
				found[OrderKey{shop, no}] = o
			}
			for no := range fl {
				failed[OrderKey{shop, no}] = true
			}
		})
	}
	wg.Wait()
	return found, failed
}

// lookupShop looks up one shop's entries: clusters with a range walk, the
// rest (and whatever a walk missed) with one OrderNo query each. The
// calls run with the context of the shop's share of p.
func (r *Reconciler) lookupShop(ctx context.Context, p *pass, shop string, entries []Entry) (found map[string]*sinopac.Order, failed map[string]bool, queries int, err error) {
	found, failed = map[string]*sinopac.Order{}, map[string]bool{}
	client, err := r.resolve(ctx, shop)
	if err != nil {
		for _, e := range entries {
			failed[e.OrderNo] = true
		}
		return found, failed, 0, fmt.Errorf("reconcile: shop %s: %w", shop, err)
	}
	ctx = p.observe(shop, client)
	pace := r.pace(shop)
	var errs []error
	clusters, singles := lookup.Clusters(entries, func(e Entry) time.Time { return e.CreatedAt }, r.rangeMin, r.rangeSpan)
	for _, cluster := range clusters {
		w := lookup.Window{PayType: cluster[0].PayType, From: cluster[0].CreatedAt, To: cluster[len(cluster)-1].CreatedAt, Want: map[string]bool{}}
		for _, e := range cluster {
			w.Want[e.OrderNo] = true
			if e.PayType != w.PayType {
				w.PayType = ""
			}
		}
		listed, pages, werr := lookup.Range(ctx, client, pace, w, lookup.MaxPages(len(cluster)))
		queries += pages
		if werr != nil && ctx.Err() != nil {
			errs = append(errs, werr)
		}
		for _, e := range cluster {
			if o := listed[e.OrderNo]; o != nil {
				found[e.OrderNo] = o
			} else {
				// Not listed (the walk stopped early, or the bank has
				// none): the OrderNo query decides.
				singles = append(singles, e)
			}
		}
	}
	for _, e := range singles {
		if ctx.Err() != nil {
			failed[e.OrderNo] = true
			continue
		}
		o, qerr := lookup.Order(ctx, client, pace, e.OrderNo)
		queries++
		if qerr != nil {
			failed[e.OrderNo] = true
			errs = append(errs, qerr)
			continue
		}
		if o != nil {
			found[e.OrderNo] = o
		}
	}
	return found, failed, queries, errors.Join(errs...)
}
