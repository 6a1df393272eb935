package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a settable time source shared by the simulator and the reconciler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, sinopac.Taipei)

// recorder is a Handler that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []reconcile.Event
}

func (r *recorder) handle(_ context.Context, e reconcile.Event) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() []reconcile.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func kinds(evs []reconcile.Event) map[string]reconcile.Kind {
	m := map[string]reconcile.Kind{}
	for _, e := range evs {
		m[e.OrderNo] = e.Kind
	}
	return m
}

func simOrder(no string, pt sinopac.PayType, at time.Time, status string) sinopac.Order {
	return sinopac.Order{OrderNo: no, TSNo: "TS" + no, TSDate: sinopac.At(at), Amount: sinopac.TWD(500),
		PayType: pt, PayStatus: sinopac.PayStatus(status), RefundFlag: "N", PrdtName: "test"}
}

func newSim(t *testing.T, clk *clock, opts ...qpaytest.Option) (*qpaytest.Server, reconcile.Resolver) {
	t.Helper()
	sim := qpaytest.NewServer(append([]qpaytest.Option{qpaytest.WithClock(clk.Now)}, opts...)...)
	t.Cleanup(sim.Close)
	c, err := sim.NewClient()
	require.NoError(t, err)
	return sim, reconcile.SingleShop(c)
}

const shop = qpaytest.DemoShopNo

func key(no string) reconcile.OrderKey { return reconcile.OrderKey{ShopNo: shop, OrderNo: no} }

