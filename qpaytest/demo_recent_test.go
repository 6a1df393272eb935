package qpaytest_test

import (
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// The recent demo data is consistent, labelled, payable where it waits,
// fills every statement BillQuery keeps, and is a function of now.
func TestRecentDemoData(t *testing.T) {
	t.Parallel()
	// BillQuery's 30 days are checked by the SDK against the real today.
	now := time.Now().In(sinopac.Taipei).Truncate(time.Minute)
	srv := newServer(t, qpaytest.WithRecentDemoData(now), qpaytest.WithClock(func() time.Time { return now }))
	orders := srv.Orders()
	checkRecentDemo(t, orders, now)
	// The data depends on now: check it for nows all through a year, at
	// every hour of the day.
	for i := range 48 {
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, sinopac.Taipei).Add(time.Duration(i)*(7*24+1)*time.Hour + time.Duration(i*13)*time.Minute)
		s := qpaytest.NewServer(qpaytest.WithRecentDemoData(at))
		checkRecentDemo(t, s.Orders(), at)
		s.Close()
	}

	c := newClient(t, srv)
	for d := 1; d <= qpaytest.RecentDemoDays; d++ {
		day := now.AddDate(0, 0, -d)
		r, err := c.QueryBill(t.Context(), sinopac.BillQuery{BillDate: day})
		if err != nil {
			t.Fatalf("statement of %s: %v", day.Format("2006-01-02"), err)
		}
		if len(r.OrderList) == 0 {
			t.Errorf("statement of %s: empty", day.Format("2006-01-02"))
		}
	}
	toks := srv.RecentPayTokens()
	if len(toks) < 100 {
		t.Fatalf("%d tokens", len(toks))
	}
	pq, err := c.QueryPayment(t.Context(), toks[0].PayToken)
	if err != nil || !pq.Paid() || pq.TSResultContent.OrderNo != toks[0].OrderNo {
		t.Fatalf("OrderPayQuery of a recent token: %+v %v", pq, err)
	}

	// The orders waiting now have working pages.
	var card *sinopac.Order
	for i := range orders {
		if o := &orders[i]; o.PayType == sinopac.PayTypeCard && o.PayStatus.Pending() {
			card = o
		}
	}
	if card == nil {
		t.Fatal("no card order waiting")
	}
	if res := payWithTestCard(t, card.CardParam.CardPayURL); !res.has("付款成功") {
		t.Fatalf("paying %s on its page:\n%s", card.OrderNo, res.body)
	}

	// The same minute gives the same data.
	again := newServer(t, qpaytest.WithRecentDemoData(now.Add(30*time.Second)))
	other := again.Orders()
	if len(other) != len(orders) {
		t.Fatalf("%d orders, then %d", len(orders), len(other))
	}
	for i := range other {
		a, b := orders[i], other[i]
		if a.OrderNo != b.OrderNo || a.Amount != b.Amount || a.PayStatus != b.PayStatus && a.OrderNo != card.OrderNo {
			t.Fatalf("order %d differs: %s %s, %s %s", i, a.OrderNo, a.PayStatus, b.OrderNo, b.PayStatus)
		}
	}
}

// checkRecentDemo checks the recent demo orders made for now.
func checkRecentDemo(t *testing.T, orders []sinopac.Order, now time.Time) {
	t.Helper()
	if len(orders) < 6*qpaytest.RecentDemoDays {
		t.Fatalf("%d orders", len(orders))
	}
	seen := map[sinopac.PayStatus]bool{}
	for _, o := range orders {
		seen[o.PayStatus] = true
		if o.PayStatus.Label() == string(o.PayStatus) {
			t.Errorf("%s: PayStatus %s has no label", o.OrderNo, o.PayStatus)
		}
		if o.RefundStatus != "" && o.RefundStatus.Label() == string(o.RefundStatus) {
			t.Errorf("%s: RefundStatus %s has no label", o.OrderNo, o.RefundStatus)
		}
		if o.TSDate.Time().After(now) {
			t.Errorf("%s: created after now", o.OrderNo)
		}
		if !o.PayDate.IsZero() {
			if o.PayDate.Time().After(now) || o.PayDate.Time().After(o.ExpireDate.Time()) || o.PayDate.Time().Before(o.TSDate.Time()) {
				t.Errorf("%s: paid %s, created %s, expires %s", o.OrderNo, o.PayDate, o.TSDate, o.ExpireDate)
			}
		}
		if o.PayStatus.Expired() && o.ExpireDate.Time().After(now) {
			t.Errorf("%s: expired before its deadline %s", o.OrderNo, o.ExpireDate)
		}
		if o.PayStatus.Pending() && o.ExpireDate.Time().Before(now) {
			t.Errorf("%s: waiting past its deadline %s", o.OrderNo, o.ExpireDate)
		}
		for _, rf := range o.RefundList {
			if rf.RefundDate.Time().Before(o.PayDate.Time()) || rf.RefundDate.Time().After(now) {
				t.Errorf("%s: refunded %s, paid %s", o.OrderNo, rf.RefundDate, o.PayDate)
			}
		}
	}
	for _, st := range []sinopac.PayStatus{"1A200", "1A250", "1A400", "1A900", "1C200", "1C250", "1C300", "1C400", "1C900", "1M400", "1M900"} {
		if !seen[st] {
			t.Errorf("no order in state %s", st)
		}

	}
}
