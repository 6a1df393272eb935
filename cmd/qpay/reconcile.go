package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/funbiz-go/sinopac/reconcile/riverpg"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"
)

// storeFlags name the reconciler's state: a SQLite file (one machine) or
// a PostgreSQL database run with River (several).
type storeFlags struct {
	db, dsn, schema string
}

func (a *app) reconcileCommand() *cobra.Command {
	var st storeFlags
	var once bool
	cmd := &cobra.Command{
		Use:   "reconcile (--db FILE | --dsn URL)",
		Short: "Check the pending orders with the bank and print each check's event",
		Long: `Check the orders your application tracks (package reconcile) with the bank and
print each check's event as it is delivered: paid, authorized, expired,
refunded, cancelled, pending (with the next check) or gave_up.

With --db FILE (SQLite, one machine) it makes one pass over the orders due for
a check: one range query for orders created close together, single queries
for the rest. Schedule it with cron, e.g. every 10 minutes.

With --dsn URL (PostgreSQL, several machines) it is one more River worker
beside your application's: it works the due checks until interrupted, or with
--once until none is due. Run 'qpay reconcile migrate --dsn URL' once first.

A run changes the store: resolved orders leave the pending set, pending ones
are rescheduled. -o jsonl writes one event per line as it comes; -o csv writes
its header only when the output is not a file that already has content, so
'>> reconcile.csv' from cron makes one CSV.`,
		Example: `  qpay reconcile track --db pending.db --order-no A202110507397 --created 2021-10-01T22:43 --expires 2021-10-11
  qpay reconcile --db pending.db
  qpay reconcile list --db pending.db -o json
  */10 * * * *  qpay reconcile --db /var/lib/shop/pending.db -o csv >> reconcile.csv
  qpay reconcile migrate --dsn postgres://shop@db/shop
  qpay reconcile --dsn postgres://shop@db/shop -o jsonl`,
		Args:              cobra.NoArgs,
		PersistentPreRunE: a.reconcilePreRun,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withReconciler(cmd.Context(), st, needClient, func(b backend) error {
				return a.reconcileRun(cmd.Context(), b, once)
			})
		},
		PreRunE: a.needCredentials, // no demo run without --demo
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&st.db, "db", "", "SQLite file holding the pending orders (one machine)")
	pf.StringVar(&st.dsn, "dsn", "", "PostgreSQL URL of the River-backed store (several machines)")
	pf.StringVar(&st.schema, "schema", "", "PostgreSQL schema of the tables (default: the connection's search_path)")
	cmd.Flags().BoolVar(&once, "once", false, "with --dsn: stop when no check is due instead of at an interrupt")
	cmd.AddCommand(a.trackCommand(&st), a.listCommand(&st), a.migrateCommand(&st))
	return cmd
}

// reconcilePreRun is the root's flag check, which knows table, json and
// csv, plus -o jsonl (the reconcile commands stream events as JSON lines).
func (a *app) reconcilePreRun(cmd *cobra.Command, args []string) error {
	jsonl := a.output == "jsonl"
	if jsonl {
		a.output = "json"
	}
	err := cmd.Root().PersistentPreRunE(cmd, args)
	if jsonl {
		a.output = "jsonl"
	}
	return err
}

// What a reconcile command needs besides the store.
type need int

const (
	needStore  need = iota // list, migrate: no bank calls
	needClient             // a run: the shop's client
	needCreate             // track: the client's shop; a new SQLite file is made
)

// backend is the reconciler behind --db or --dsn.
type backend interface {
	where() string // for messages: "pending.db", "PostgreSQL"
	track(ctx context.Context, o reconcile.PendingOrder) (next time.Time, err error)
	list(ctx context.Context) ([]reconcile.Entry, time.Time, error) // and the store's clock
	run(ctx context.Context, handle reconcile.Handler, once bool) (reconcile.Summary, error)
}

