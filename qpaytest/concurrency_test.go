package qpaytest_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// 100 goroutines query the server at once (a shared client, own clients,
// and clients with nonce prefetch) while orders are added and paid; every
// reply is verified by the SDK and checked against the book, and no nonce
// is ever presented twice.
func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	shared := newClient(t, s)
	static := s.Orders() // the demo book; the writers below only touch W* orders
	queries := []sinopac.QueryConditions{
		{OrderNo: qpaytest.SeedOrderNo},
		{PayType: sinopac.PayTypeATM, PayFlag: sinopac.PayFlagPaid, OrderDateTimeS: taipei(2026, 10, 1, 0, 0), OrderDateTimeE: taipei(2026, 10, 5, 0, 0)},
		{PayType: sinopac.PayTypeCard, OrderDateTimeS: taipei(2026, 10, 10, 0, 0), OrderDateTimeE: taipei(2026, 10, 14, 0, 0)},
		{PayFlag: sinopac.PayFlagExpired, PayType: sinopac.PayTypeMobile},
		{OrderDateTimeS: taipei(2026, 10, 20, 0, 0), OrderDateTimeE: taipei(2026, 10, 21, 0, 0)},
	}
	for _, q := range queries {
		if len(expect(static, q)) == 0 {
			t.Fatalf("%+v matches nothing in the demo book: the test would prove little", q)
		}
	}
	const workers, perWorker = 100, 3
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker+10)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := shared
			switch w % 3 {
			case 1:
				c = newClient(t, s)
			case 2:
				c = newClient(t, s, sinopac.WithNoncePrefetch(2))
			}
			for i := range perWorker {
				q := queries[(w+i)%len(queries)]
				r, err := c.QueryOrders(t.Context(), q)
				if err != nil {
					errs <- fmt.Errorf("worker %d query %d: %w", w, i, err)
					return
				}
				if got, want := orderNos(r.OrderList), expect(static, q); !slices.Equal(got, want) {
					errs <- fmt.Errorf("worker %d query %d: %d orders, want %d", w, i, len(got), len(want))
				}
			}
		}()
	}
	// Writers: new orders outside October 2026 and payments of them.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			no := fmt.Sprintf("W%03d", i)
			s.AddOrders(pendingOrder(no, sinopac.PayTypeATM, taipei(2026, 11, 1, 0, i)))
			if _, err := s.Pay(no); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := s.Stats()
	if st.NoncesReused != 0 || st.BadSigns != 0 || st.NoncesExpired != 0 {
		t.Fatalf("stats %+v", st)
	}
	if st.Requests["OrderQuery"] != workers*perWorker {
		t.Fatalf("%d OrderQuery requests, want %d", st.Requests["OrderQuery"], workers*perWorker)
	}
	if st.NoncesIssued < workers*perWorker {
		t.Fatalf("%d nonces issued", st.NoncesIssued)
	}
	if o, _ := s.Order("W049"); o.PayStatus != "1A400" {
		t.Fatalf("W049 %s", o.PayStatus)
	}
}

// bigBook returns n orders spread evenly over October 2026, mixed types
// and states.
func bigBook(n int) []sinopac.Order {
	start := taipei(2026, 10, 1, 0, 0)
	step := 31 * 24 * time.Hour / time.Duration(n)
	types := []sinopac.PayType{sinopac.PayTypeATM, sinopac.PayTypeCard, sinopac.PayTypeMobile}
	states := []string{"400", "200", "250", "400", "900"}
	orders := make([]sinopac.Order, n)
	for i := range orders {
		ts := start.Add(time.Duration(i) * step)
		pt := types[i%len(types)]
		o := sinopac.Order{OrderNo: fmt.Sprintf("B%07d", i), TSNo: fmt.Sprintf("NA0249%08d", i), TSDate: sinopac.At(ts),
			PayType: pt, PayStatus: sinopac.PayStatus("1" + string(pt) + states[i%len(states)]), Amount: sinopac.TWD(int64(100 + i%900)),
			PrdtName: "商品", RefundFlag: "N"}
		if o.PayStatus.Paid() {
			o.PayDate = sinopac.At(ts.Add(10 * time.Minute))
		}
		orders[i] = o
	}
	return orders
}

// A book of 12,000 orders answers range queries from its TSDate index.
func TestLargeBook(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	all := bigBook(12000)
	s.AddOrders(all...)
	c := newClient(t, s)
	for _, q := range []sinopac.QueryConditions{
		{OrderDateTimeS: taipei(2026, 10, 1, 0, 0), OrderDateTimeE: taipei(2026, 10, 31, 23, 59)},
		{OrderDateTimeS: taipei(2026, 10, 30, 0, 0), OrderDateTimeE: taipei(2026, 10, 30, 6, 0), PayFlag: sinopac.PayFlagPaid},
		{PayType: sinopac.PayTypeMobile, PayFlag: sinopac.PayFlagExpired},
		{PayDateTimeS: taipei(2026, 10, 31, 12, 0), PayDateTimeE: taipei(2026, 10, 31, 23, 59)},
	} {
		r, err := c.QueryOrders(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := orderNos(r.OrderList), expect(all, q); !slices.Equal(got, want) || len(got) == 0 {
			t.Fatalf("%+v: %d orders, want %d", q, len(got), len(want))
		}
	}
}

func BenchmarkQueryByOrderNo(b *testing.B) {
	s := newServer(b, qpaytest.WithDemoData())
	c := newClient(b, s)
	q := sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.QueryOrders(b.Context(), q); err != nil {
			b.Fatal(err)
		}
	}
}

// A one-hour window of a 10,000-order month (about 13 orders).
func BenchmarkQueryRange10k(b *testing.B) {
	s := newServer(b)
	s.AddOrders(bigBook(10000)...)
	c := newClient(b, s)
	q := sinopac.QueryConditions{OrderDateTimeS: taipei(2026, 10, 20, 10, 0), OrderDateTimeE: taipei(2026, 10, 20, 10, 59)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.QueryOrders(b.Context(), q); err != nil {
			b.Fatal(err)
		}
	}
}

// A full page: the whole month of 10,000 orders, cut at 300.
func BenchmarkQueryFullPage10k(b *testing.B) {
	s := newServer(b)
	s.AddOrders(bigBook(10000)...)
	c := newClient(b, s)
	q := sinopac.QueryConditions{OrderDateTimeS: taipei(2026, 10, 1, 0, 0), OrderDateTimeE: taipei(2026, 10, 31, 23, 59)}
	b.ReportAllocs()
	for b.Loop() {
		r, err := c.QueryOrders(b.Context(), q)
		if err != nil || len(r.OrderList) != 300 {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddOrders10k(b *testing.B) {
	orders := bigBook(10000)
	b.ReportAllocs()
	for b.Loop() {
		s := qpaytest.NewServer()
		s.AddOrders(orders...)
		s.Close()
	}
}