func openSQLite(t *testing.T, path string) *reconcile.SQLiteStore {
	t.Helper()
	s, err := reconcile.OpenSQLite(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestReconcilerOutcomes(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	sim, client := newSim(t, clk)
	store := openSQLite(t, filepath.Join(t.TempDir(), "r.db"))
	rec := &recorder{}
	r, err := reconcile.New(client, store, rec.handle, reconcile.WithClock(clk.Now), reconcile.WithGrace(time.Hour))
	require.NoError(t, err)
	ctx := t.Context()

	refunded := simOrder("R1", "C", t0.Add(2*time.Minute), "1C400")
	refunded.PayDate = sinopac.At(t0.Add(3 * time.Minute))
	refunded.RefundFlag, refunded.RefundStatus, refunded.RefundAmount = "Y", "2C900", sinopac.TWD(200)
	sim.AddOrders(
		simOrder("PAIDLATE", "A", t0, "1A200"),
		simOrder("EXPIRES", "A", t0.Add(time.Minute), "1A200"),
		refunded,
		simOrder("CANCEL", "C", t0.Add(3*time.Minute), "1C351"),
		simOrder("AUTH", "C", t0.Add(4*time.Minute), "1C300"),
		simOrder("NEVER", "M", t0.Add(5*time.Minute), "1M200"),
	)
	track := func(no string, pt sinopac.PayType, created time.Time, ttl time.Duration) {
		require.NoError(t, r.Track(ctx, reconcile.PendingOrder{ShopNo: shop, OrderNo: no, PayType: pt, Amount: sinopac.TWD(500), CreatedAt: created, ExpiresAt: created.Add(ttl)}))
	}
	track("PAIDLATE", "A", t0, 7*24*time.Hour)
	track("EXPIRES", "A", t0.Add(time.Minute), 7*24*time.Hour)
	track("R1", "C", t0.Add(2*time.Minute), 30*time.Minute)
	track("CANCEL", "C", t0.Add(3*time.Minute), 30*time.Minute)
	track("AUTH", "C", t0.Add(4*time.Minute), 30*time.Minute)
	track("NEVER", "M", t0.Add(5*time.Minute), 30*time.Minute)
	track("UNKNOWN", "", t0.Add(6*time.Minute), 30*time.Minute) // never reached the bank
	track("NEVER", "M", t0, time.Minute)                        // tracked twice: no change

	// Nothing is due before the first wait of the schedule.
	sum, err := r.Run(ctx)
	require.NoError(t, err)
	assert.Zero(t, sum.Checked)

	// First pass at +20 min: final states resolve, pending ones wait.
	clk.Set(t0.Add(20 * time.Minute))
	sum, err = r.Run(ctx)
	require.NoError(t, err)
	evs := rec.take()
	assert.Equal(t, map[string]reconcile.Kind{"PAIDLATE": reconcile.StillPending, "EXPIRES": reconcile.StillPending,
		"R1": reconcile.Refunded, "CANCEL": reconcile.Cancelled, "AUTH": reconcile.Authorized,
		"NEVER": reconcile.StillPending, "UNKNOWN": reconcile.StillPending}, kinds(evs))
	assert.Equal(t, 7, sum.Checked)
	assert.LessOrEqual(t, sum.Queries, 2, "one range walk, plus a single query for the order the bank lacks")
	assert.LessOrEqual(t, sim.Stats().Requests["OrderQuery"], 2)
	for _, e := range evs {
		switch e.OrderNo {
		case "R1":
			assert.Equal(t, shop+"/R1/refunded", e.Key)
			assert.Equal(t, sinopac.TWD(200), e.RefundAmount)
			assert.Equal(t, sinopac.TWD(500), e.Amount)
		case "PAIDLATE":
			assert.Equal(t, shop+"/PAIDLATE/pending/1", e.Key)
			assert.Equal(t, 1, e.Attempt)
			assert.Equal(t, clk.Now().Add(30*time.Minute), e.NextCheck, "second wait of the schedule")
		case "UNKNOWN":
			assert.Nil(t, e.Order)
		}
	}

	// The customer pays late; the ATM order of another expires.
	_, err = sim.Pay("PAIDLATE")
	require.NoError(t, err)
	exp, _ := sim.Order("EXPIRES")
	exp.PayStatus = "1A250"
	sim.AddOrders(exp)
	clk.Advance(29 * time.Minute) // not due yet
	sum, err = r.Run(ctx)
	require.NoError(t, err)
	assert.Zero(t, sum.Checked)
	clk.Advance(time.Minute)
	_, err = r.Run(ctx)
	require.NoError(t, err)
	evs = rec.take()
	assert.Equal(t, map[string]reconcile.Kind{"PAIDLATE": reconcile.Paid, "EXPIRES": reconcile.Expired,
		"NEVER": reconcile.StillPending, "UNKNOWN": reconcile.StillPending}, kinds(evs))
	for _, e := range evs {
		if e.Kind == reconcile.Paid {
			assert.Equal(t, t0.Add(20*time.Minute), e.PayDate)
			assert.Equal(t, sinopac.TWD(500), e.Amount)
			assert.Equal(t, 2, e.Attempt)
		}
	}

	// The unresolved ones are checked until expiry + grace, then given up.
	var gaveUp []reconcile.Event
	for range 20 {
		clk.Advance(30 * time.Minute)
		_, err = r.Run(ctx)
		require.NoError(t, err)
		for _, e := range rec.take() {
			require.Contains(t, []string{"NEVER", "UNKNOWN"}, e.OrderNo)
			if e.Kind == reconcile.GaveUp {
				gaveUp = append(gaveUp, e)
			}
			// Passes come every 30 min: the last check is the first pass at or after the deadline.
			require.False(t, e.CheckedAt.After(e.Tracked.ExpiresAt.Add(time.Hour+30*time.Minute)), "no check past the deadline's pass")
		}
	}
	require.Len(t, gaveUp, 2)
	for _, e := range gaveUp {
		assert.False(t, e.CheckedAt.Before(e.Tracked.ExpiresAt.Add(time.Hour)), "given up only at expiry + grace")
		assert.Contains(t, e.Reason, "after expiry")
	}
	for no, kind := range map[string]reconcile.Kind{"PAIDLATE": reconcile.Paid, "NEVER": reconcile.GaveUp, "R1": reconcile.Refunded} {
		e, err := store.Get(ctx, key(no))
		require.NoError(t, err)
		assert.True(t, e.Done)
		assert.Equal(t, kind, e.Outcome)
	}
}

// crashingStore dies (every call fails, nothing more is written) at the
// n-th Finish, after the event of that order was delivered.
type crashingStore struct {
	reconcile.Store
	mu     sync.Mutex
	n      int
	dead   bool
	cancel context.CancelFunc
}

var errCrashed = errors.New("process crashed")

func (s *crashingStore) Finish(ctx context.Context, owner string, key reconcile.OrderKey, attempts int, k reconcile.Kind, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n--; s.n <= 0 || s.dead {
		s.dead = true
		s.cancel()
		return errCrashed
	}
	return s.Store.Finish(ctx, owner, key, attempts, k, at)
}

func (s *crashingStore) Release(context.Context, string, []reconcile.OrderKey) error {
	return errCrashed
}

func TestReconcilerRestartMidRun(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	sim, client := newSim(t, clk)
	path := filepath.Join(t.TempDir(), "state.db")
	const n = 50
	var orders []sinopac.Order
	for i := range n {
		o := simOrder(fmt.Sprintf("O%03d", i), "C", t0.Add(time.Duration(i)*time.Minute), "1C400")
		o.PayDate = o.TSDate
		orders = append(orders, o)
	}
	sim.AddOrders(orders...)

	// Process 1 tracks the orders, then dies during a pass, right after
	// delivering the 21st event.
	store1, err := reconcile.OpenSQLite(path)
	require.NoError(t, err)
	ctx1, cancel1 := context.WithCancel(t.Context())
	defer cancel1()
	crash := &crashingStore{Store: store1, n: 21, cancel: cancel1}
	rec := &recorder{}
	r1, err := reconcile.New(client, crash, rec.handle, reconcile.WithClock(clk.Now), reconcile.WithBatchSize(30))
	require.NoError(t, err)
	for _, o := range orders {
		require.NoError(t, r1.Track(ctx1, reconcile.PendingOrder{ShopNo: shop, OrderNo: o.OrderNo, PayType: "C", CreatedAt: o.TSDate.Time(), ExpiresAt: o.TSDate.Time().Add(time.Hour)}))
	}
	clk.Set(t0.Add(2 * time.Hour))
	_, err = r1.Run(ctx1)
	require.ErrorIs(t, err, errCrashed)
	first := rec.take()
	require.Len(t, first, 21)
	require.NoError(t, store1.Close())

	// Process 2 opens the same file. The dead process's claims hold until
	// their lease runs out.
	store2 := openSQLite(t, path)
	r2, err := reconcile.New(client, store2, rec.handle, reconcile.WithClock(clk.Now))
	require.NoError(t, err)
	sum, err := r2.Run(t.Context())
	require.NoError(t, err)
	assert.Equal(t, n-30, sum.Checked, "only the unclaimed batch is due")
	clk.Advance(reconcile.DefaultLease)
	_, err = r2.Run(t.Context())
	require.NoError(t, err)
	second := rec.take()
	require.Len(t, second, n-20, "the 21st event is delivered once more; the 20 stored ones are not")

	seen := map[string]int{}
	for _, e := range append(first, second...) {
		seen[e.Key]++
		assert.Equal(t, reconcile.Paid, e.Kind)
	}
	require.Len(t, seen, n, "no order lost")
	repeated := 0
	for _, c := range seen {
		require.LessOrEqual(t, c, 2)
		if c == 2 {
			repeated++
		}
	}
	assert.Equal(t, 1, repeated, "exactly the event delivered before the crash is repeated")
	for _, o := range orders {
		e, err := store2.Get(t.Context(), key(o.OrderNo))
		require.NoError(t, err)
		assert.True(t, e.Done, o.OrderNo)
	}
}

func TestReconcilerHandlerErrorRetriesLater(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	sim, client := newSim(t, clk)
	sim.AddOrders(simOrder("A1", "M", t0, "1M400"))
	store := openSQLite(t, filepath.Join(t.TempDir(), "r.db"))
	fail := true
	var got []reconcile.Event
	r, err := reconcile.New(client, store, func(_ context.Context, e reconcile.Event) error {
		got = append(got, e)
		if fail {
			return errors.New("db down")
		}
		return nil
	}, reconcile.WithClock(clk.Now))
	require.NoError(t, err)
	require.NoError(t, r.Track(t.Context(), reconcile.PendingOrder{ShopNo: shop, OrderNo: "A1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	clk.Advance(time.Hour)
	_, err = r.Run(t.Context())
	require.ErrorContains(t, err, "db down")
	fail = false
	_, err = r.Run(t.Context())
	require.NoError(t, err)
	assert.Len(t, got, 1, "claimed until the lease ends")
	clk.Advance(reconcile.DefaultLease)
	_, err = r.Run(t.Context())
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, got[0].Key, got[1].Key)
	e, err := store.Get(t.Context(), key("A1"))
	require.NoError(t, err)
	assert.Equal(t, reconcile.Paid, e.Outcome)
}

func TestReconcilerBankDownLeavesOrders(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	sim, client := newSim(t, clk)
	store := openSQLite(t, filepath.Join(t.TempDir(), "r.db"))
	rec := &recorder{}
	r, err := reconcile.New(client, store, rec.handle, reconcile.WithClock(clk.Now))
	require.NoError(t, err)
	require.NoError(t, r.Track(t.Context(), reconcile.PendingOrder{ShopNo: shop, OrderNo: "B1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	clk.Advance(time.Hour)
	sim.InjectFault(qpaytest.Fault{Service: "OrderQuery", Times: -1, Code: sinopac.CodeQueryFailed})
	sum, err := r.Run(t.Context())
	var ae *sinopac.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 1, sum.Failed)
	assert.Empty(t, rec.take(), "no event without an answer from the bank")
	e, err := store.Get(t.Context(), key("B1"))
	require.NoError(t, err)
	assert.False(t, e.Done)
	assert.Zero(t, e.Attempts)
}

func TestReconcilerStartStopsOnCancel(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	_, client := newSim(t, clk)
	store := openSQLite(t, filepath.Join(t.TempDir(), "r.db"))
	passes := make(chan struct{}, 10)
	r, err := reconcile.New(client, store, (&recorder{}).handle, reconcile.WithClock(clk.Now),
		reconcile.WithReport(func(reconcile.Summary, error) { passes <- struct{}{} }))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Start(ctx, 5*time.Millisecond) }()
	<-passes
	<-passes
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return after cancel")
	}
}

func TestTrackValidation(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	_, client := newSim(t, clk)
	store := openSQLite(t, filepath.Join(t.TempDir(), "r.db"))
	r, err := reconcile.New(client, store, (&recorder{}).handle)
	require.NoError(t, err)
	for _, tc := range []struct {
		o     reconcile.PendingOrder
		field string
	}{
		{reconcile.PendingOrder{OrderNo: "X", CreatedAt: t0, ExpiresAt: t0}, "ShopNo"},
		{reconcile.PendingOrder{ShopNo: shop, CreatedAt: t0, ExpiresAt: t0}, "OrderNo"},
		{reconcile.PendingOrder{ShopNo: shop, OrderNo: "X", ExpiresAt: t0}, "CreatedAt"},
		{reconcile.PendingOrder{ShopNo: shop, OrderNo: "X", CreatedAt: t0}, "ExpiresAt"},
		{reconcile.PendingOrder{ShopNo: shop, OrderNo: "X", PayType: "W", CreatedAt: t0, ExpiresAt: t0}, "PayType"},
	} {
		err := r.Track(t.Context(), tc.o)
		var ve *sinopac.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, tc.field, ve.Field)
	}
	_, err = reconcile.New(client, store, (&recorder{}).handle, reconcile.WithSchedule())
	require.Error(t, err)
	_, err = reconcile.New(nil, store, (&recorder{}).handle)
	require.Error(t, err)
}

func TestEventString(t *testing.T) {
	t.Parallel()
	e := reconcile.Event{ShopNo: "S1", OrderNo: "A1", Kind: reconcile.Paid, Attempt: 2, Amount: sinopac.TWD(799), PayDate: t0}
	assert.Equal(t, "S1 A1 paid (check 2): NT$799.00 at 2026-11-02 10:00", e.String())
	assert.True(t, slices.ContainsFunc([]reconcile.Kind{reconcile.GaveUp}, reconcile.Kind.Final))
	assert.False(t, reconcile.StillPending.Final())
}

// In a busy shop a range walk over the tracked orders' window would list
// thousands of other orders: it stops at its page budget (half of what
// single queries cost) and the rest are looked up by OrderNo.
func TestReconcilerBusyWindowBoundsQueries(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	sim, client := newSim(t, clk)
	var others []sinopac.Order
	for i := range 3000 {
		others = append(others, simOrder(fmt.Sprintf("X%05d", i), "C", t0.Add(time.Duration(i%360)*time.Minute), "1C400"))
	}
	sim.AddOrders(others...)
	store := openSQLite(t, filepath.Join(t.TempDir(), "r.db"))
	rec := &recorder{}
	r, err := reconcile.New(client, store, rec.handle, reconcile.WithClock(clk.Now))
	require.NoError(t, err)
	for i := range 6 {
		no := fmt.Sprintf("MINE%d", i)
		at := t0.Add(time.Duration(i) * time.Hour)
		o := simOrder(no, "C", at, "1C400")
		o.PayDate = sinopac.At(at.Add(time.Minute))
		sim.AddOrders(o)
		require.NoError(t, r.Track(t.Context(), reconcile.PendingOrder{ShopNo: shop, OrderNo: no, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}))
	}
	clk.Set(t0.Add(8 * time.Hour))
	sum, err := r.Run(t.Context())
	require.NoError(t, err)
	evs := rec.take()
	require.Len(t, evs, 6)
	for _, e := range evs {
		assert.Equal(t, reconcile.Paid, e.Kind, e.OrderNo)
	}
	calls := sim.Stats().Requests["OrderQuery"]
	assert.Equal(t, sum.Queries, calls)
	assert.LessOrEqual(t, calls, 6+3, "a budget of 3 pages, then at most one query per order")
}
