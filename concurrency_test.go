package sinopac_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

const concKeyID = "5b1c0c7e-0f4e-4b8a-9d55-3f1f6c2a9e01"

// TestConcurrentMixedQueries runs 120 goroutines of mixed calls against one
// simulator: QueryOrders by OrderNo, by date range, by PayType+PayFlag, and
// QueryPayment for tokens of orders paid beforehand, through a shared
// client, a shared client with nonce prefetch, and clients of their own.
// Every reply is verified by the SDK (Sign) and compared with the
// simulator's book; the simulator must see no nonce twice, no bad Sign, and
// exactly one request per call (nothing resent). Run it with -race.
func TestConcurrentMixedQueries(t *testing.T) {
	t.Parallel()
	s := qpaytest.NewServer(qpaytest.WithDemoData(), qpaytest.WithKeyID(concKeyID))
	t.Cleanup(s.Close)
	newClient := func(opts ...sinopac.Option) *sinopac.Client {
		c, err := s.NewClient(append([]sinopac.Option{sinopac.WithRetryPolicy(sinopac.NoRetry())}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Pay some pending orders first, so that payment queries have tokens.
	var tokens []string
	var paid []string
	for _, o := range s.Orders() {
		if o.PayStatus.Pending() && len(tokens) < 12 {
			tok, err := s.Pay(o.OrderNo)
			if err != nil {
				t.Fatal(err)
			}
			tokens, paid = append(tokens, tok), append(paid, o.OrderNo)
		}
	}
	if len(tokens) < 5 {
		t.Fatalf("only %d pending orders in the demo book", len(tokens))
	}
	book := map[string]sinopac.Order{}
	all := s.Orders() // the book does not change from here on
	for _, o := range all {
		book[o.OrderNo] = o
	}

	day := func(d int) (time.Time, time.Time) {
		s := time.Date(2026, 10, d, 0, 0, 0, 0, sinopac.Taipei)
		return s, s.Add(24*time.Hour - time.Minute)
	}
	var queries []sinopac.QueryConditions
	for _, no := range []string{qpaytest.SeedOrderNo, all[7].OrderNo, all[len(all)/2].OrderNo, paid[0], "NO-SUCH-ORDER"} {
		queries = append(queries, sinopac.QueryConditions{OrderNo: no})
	}
	for _, d := range []int{1, 9, 17, 30} {
		s, e := day(d)
		queries = append(queries, sinopac.QueryConditions{OrderDateTimeS: s, OrderDateTimeE: e})
	}
	for _, pt := range []sinopac.PayType{sinopac.PayTypeATM, sinopac.PayTypeCard, sinopac.PayTypeMobile} {
		for _, pf := range []sinopac.PayFlag{sinopac.PayFlagPaid, sinopac.PayFlagUnpaid, sinopac.PayFlagExpired} {
			queries = append(queries, sinopac.QueryConditions{PayType: pt, PayFlag: pf})
		}
	}
	s1, _ := day(3)
	_, e1 := day(12)
	queries = append(queries, sinopac.QueryConditions{PayDateTimeS: s1, PayDateTimeE: e1, PayType: sinopac.PayTypeATM})
	nonEmpty := 0
	for _, q := range queries {
		if len(expected(all, q)) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < len(queries)-4 {
		t.Fatalf("only %d of %d queries match anything: the test would prove little", nonEmpty, len(queries))
	}

	shared := newClient()
	prefetch := newClient(sinopac.WithNoncePrefetch(4))
	const workers, perWorker = 120, 5
	var calls, orderQueries, payQueries atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *sinopac.Client
			switch w % 4 {
			case 0:
				c = shared
			case 1, 2:
				c = prefetch
			default:
				c = newClient(sinopac.WithNoncePrefetch(1 + w%3))
			}
			for i := range perWorker {
				calls.Add(1)
				if (w+i)%4 == 3 {
					payQueries.Add(1)
					k := (w*perWorker + i) % len(tokens)
					r, err := c.QueryPayment(t.Context(), tokens[k])
					if err != nil {
						errs <- fmt.Errorf("worker %d: QueryPayment: %w", w, err)
						continue
					}
					want := book[paid[k]]
					got := r.TSResultContent
					if got.OrderNo != want.OrderNo || got.Amount != want.Amount || got.PayType != want.PayType || got.APType != sinopac.APTypePayOut || !r.Paid() {
						errs <- fmt.Errorf("worker %d: token of %s: got %+v", w, want.OrderNo, got)
					}
					continue
				}
				orderQueries.Add(1)
				q := queries[(w*7+i)%len(queries)]
				r, err := c.QueryOrders(t.Context(), q)
				if err != nil {
					errs <- fmt.Errorf("worker %d: QueryOrders(%+v): %w", w, q, err)
					continue
				}
				if err := sameOrders(r.OrderList, expected(all, q), book); err != nil {
					errs <- fmt.Errorf("worker %d: QueryOrders(%+v): %w", w, q, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 10 {
		t.Errorf("… and %d more errors", n-10)
	}

	st := s.Stats()
	if st.NoncesReused != 0 || st.NoncesExpired != 0 || st.BadSigns != 0 {
		t.Errorf("simulator saw reused %d, expired %d nonces, %d bad signs", st.NoncesReused, st.NoncesExpired, st.BadSigns)
	}
	if got, want := st.Requests["OrderQuery"], int(orderQueries.Load()); got != want {
		t.Errorf("simulator saw %d OrderQuery requests for %d calls", got, want)
	}
	if got, want := st.Requests["OrderPayQuery"], int(payQueries.Load()); got != want {
		t.Errorf("simulator saw %d OrderPayQuery requests for %d calls", got, want)
	}
	if st.NoncesIssued < int(calls.Load()) {
		t.Errorf("%d nonces issued for %d calls", st.NoncesIssued, calls.Load())
	}
	t.Logf("%d calls, %d nonces issued (prefetch pools hold the rest), stats %+v", calls.Load(), st.NoncesIssued, st.Requests)
}

// expected is what the bank returns for q from the book: the orders q
// matches (OrderNo alone decides at the bank; QueryOrders filters the rest
// client-side, which Match describes), sorted by OrderNo.
func expected(book []sinopac.Order, q sinopac.QueryConditions) []string {
	var out []string
	for i := range book {
		if q.Match(&book[i]) {
			out = append(out, book[i].OrderNo)
		}
	}
	slices.Sort(out)
	return out
}

// sameOrders checks the returned list against the expected OrderNos and
// every returned order's values against the book.
func sameOrders(got []sinopac.Order, want []string, book map[string]sinopac.Order) error {
	nos := make([]string, len(got))
	for i, o := range got {
		nos[i] = o.OrderNo
		b, ok := book[o.OrderNo]
		switch {
		case !ok:
			return fmt.Errorf("order %s is not in the book", o.OrderNo)
		case o.Amount != b.Amount || o.PayType != b.PayType || o.PayStatus != b.PayStatus ||
			!o.TSDate.Equal(b.TSDate) || !o.PayDate.Equal(b.PayDate) || o.PrdtName != b.PrdtName || o.TSNo != b.TSNo:
			return fmt.Errorf("order %s: got %+v, book has %+v", o.OrderNo, o, b)
		}
	}
	slices.Sort(nos)
	if !slices.Equal(nos, want) {
		return fmt.Errorf("got %d orders %v, want %d", len(nos), head(nos), len(want))
	}
	return nil
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
