package reconcile_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secondShop is a shop other than the demo one, with keys of its own.
const secondShop = "NA0249_777"

var secondKeys = sinopac.HashKeys{A1: "0123456789ABCDEF", A2: "FEDCBA9876543210", B1: "00112233445566AA", B2: "AA66554433221100"}

// One reconciler serves two shops through a ClientSet: the same OrderNo
// in each is a different order, looked up with that shop's client, and
// each shop's requests stay under its gateway limit (one simulator per
// shop, refusing like the gateway).
func TestReconcilerManyShops(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	// 5 requests a second in bursts of 2: the gateway's limit.
	simA := qpaytest.NewServer(qpaytest.WithClock(clk.Now), qpaytest.WithRateLimit(5, 2))
	t.Cleanup(simA.Close)
	simB := qpaytest.NewServer(qpaytest.WithClock(clk.Now), qpaytest.WithRateLimit(5, 2), qpaytest.WithShop(secondShop, secondKeys))
	t.Cleanup(simB.Close)
	ca, err := simA.NewClient(sinopac.WithRetryPolicy(sinopac.NoRetry()))
	require.NoError(t, err)
	cb, err := simB.NewClient(sinopac.WithRetryPolicy(sinopac.NoRetry()))
	require.NoError(t, err)
	set, err := sinopac.NewClientSet(ca, cb)
	require.NoError(t, err)

	var orders []reconcile.PendingOrder
	for i, no := range []string{"N1", "N2", "N3", "N4"} {
		at := t0.Add(time.Duration(i) * time.Minute)
		a := simOrder(no, "C", at, "1C400")
		a.PayDate = a.TSDate
		simA.AddOrders(a)
		simB.AddOrders(simOrder(no, "C", at, "1C250"))
		for _, s := range []string{shop, secondShop} {
			orders = append(orders, reconcile.PendingOrder{ShopNo: s, OrderNo: no, PayType: "C", CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
		}
	}
	orders = append(orders, reconcile.PendingOrder{ShopNo: "NA0249_999", OrderNo: "N1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})

	store := openSQLite(t, filepath.Join(t.TempDir(), "r.db"))
	rec := &recorder{}
	r, err := reconcile.New(set.Client, store, rec.handle, reconcile.WithClock(clk.Now))
	require.NoError(t, err)
	for _, o := range orders {
		require.NoError(t, r.Track(t.Context(), o))
	}
	clk.Set(t0.Add(time.Hour))
	sum, err := r.Run(t.Context())
	require.ErrorIs(t, err, sinopac.ErrUnknownShop, "the order of a shop without a client is left for later")
	assert.Equal(t, 1, sum.Failed)
	byKey := map[string]reconcile.Kind{}
	for _, e := range rec.take() {
		byKey[e.Key] = e.Kind
		assert.Equal(t, e.ShopNo, e.Tracked.ShopNo)
	}
	assert.Equal(t, map[string]reconcile.Kind{
		shop + "/N1/paid": reconcile.Paid, shop + "/N2/paid": reconcile.Paid, shop + "/N3/paid": reconcile.Paid, shop + "/N4/paid": reconcile.Paid,
		secondShop + "/N1/expired": reconcile.Expired, secondShop + "/N2/expired": reconcile.Expired,
		secondShop + "/N3/expired": reconcile.Expired, secondShop + "/N4/expired": reconcile.Expired,
	}, byKey)
	for _, sim := range []*qpaytest.Server{simA, simB} {
		st := sim.Stats()
		assert.Zero(t, st.RateLimited, "no 429 at %s", sim.ShopNo())
		assert.Equal(t, 1, st.Requests["OrderQuery"], "one range walk per shop")
	}
	e, err := store.Get(t.Context(), reconcile.OrderKey{ShopNo: secondShop, OrderNo: "N2"})
	require.NoError(t, err)
	assert.Equal(t, reconcile.Expired, e.Outcome)
}

// Without pacing, the same lookups break the gateway's limit: the
// simulator's 429 is what the test above would see.
func TestReconcilerUnpacedHits429(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	sim, resolve := newSim(t, clk, qpaytest.WithRateLimit(5, 2))
	store := openSQLite(t, filepath.Join(t.TempDir(), "r.db"))
	r, err := reconcile.New(resolve, store, (&recorder{}).handle, reconcile.WithClock(clk.Now),
		reconcile.WithShopRate(1000), reconcile.WithRangeQueries(0, time.Hour))
	require.NoError(t, err)
	for _, no := range []string{"U1", "U2", "U3"} {
		require.NoError(t, r.Track(t.Context(), reconcile.PendingOrder{ShopNo: shop, OrderNo: no, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	clk.Set(t0.Add(time.Hour))
	_, _ = r.Run(t.Context())
	assert.Positive(t, sim.Stats().RateLimited)
}

// heartbeatStore signals every Extend that the heartbeat makes.
type heartbeatStore struct {
	*reconcile.SQLiteStore
	extends chan struct{}
}

func (s *heartbeatStore) Extend(ctx context.Context, owner string, keys []reconcile.OrderKey, now time.Time, lease time.Duration) ([]reconcile.OrderKey, error) {
	held, err := s.SQLiteStore.Extend(ctx, owner, keys, now, lease)
	select {
	case s.extends <- struct{}{}:
	default:
	}
	return held, err
}

// A handler slower than the lease: the pass keeps extending its batch's
// leases, so a second reconciler on the same file claims none of them
// meanwhile and no event is delivered twice.
func TestSQLiteSlowHandlerNoRepeat(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	sim, resolve := newSim(t, clk)
	path := filepath.Join(t.TempDir(), "r.db")
	const lease = time.Second
	var orders []string
	for _, no := range []string{"SLOW1", "SLOW2", "SLOW3"} {
		o := simOrder(no, "C", t0, "1C400")
		o.PayDate = o.TSDate
		sim.AddOrders(o)
		orders = append(orders, no)
	}
	storeA := &heartbeatStore{SQLiteStore: openSQLite(t, path), extends: make(chan struct{}, 64)}
	storeB := openSQLite(t, path)

	var mu sync.Mutex
	delivered := map[string]int{}
	count := func(e reconcile.Event) {
		mu.Lock()
		delivered[e.Key]++
		mu.Unlock()
	}
	var rB *reconcile.Reconciler
	var duringB reconcile.Summary
	slowOnce := sync.Once{}
	handleA := func(ctx context.Context, e reconcile.Event) error {
		count(e)
		var err error
		slowOnce.Do(func() {
			// Slower than the lease: wait until every lease taken before
			// this call would have run out, then for one more heartbeat,
			// then let the other reconciler try.
			start := time.Now()
			for range len(storeA.extends) {
				<-storeA.extends
			}
			timer := time.NewTimer(lease + lease/5)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-ctx.Done():
				err = ctx.Err()
				return
			}
			select { // a heartbeat; without one B finds the leases run out
			case <-storeA.extends:
			case <-time.After(lease):
			}
			require.Greater(t, time.Since(start), lease)
			duringB, err = rB.Run(ctx)
		})
		return err
	}
	rA, err := reconcile.New(resolve, storeA, handleA, reconcile.WithLease(lease), reconcile.WithOwner("A"))
	require.NoError(t, err)
	rB, err = reconcile.New(resolve, storeB, func(_ context.Context, e reconcile.Event) error { count(e); return nil },
		reconcile.WithLease(lease), reconcile.WithOwner("B"))
	require.NoError(t, err)
	for _, no := range orders {
		require.NoError(t, rA.Track(t.Context(), reconcile.PendingOrder{ShopNo: shop, OrderNo: no, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	sum, err := rA.Run(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Events[reconcile.Paid])
	assert.Zero(t, duringB.Checked, "B found every order still leased by A")
	assert.Equal(t, map[string]int{shop + "/SLOW1/paid": 1, shop + "/SLOW2/paid": 1, shop + "/SLOW3/paid": 1}, delivered)
}
