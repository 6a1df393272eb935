// Command reconcile shows the Reconciler finding out how orders ended when
// the bank's notifications were lost. It runs on any machine, without
// credentials: the bank is the in-process qpaytest simulator, with a
// simulated clock, and the state lives in a SQLite file.
//
//	go run ./examples/reconcile            # state in a temporary file
//	go run ./examples/reconcile -db r.db   # state kept in r.db
//
// In production the same Reconciler runs from cron (`Run`, one pass) or
// as a loop in the service (`Start`), with sinopac.NewClient's real client.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/funbiz-go/sinopac/reconcile"
)

func main() {
	db := flag.String("db", "", "SQLite file for the reconciler's state (default: a temporary file)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *db); err != nil {
		fmt.Fprintln(os.Stderr, "reconcile:", err)
		os.Exit(1)
	}
}

// simClock is the simulated time shared by the bank and the reconciler.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *simClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func run(ctx context.Context, w io.Writer, dbPath string) error {
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "qpay-reconcile")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "reconcile.db")
	}
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, sinopac.Taipei)
	at := func(hhmm string) time.Time {
		t, _ := time.ParseInLocation("1504", hhmm, sinopac.Taipei)
		return day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
	}
	clk := &simClock{t: at("0900")}

	bank := qpaytest.NewServer(qpaytest.WithClock(clk.Now))
	defer bank.Close()
	client, err := bank.NewClient()
	if err != nil {
		return err
	}
	store, err := reconcile.OpenSQLite(dbPath)
	if err != nil {
		return err
	}
	defer store.Close()

	// The merchant's side: apply each event once (Key) and print it.
	applied := map[string]bool{}
	handle := func(_ context.Context, e reconcile.Event) error {
		if applied[e.Key] {
			return nil // a repeat after a crash: already applied
		}
		applied[e.Key] = true
		fmt.Fprintf(w, "  %s\n", e)
		return nil
	}
	r, err := reconcile.New(client, store, handle, reconcile.WithClock(clk.Now), reconcile.WithGrace(time.Hour))
	if err != nil {
		return err
	}

	// Five orders were created this morning; every notification was lost.
	type order struct {
		no      string
		pt      sinopac.PayType
		created string
		expires string
		status  sinopac.PayStatus
	}
	orders := []order{
		{"A20261102001", sinopac.PayTypeATM, "0900", "1000", "1A200"},    // the customer pays at 09:30
		{"A20261102009", sinopac.PayTypeATM, "0901", "1000", "1A200"},    // never paid: expires at 10:00
		{"C20261102001", sinopac.PayTypeCard, "0902", "0932", "1C400"},   // paid at once
		{"C20261102002", sinopac.PayTypeCard, "0903", "0933", "1C400"},   // paid, then refunded
		{"M20261102001", sinopac.PayTypeMobile, "0905", "0935", "1M200"}, // the bank never resolves it
	}
	for _, o := range orders {
		bo := sinopac.Order{OrderNo: o.no, TSNo: "NA0249" + o.no[len(o.no)-8:], TSDate: sinopac.At(at(o.created)),
			Amount: sinopac.TWD(1200), PayType: o.pt, PayStatus: o.status, RefundFlag: "N", ExpireDate: sinopac.At(at(o.expires))}
		if o.status.Paid() {
			bo.PayDate = sinopac.At(at(o.created).Add(time.Minute))
		}
		if o.no == "C20261102002" {
			bo.RefundFlag, bo.RefundStatus, bo.RefundAmount = "Y", "2C900", sinopac.TWD(1200)
		}
		bank.AddOrders(bo)
		if err := r.Track(ctx, reconcile.PendingOrder{OrderNo: o.no, PayType: o.pt, Amount: sinopac.TWD(1200),
			CreatedAt: at(o.created), ExpiresAt: at(o.expires)}); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "tracking %d orders in %s\n", len(orders), filepath.Base(dbPath))

	pass := func(hhmm string) error {
		clk.Set(at(hhmm))
		fmt.Fprintf(w, "pass at %s (Taipei)\n", clk.Now().Format("2006-01-02 15:04"))
		sum, err := r.Run(ctx)
		fmt.Fprintf(w, "  -- %d checked with %d bank queries\n", sum.Checked, sum.Queries)
		return err
	}
	if err := pass("0915"); err != nil {
		return err
	}
	clk.Set(at("0930"))
	if _, err := bank.Pay("A20261102001"); err != nil {
		return err
	}
	if err := pass("0950"); err != nil {
		return err
	}
	// The bank closes the unpaid virtual account at its deadline.
	expired, _ := bank.Order("A20261102009")
	expired.PayStatus = "1A250"
	bank.AddOrders(expired)
	if err := pass("1100"); err != nil {
		return err
	}
	return pass("1300") // nothing left
}
