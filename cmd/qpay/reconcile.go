package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/spf13/cobra"
)

func (a *app) reconcileCommand() *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "reconcile --db FILE",
		Short: "Run one reconciler pass over the pending orders in a SQLite store and print the events",
		Long: `Run one pass of the reconciler (package reconcile) over the pending orders kept
in the SQLite file --db: the orders due for a check are looked up at the bank
(one range query for orders created close together, single queries for the
rest) and each check's event is printed as it is delivered: paid, authorized,
expired, refunded, cancelled, pending (with the next check) or gave_up.

The store is the one your application fills with reconcile.Track, or with
'qpay reconcile track'. A pass changes it: resolved orders leave the pending
set, pending ones are rescheduled. Schedule it with cron, e.g. every 10 minutes.`,
		Example: `  qpay reconcile track --db pending.db --order-no A202110507397 --created 2021-10-01T22:43 --expires 2021-10-11
  qpay reconcile --db pending.db
  */10 * * * *  qpay reconcile --db /var/lib/shop/pending.db -o csv >> reconcile.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(db, false, func(c *sinopac.Client, store *reconcile.SQLStore) error {
				return a.reconcilePass(cmd.Context(), c, store)
			})
		},
		PreRunE: a.needCredentials, // no demo run without --demo
	}
	cmd.PersistentFlags().StringVar(&db, "db", "", "SQLite file holding the pending orders (required)")
	cmd.AddCommand(a.trackCommand(&db))
	return cmd
}

// openStore opens the SQLite store. A pass refuses a file that does not
// exist: a mistyped path would otherwise make an empty store and report
// that nothing is pending.
func openStore(path string, create bool) (*reconcile.SQLStore, error) {
	if path == "" {
		return nil, usagef("--db is required: the SQLite file of pending orders")
	}
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

// withStore opens the SQLite store and the client, runs fn, and closes
// both.
func (a *app) withStore(path string, create bool, fn func(*sinopac.Client, *reconcile.SQLStore) error) error {
	store, err := openStore(path, create)
	if err != nil {
		return err
	}
	defer store.Close()
	c, done, err := a.connect()
	if err != nil {
		return err
	}
	defer done()
	return fn(c, store)
}

// reconcilePass runs one pass and prints each event as the handler gets
// it (table and CSV stream; JSON is one document at the end). An event is
// accepted only once it is written, so a failed write makes a later pass
// deliver it again.
func (a *app) reconcilePass(ctx context.Context, c *sinopac.Client, store reconcile.Store) error {
	view := &eventsView{Events: []eventJSON{}}
	var cw *csv.Writer
	if a.output == "csv" {
		cw = csv.NewWriter(a.stdout)
		_ = cw.Write(eventCSVHeader)
	}
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
		}
		view.Events = append(view.Events, j)
		return nil
	}
	r, err := reconcile.New(c, store, handle)
	if err != nil {
		return err
	}
	sum, runErr := r.Run(ctx)
	view.Summary = newSummaryJSON(sum)
	switch a.output {
	case "json":
		if err := a.writeJSON(view); err != nil {
			return err
		}
	case "table":
		fmt.Fprintln(a.stdout, view.Summary.line())
	}
	if runErr != nil {
		return fmt.Errorf("the pass left %s for a later pass: %w", plural(sum.Failed, "order"), runErr)
	}
	return nil
}

func (a *app) trackCommand(db *string) *cobra.Command {
	var orderNo, payType, amount, created, expires string
	cmd := &cobra.Command{
		Use:   "track --db FILE --order-no NO --created WHEN --expires WHEN",
		Short: "Add an order to the reconciler's pending set (creating the store if needed)",
		Long: `Add an order to the pending set in --db, as reconcile.Track does: its first
check is due 10 minutes after --created. Tracking an order already tracked
changes nothing. Times are Taipei: 2026-10-01T14:30, or a date (--created:
its 00:00, --expires: its 23:59).`,
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
			return a.withStore(*db, true, func(c *sinopac.Client, store *reconcile.SQLStore) error {
				r, err := reconcile.New(c, store, func(context.Context, reconcile.Event) error { return nil })
				if err != nil {
					return err
				}
				if err := r.Track(cmd.Context(), o); err != nil {
					return err
				}
				e, err := store.Get(cmd.Context(), o.OrderNo)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "qpay: tracking %s in %s; next check due %s\n", e.OrderNo, *db,
					e.NextCheck.In(sinopac.Taipei).Format(humanTime))
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
	return cmd
}

// eventsView is the JSON document of a reconcile pass.
type eventsView struct {
	Events  []eventJSON `json:"events"`
	Summary summaryJSON `json:"summary"`
}

// eventJSON is one reconciler event in qpay's stable output form.
type eventJSON struct {
	Key             string  `json:"key"`  // same key when an event is delivered again after a crash
	Kind            string  `json:"kind"` // paid, authorized, expired, refunded, cancelled, pending, gave_up
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
	j := eventJSON{Key: e.Key, Kind: string(e.Kind), OrderNo: e.OrderNo, Attempt: e.Attempt,
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

var eventCSVHeader = []string{"key", "kind", "order_no", "attempt", "checked_at", "pay_status", "pay_status_label",
	"paid_at", "amount", "amount_twd", "refund_amount", "refund_amount_twd", "next_check", "reason"}

func (j eventJSON) csvRow() []string {
	return []string{j.Key, j.Kind, j.OrderNo, fmt.Sprint(j.Attempt), strPtr(&j.CheckedAt, humanTime), j.PayStatus,
		j.PayStatusLabel, strPtr(j.PaidAt, humanTime), fmt.Sprint(j.Amount), j.AmountTWD, fmt.Sprint(j.RefundAmount),
		j.RefundAmountTWD, strPtr(j.NextCheck, humanTime), j.Reason}
}

// summaryJSON counts what the pass did.
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
	line := fmt.Sprintf("Checked %s with %s", plural(s.Checked, "order"), plural(s.Queries, "bank query"))
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if s.Failed > 0 {
		line += fmt.Sprintf("; %d left for a later pass", s.Failed)
	}
	return line + "."
}
