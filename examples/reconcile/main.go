// Command reconcile shows the Reconciler finding out how orders ended when
// the bank's notifications were lost, for a platform hosting two shops
// (each with its own ShopNo and keys: one sinopac.ClientSet). It runs on
// any machine, without credentials: each shop's bank is an in-process
// qpaytest simulator, with a simulated clock, and the state lives in a
// SQLite file.
//
//	go run ./examples/reconcile            # state in a temporary file
//	go run ./examples/reconcile -db r.db   # state kept in r.db
//
// In production the same Reconciler runs from cron (`Run`, one pass) or
// as a loop in the service (`Start`), with sinopac.NewClient's real
// clients; several machines use reconcile/riverpg on PostgreSQL instead.
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

// The platform's second shop (demo values, not real keys).
const secondShop = "NA0249_002"

var secondKeys = sinopac.HashKeys{A1: "0123456789ABCDEF", A2: "FEDCBA9876543210", B1: "00112233445566AA", B2: "AA66554433221100"}

// clientSet is the platform's clients, one per shop: its Client method is
// the reconciler's Resolver.
func clientSet(banks ...*qpaytest.Server) (*sinopac.ClientSet, error) {
	var cs []*sinopac.Client
	for _, b := range banks {
		c, err := b.NewClient()
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return sinopac.NewClientSet(cs...)
}

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

	// Two shops of the platform, each with its bank (simulator) and client.
	bank := qpaytest.NewServer(qpaytest.WithClock(clk.Now))
	defer bank.Close()
	bank2 := qpaytest.NewServer(qpaytest.WithClock(clk.Now), qpaytest.WithShop(secondShop, secondKeys))
	defer bank2.Close()
	clients, err := clientSet(bank, bank2)
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
	r, err := reconcile.New(clients.Client, store, handle, reconcile.WithClock(clk.Now), reconcile.WithGrace(time.Hour))
	if err != nil {
		return err
	}

	// Seven orders were created this morning; every notification was lost.
	type order struct {
		bank    *qpaytest.Server
		no      string
		pt      sinopac.PayType
		created string
		expires string
		status  sinopac.PayStatus
	}
	orders := []order{
		{bank, "A20261102001", sinopac.PayTypeATM, "0900", "1000", "1A200"},    // the customer pays at 09:30
		{bank, "A20261102009", sinopac.PayTypeATM, "0901", "1000", "1A200"},    // never paid: expires at 10:00
		{bank, "C20261102001", sinopac.PayTypeCard, "0902", "0932", "1C400"},   // paid at once
		{bank, "C20261102002", sinopac.PayTypeCard, "0903", "0933", "1C400"},   // paid, then refunded
		{bank, "M20261102001", sinopac.PayTypeMobile, "0905", "0935", "1M200"}, // the bank never resolves it
		{bank2, "A20261102001", sinopac.PayTypeATM, "0904", "1000", "1A400"},   // the other shop's order of that number: paid
		{bank2, "C20261102007", sinopac.PayTypeCard, "0906", "0936", "1C250"},  // its card window closed unpaid
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
		o.bank.AddOrders(bo)
		if err := r.Track(ctx, reconcile.PendingOrder{ShopNo: o.bank.ShopNo(), OrderNo: o.no, PayType: o.pt, Amount: sinopac.TWD(1200),
			CreatedAt: at(o.created), ExpiresAt: at(o.expires)}); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "tracking %d orders of %d shops in %s\n", len(orders), len(clients.Shops()), filepath.Base(dbPath))

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
