package reconcile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/funbiz-go/sinopac/reconcile"
)

// A cron job: one pass over the orders whose notification never came.
func ExampleReconciler_Run() {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei)
	clock := func() time.Time { return now }
	bank := qpaytest.NewServer(qpaytest.WithClock(clock))
	defer bank.Close()
	bank.AddOrders(sinopac.Order{OrderNo: "C1", TSNo: "TS1", TSDate: sinopac.At(now), PayType: sinopac.PayTypeCard,
		PayStatus: "1C400", PayDate: sinopac.At(now.Add(2 * time.Minute)), Amount: sinopac.TWD(799)})
	client, _ := bank.NewClient()

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store, err := reconcile.OpenSQLite(filepath.Join(dir, "reconcile.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()
	r, _ := reconcile.New(reconcile.SingleShop(client), store, func(ctx context.Context, e reconcile.Event) error {
		// Apply e to the merchant's order (once per e.Key), then return nil.
		fmt.Println(e.Key, e.Amount, e.PayDate.Format("15:04"))
		return nil
	}, reconcile.WithClock(clock))

	ctx := context.Background()
	_ = r.Track(ctx, reconcile.PendingOrder{ShopNo: bank.ShopNo(), OrderNo: "C1", PayType: sinopac.PayTypeCard, Amount: sinopac.TWD(799),
		CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute)})
	now = now.Add(time.Hour)
	sum, err := r.Run(ctx)
	fmt.Println(sum.Checked, "checked", err)
	// Output:
	// NA0249_001/C1/paid NT$799.00 09:02
	// 1 checked <nil>
}