// withReconciler is the one setup of every reconcile command: it opens the
// store named by st and, where n asks for it, the shop's client, builds
// the backend, runs fn, and closes everything.
func (a *app) withReconciler(ctx context.Context, st storeFlags, n need, fn func(backend) error) error {
	switch {
	case st.db != "" && st.dsn != "":
		return usagef("--db and --dsn name two stores: give one")
	case st.db == "" && st.dsn == "":
		return usagef("--db FILE (SQLite) or --dsn URL (PostgreSQL) is required: the store of pending orders")
	case st.schema != "" && st.dsn == "":
		return usagef("--schema is for --dsn")
	}
	resolve := reconcile.Resolver(func(context.Context, string) (*sinopac.Client, error) { return nil, sinopac.ErrUnknownShop })
	shopNo := ""
	if n != needStore {
		// The place for a check that refuses real work without
		// credentials unless --demo: every command that asks the bank
		// (a run, track) passes here.
		c, done, err := a.connect()
		if err != nil {
			return err
		}
		defer done()
		resolve, shopNo = reconcile.SingleShop(c), c.ShopNo()
	}
	if st.db != "" {
		store, err := openStore(st.db, n == needCreate)
		if err != nil {
			return err
		}
		defer store.Close()
		return fn(&sqliteBackend{path: st.db, store: store, resolve: resolve, shopNo: shopNo})
	}
	pool, err := pgxpool.New(ctx, st.dsn)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return fmt.Errorf("cannot connect to PostgreSQL (--dsn): %s", strings.TrimPrefix(err.Error(), "failed to connect to "))
	}
	defer pool.Close()
	return fn(&riverBackend{pool: pool, schema: st.schema, resolve: resolve, shopNo: shopNo})
}

// openStore opens the SQLite store. A run refuses a file that does not
// exist: a mistyped path would otherwise make an empty store and report
// that nothing is pending.
func openStore(path string, create bool) (*reconcile.SQLiteStore, error) {
	if !create {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("--db %s does not exist: it is created by your application (reconcile.OpenSQLite) or by 'qpay reconcile track --db %s …'", path, path)
		}
	}
	s, err := reconcile.OpenSQLite(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open the store %s: %w", path, err)
	}
	return s, nil
}

// sqliteBackend is the SQLite Reconciler: a run is one pass.
type sqliteBackend struct {
	path    string
	store   *reconcile.SQLiteStore
	resolve reconcile.Resolver
	shopNo  string
}

func (b *sqliteBackend) where() string { return b.path }

func (b *sqliteBackend) reconciler(h reconcile.Handler) (*reconcile.Reconciler, error) {
	return reconcile.New(b.resolve, b.store, h)
}

func (b *sqliteBackend) track(ctx context.Context, o reconcile.PendingOrder) (time.Time, error) {
	r, err := b.reconciler(func(context.Context, reconcile.Event) error { return nil })
	if err != nil {
		return time.Time{}, err
	}
	if err := r.Track(ctx, o); err != nil {
		return time.Time{}, err
	}
	e, err := b.store.Get(ctx, o.Key())
	return e.NextCheck, err
}

func (b *sqliteBackend) list(ctx context.Context) ([]reconcile.Entry, time.Time, error) {
	es, err := b.store.List(ctx, false)
	return es, time.Now(), err
}

func (b *sqliteBackend) run(ctx context.Context, h reconcile.Handler, _ bool) (reconcile.Summary, error) {
	r, err := b.reconciler(h)
	if err != nil {
		return reconcile.Summary{}, err
	}
	return r.Run(ctx)
}

// riverBackend is the River reconciler on PostgreSQL.
type riverBackend struct {
	pool    *pgxpool.Pool
	schema  string
	resolve reconcile.Resolver
	shopNo  string
}

func (b *riverBackend) where() string { return "PostgreSQL" }

func (b *riverBackend) reconciler(h riverpg.Handler, opts ...riverpg.Option) (*riverpg.Reconciler, error) {
	if b.schema != "" {
		opts = append(opts, riverpg.WithSchema(b.schema))
	}
	return riverpg.New(b.pool, b.resolve, h, opts...)
}

func (b *riverBackend) track(ctx context.Context, o reconcile.PendingOrder) (time.Time, error) {
	r, err := b.reconciler(riverpg.AtLeastOnce(func(context.Context, reconcile.Event) error { return nil }))
	if err != nil {
		return time.Time{}, err
	}
	if err := r.Track(ctx, o); err != nil {
		return time.Time{}, err
	}
	return r.Policy().FirstCheck(o), nil
}

func (b *riverBackend) list(ctx context.Context) ([]reconcile.Entry, time.Time, error) {
	r, err := b.reconciler(riverpg.AtLeastOnce(func(context.Context, reconcile.Event) error { return nil }))
	if err != nil {
		return nil, time.Time{}, err
	}
	es, err := r.List(ctx, false)
	if err != nil {
		return nil, time.Time{}, err
	}
	now, err := b.now(ctx)
	return es, now, err
}

// now is the database's clock, the one River's schedule follows.
func (b *riverBackend) now(ctx context.Context) (time.Time, error) {
	var now time.Time
	err := b.pool.QueryRow(ctx, `SELECT now()`).Scan(&now)
	return now, err
}

func (b *riverBackend) run(ctx context.Context, h reconcile.Handler, once bool) (reconcile.Summary, error) {
	start := time.Now()
	sum := reconcile.Summary{Events: map[reconcile.Kind]int{}}
	var (
		mu      sync.Mutex
		lastErr error
	)
	// River calls the handler from several workers; the output is one.
	handle := func(ctx context.Context, _ pgx.Tx, e reconcile.Event) error {
		mu.Lock()
		defer mu.Unlock()
		sum.Checked++
		if err := h(ctx, e); err != nil {
			return err
		}
		sum.Events[e.Kind]++
		return nil
	}
	r, err := b.reconciler(handle)
	if err != nil {
		return sum, err
	}
	failed, cancelSub := r.River().Subscribe(river.EventKindJobFailed)
	defer cancelSub()
	var wg sync.WaitGroup
	wg.Go(func() {
		for ev := range failed {
			if ev.Job.Kind != riverpg.OrderKind || len(ev.Job.Errors) == 0 {
				continue
			}
			mu.Lock()
			sum.Failed++
			lastErr = errors.New(ev.Job.Errors[len(ev.Job.Errors)-1].Error)
			mu.Unlock()
		}
	})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if err := r.Start(runCtx); err != nil {
		return sum, err
	}
	if once {
		err = b.waitIdle(runCtx, r)
	} else {
		<-runCtx.Done()
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if serr := r.Stop(stopCtx); serr != nil && err == nil {
		err = serr
	}
	cancelSub()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	sum.Duration = time.Since(start)
	if err == nil && lastErr != nil {
		err = fmt.Errorf("%s failed, the last: %w", plural(sum.Failed, "check"), lastErr)
	}
	if errors.Is(err, context.Canceled) && !once {
		err = nil // interrupted: the normal end of a worker
	}
	return sum, err
}

// waitIdle returns once no order's check is due or running (for two polls
// in a row: a check that just finished may have rescheduled at once).
func (b *riverBackend) waitIdle(ctx context.Context, r *riverpg.Reconciler) error {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	idle := 0
	for idle < 2 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		es, err := r.List(ctx, true)
		if err != nil {
			return err
		}
		now, err := b.now(ctx)
		if err != nil {
			return err
		}
		idle++
		for _, e := range es {
			if !e.NextCheck.After(now) {
				idle = 0
				break
			}
		}
	}
	return nil
}

// csvHeaderWanted says whether a CSV header belongs at the top of stdout:
// not when stdout is a file that already has content (cron appending with
// >> makes one CSV, one header).
func (a *app) csvHeaderWanted() bool {
	f, ok := a.stdout.(*os.File)
	if !ok {
		return true
	}
	fi, err := f.Stat()
	return err != nil || !fi.Mode().IsRegular() || fi.Size() == 0
}

// reconcileRun runs the backend and prints each event as the handler gets
// it (table, CSV and JSON lines stream; JSON is one document at the end).
// An event is accepted only once it is written, so a failed write makes a
// later check deliver it again.
func (a *app) reconcileRun(ctx context.Context, b backend, once bool) error {
	view := &eventsView{Events: []eventJSON{}}
	var cw *csv.Writer
	if a.output == "csv" {
		cw = csv.NewWriter(a.stdout)
		if a.csvHeaderWanted() {
			_ = cw.Write(eventCSVHeader)
		}
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetEscapeHTML(false)
	handle := func(_ context.Context, e reconcile.Event) error {
		j := newEventJSON(e)
		switch a.output {
		case "table":
			if _, err := fmt.Fprintln(a.stdout, e.String()); err != nil {
				return err
			}
		case "csv":
			_ = cw.Write(j.csvRow())
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		case "jsonl":
			if err := enc.Encode(j); err != nil {
				return err
			}
		case "json":
			view.Events = append(view.Events, j)
		}
		return nil
	}
	sum, runErr := b.run(ctx, handle, once)
	if cw != nil {
		cw.Flush() // the header, when no event came
	}
	view.Summary = newSummaryJSON(sum)
	switch a.output {
	case "json":
		if err := a.writeJSON(view); err != nil {
			return err
		}
	case "table":
		fmt.Fprintln(a.stdout, view.Summary.line())
	case "jsonl":
		fmt.Fprintln(a.stderr, "qpay: "+view.Summary.line())
	}
	if runErr != nil {
		return fmt.Errorf("the run left %s for later: %w", plural(sum.Failed, "order"), runErr)
	}
	return nil
}

func (a *app) trackCommand(st *storeFlags) *cobra.Command {
	var orderNo, payType, amount, created, expires string
	var checkNow bool
	cmd := &cobra.Command{
		Use:   "track (--db FILE | --dsn URL) --order-no NO --created WHEN --expires WHEN",
		Short: "Add an order to the reconciler's pending set (creating a SQLite store if needed)",
		Long: `Add an order of the shop (QPAY_SHOP_NO, or --shop-no) to the pending set, as
reconcile.Track and riverpg's Track do: its first check is due 10 minutes
after --created, or at once with --check-now (an order found paid elsewhere,
e.g. in the bank's statement, whose event your application missed).
Tracking an order already tracked changes nothing. Times are Taipei:
2026-10-01T14:30, or a date (--created: its 00:00, --expires: its 23:59).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := reconcile.PendingOrder{OrderNo: strings.TrimSpace(orderNo), PayType: sinopac.PayType(strings.ToUpper(payType))}
			if o.OrderNo == "" {
				return usagef("--order-no is required")
			}
			if created == "" || expires == "" {
				return usagef("--created and --expires are required, e.g. --created 2026-10-01T14:30 --expires 2026-10-08")
			}
			var err error
			if o.CreatedAt, err = parseWhen("--created", created, false); err != nil {
				return err
			}
			if o.ExpiresAt, err = parseWhen("--expires", expires, true); err != nil {
				return err
			}
			if o.ExpiresAt.Before(o.CreatedAt) {
				return usagef("--expires %s is before --created %s", expires, created)
			}
			if amount != "" {
				if o.Amount, err = parseAmount("--amount", amount); err != nil {
					return err
				}
			}
			if checkNow {
				o.FirstCheck = time.Now()
			}
			return a.withReconciler(cmd.Context(), *st, needCreate, func(b backend) error {
				switch b := b.(type) {
				case *sqliteBackend:
					o.ShopNo = b.shopNo
				case *riverBackend:
					o.ShopNo = b.shopNo
				}
				next, err := b.track(cmd.Context(), o)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "qpay: tracking %s of shop %s in %s; next check due %s\n", o.OrderNo, o.ShopNo, b.where(),
					next.In(sinopac.Taipei).Format(humanTime))
				return nil
			})
		},
		PreRunE: a.needCredentials, // no demo run without --demo
	}
	fl := cmd.Flags()
	fl.StringVar(&orderNo, "order-no", "", "the order's number (required)")
	fl.StringVar(&created, "created", "", "when the order was created (required)")
	fl.StringVar(&expires, "expires", "", "its payment deadline (required)")
	fl.StringVar(&payType, "pay-type", "", "A, C, M or P (optional; narrows range queries)")
	fl.StringVar(&amount, "amount", "", "the amount you expect, NT$ (optional; events carry the bank's)")
	fl.BoolVar(&checkNow, "check-now", false, "make the first check due now (an order found by other means)")
	return cmd
}

func (a *app) listCommand(st *storeFlags) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "list (--db FILE | --dsn URL)",
		Short: "List the tracked orders: pending (and due), given up",
		Long: `List what the reconciler is tracking: every pending order with its next check
(state "due" once that time has come), and every order it gave up on (still
unresolved at expiry plus grace: look at those by hand). --all adds the orders
resolved (paid, expired …). With --dsn, resolved orders are kept for River's
retention (30 days).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withReconciler(cmd.Context(), *st, needStore, func(b backend) error {
				es, now, err := b.list(cmd.Context())
				if err != nil {
					return err
				}
				v := &entriesView{Entries: []entryJSON{}}
				for _, e := range es {
					j := newEntryJSON(e, now)
					switch j.State {
					case "pending":
						v.Summary.Pending++
					case "due":
						v.Summary.Pending++
						v.Summary.Due++
					case string(reconcile.GaveUp):
						v.Summary.GaveUp++
					default:
						v.Summary.Resolved++
						if !all {
							continue
						}
					}
					v.Entries = append(v.Entries, j)
				}
				if a.output == "jsonl" {
					enc := json.NewEncoder(a.stdout)
					for _, j := range v.Entries {
						if err := enc.Encode(j); err != nil {
							return err
						}
					}
					return nil
				}
				return a.emit(v)
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include the resolved orders")
	return cmd
}

func (a *app) migrateCommand(st *storeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate --dsn URL [--schema NAME]",
		Short: "Create or update River's tables and the reconciler's in PostgreSQL",
		Long: `Apply River's migrations (rivermigrate) and create the reconciler's own two
tables in the database of --dsn (in --schema, which must exist, or the
connection's search_path). Run it once per deploy before the reconcilers start;
running it again changes nothing. Applications can call riverpg.Migrate instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if st.dsn == "" {
				return usagef("migrate needs --dsn: SQLite files are set up when opened")
			}
			return a.withReconciler(cmd.Context(), *st, needStore, func(b backend) error {
				rb := b.(*riverBackend)
				versions, err := riverpg.Migrate(cmd.Context(), rb.pool, rb.schema)
				if err != nil {
					return err
				}
				if len(versions) == 0 {
					fmt.Fprintln(a.stdout, "Up to date: River's migrations and the reconciler's tables are in place.")
					return nil
				}
				fmt.Fprintf(a.stdout, "Applied River migrations %v; the reconciler's tables are in place.\n", versions)
				return nil
			})
		},
	}
}

// eventsView is the JSON document of a reconcile run.
type eventsView struct {
	Events  []eventJSON `json:"events"`
	Summary summaryJSON `json:"summary"`
}

// eventJSON is one reconciler event in qpay's stable output form.
type eventJSON struct {
	Key             string  `json:"key"`  // same key when an event is delivered again after a crash
	Kind            string  `json:"kind"` // paid, authorized, expired, refunded, cancelled, pending, gave_up
	ShopNo          string  `json:"shop_no"`
	OrderNo         string  `json:"order_no"`
	Attempt         int     `json:"attempt"`
	CheckedAt       string  `json:"checked_at"`
	PayStatus       string  `json:"pay_status"`
	PayStatusLabel  string  `json:"pay_status_label"`
	PaidAt          *string `json:"paid_at"`
	Amount          int64   `json:"amount"`
	AmountTWD       string  `json:"amount_twd"`
	RefundAmount    int64   `json:"refund_amount"`
	RefundAmountTWD string  `json:"refund_amount_twd"`
	NextCheck       *string `json:"next_check"`
	Reason          string  `json:"reason"`
}

func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(sinopac.Taipei).Format(time.RFC3339)
	return &s
}

func newEventJSON(e reconcile.Event) eventJSON {
	j := eventJSON{Key: e.Key, Kind: string(e.Kind), ShopNo: e.ShopNo, OrderNo: e.OrderNo, Attempt: e.Attempt,
		CheckedAt: e.CheckedAt.In(sinopac.Taipei).Format(time.RFC3339), PayStatus: string(e.PayStatus),
		Amount: int64(e.Amount), AmountTWD: twd(e.Amount), RefundAmount: int64(e.RefundAmount),
		RefundAmountTWD: twd(e.RefundAmount), NextCheck: rfc3339(e.NextCheck), Reason: e.Reason}
	if e.PayStatus != "" {
		j.PayStatusLabel = e.PayStatus.Label()
	}
	if e.Kind == reconcile.Paid || e.Kind == reconcile.Authorized || e.Kind == reconcile.Refunded {
		j.PaidAt = rfc3339(e.PayDate)
	}
	return j
}

var eventCSVHeader = []string{"key", "kind", "shop_no", "order_no", "attempt", "checked_at", "pay_status", "pay_status_label",
	"paid_at", "amount", "amount_twd", "refund_amount", "refund_amount_twd", "next_check", "reason"}

func (j eventJSON) csvRow() []string {
	return []string{j.Key, j.Kind, j.ShopNo, j.OrderNo, fmt.Sprint(j.Attempt), strPtr(&j.CheckedAt, humanTime), j.PayStatus,
		j.PayStatusLabel, strPtr(j.PaidAt, humanTime), fmt.Sprint(j.Amount), j.AmountTWD, fmt.Sprint(j.RefundAmount),
		j.RefundAmountTWD, strPtr(j.NextCheck, humanTime), j.Reason}
}

// summaryJSON counts what the run did.
type summaryJSON struct {
	Checked    int            `json:"checked"`
	Events     map[string]int `json:"events"` // accepted events by kind
	Queries    int            `json:"queries"`
	Failed     int            `json:"failed"`
	DurationMS int64          `json:"duration_ms"`
}

func newSummaryJSON(s reconcile.Summary) summaryJSON {
	j := summaryJSON{Checked: s.Checked, Events: map[string]int{}, Queries: s.Queries, Failed: s.Failed,
		DurationMS: s.Duration.Milliseconds()}
	for k, n := range s.Events {
		j.Events[string(k)] = n
	}
	return j
}

func (s summaryJSON) line() string {
	if s.Checked == 0 && s.Failed == 0 {
		return "No order was due for a check."
	}
	var parts []string
	for _, k := range []reconcile.Kind{reconcile.Paid, reconcile.Authorized, reconcile.Refunded, reconcile.Expired,
		reconcile.Cancelled, reconcile.StillPending, reconcile.GaveUp} {
		if n := s.Events[string(k)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	line := "Checked " + plural(s.Checked, "order")
	if s.Queries > 0 {
		line += " with " + plural(s.Queries, "bank query")
	}
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if s.Failed > 0 {
		line += fmt.Sprintf("; %d left for later", s.Failed)
	}
	return line + "."
}

// entriesView is the document of 'reconcile list'.
type entriesView struct {
	Entries []entryJSON `json:"orders"`
	Summary struct {
		Pending  int `json:"pending"` // due ones included
		Due      int `json:"due"`
		GaveUp   int `json:"gave_up"`
		Resolved int `json:"resolved"`
	} `json:"summary"`
}

// entryJSON is one tracked order in qpay's stable output form.
type entryJSON struct {
	ShopNo    string  `json:"shop_no"`
	OrderNo   string  `json:"order_no"`
	State     string  `json:"state"` // pending, due, or the final kind (gave_up, paid …)
	Checks    int     `json:"checks"`
	NextCheck *string `json:"next_check"`
	DoneAt    *string `json:"done_at"`
	PayType   string  `json:"pay_type"`
	Amount    int64   `json:"amount"`
	CreatedAt string  `json:"created_at"`
	ExpiresAt string  `json:"expires_at"`
}

func newEntryJSON(e reconcile.Entry, now time.Time) entryJSON {
	j := entryJSON{ShopNo: e.ShopNo, OrderNo: e.OrderNo, Checks: e.Attempts, PayType: string(e.PayType), Amount: int64(e.Amount),
		CreatedAt: e.CreatedAt.In(sinopac.Taipei).Format(time.RFC3339), ExpiresAt: e.ExpiresAt.In(sinopac.Taipei).Format(time.RFC3339)}
	switch {
	case e.Done:
		j.State, j.DoneAt = string(e.Outcome), rfc3339(e.DoneAt)
	case e.NextCheck.After(now):
		j.State, j.NextCheck = "pending", rfc3339(e.NextCheck)
	default:
		j.State, j.NextCheck = "due", rfc3339(e.NextCheck)
	}
	return j
}

func (v *entriesView) table(w io.Writer, opt tableOpts) {
	if len(v.Entries) > 0 && !opt.noHeaders {
		fmt.Fprintln(w, "SHOP\tORDER\tSTATE\tCHECKS\tNEXT CHECK\tEXPIRES")
	}
	for _, j := range v.Entries {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", j.ShopNo, j.OrderNo, j.State, j.Checks,
			strPtr(j.NextCheck, humanTime), strPtr(&j.ExpiresAt, humanTime))
	}
	if opt.noHeaders {
		return
	}
	s := v.Summary
	fmt.Fprintf(w, "%d pending (%d due), %d given up, %d resolved.\n", s.Pending, s.Due, s.GaveUp, s.Resolved)
}

func (v *entriesView) csv() ([]string, [][]string) {
	header := []string{"shop_no", "order_no", "state", "checks", "next_check", "done_at", "pay_type", "amount", "created_at", "expires_at"}
	var rows [][]string
	for _, j := range v.Entries {
		rows = append(rows, []string{j.ShopNo, j.OrderNo, j.State, fmt.Sprint(j.Checks), strPtr(j.NextCheck, humanTime),
			strPtr(j.DoneAt, humanTime), j.PayType, fmt.Sprint(j.Amount), strPtr(&j.CreatedAt, humanTime), strPtr(&j.ExpiresAt, humanTime)})
	}
	return header, rows
}
