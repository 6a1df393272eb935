package reconcile_test

import (
	"context"
	"errors"
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

// passKey marks the context a ReconcileStart hook returned.
type passKey struct{}

// passLog is one client's Observer: what its reconcile hooks saw, and in
// which pass's context its calls ran.
type passLog struct {
	mu     sync.Mutex
	starts []sinopac.ReconcileInfo
	ends   []sinopac.ReconcileDone
	calls  []string // "OrderQuery in NA0249_001's pass"
}

func (l *passLog) observer() sinopac.Observer {
	inPass := func(ctx context.Context) string {
		if shop, ok := ctx.Value(passKey{}).(string); ok {
			return " in " + shop + "'s pass"
		}
		return " outside a pass"
	}
	return sinopac.Observer{
		ReconcileStart: func(ctx context.Context, p sinopac.ReconcileInfo) context.Context {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.starts = append(l.starts, p)
			return context.WithValue(ctx, passKey{}, p.ShopNo)
		},
		ReconcileEnd: func(ctx context.Context, d sinopac.ReconcileDone) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if ctx.Value(passKey{}) != d.ShopNo {
				l.calls = append(l.calls, "ReconcileEnd"+inPass(ctx))
			}
			d.Duration = 0 // not compared
			l.ends = append(l.ends, d)
		},
		CallStart: func(ctx context.Context, c sinopac.CallInfo) context.Context {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.calls = append(l.calls, c.Service+inPass(ctx))
			return nil
		},
	}
}

func (l *passLog) take() ([]sinopac.ReconcileInfo, []sinopac.ReconcileDone, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, e, c := l.starts, l.ends, l.calls
	l.starts, l.ends, l.calls = nil, nil, nil
	return s, e, c
}

// backlogDown is a store whose backlog cannot be counted.
type backlogDown struct{ reconcile.Store }

func (backlogDown) Backlog(context.Context) ([]reconcile.Backlog, error) {
	return nil, errors.New("disk gone")
}

// A pass over two shops reports each shop's share to the Observer of
// that shop's client: its lookups (run in the context its ReconcileStart
// returned, and so is the handler), its events by kind and its backlog;
// a shop with orders pending but none due is reported too, so that its
// backlog is measured every pass; a shop without a client is not.
func TestReconcilerReportsEachShop(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	simA := qpaytest.NewServer(qpaytest.WithClock(clk.Now))
	t.Cleanup(simA.Close)
	simB := qpaytest.NewServer(qpaytest.WithClock(clk.Now), qpaytest.WithShop(secondShop, secondKeys))
	t.Cleanup(simB.Close)
	var logA, logB passLog
	ca, err := simA.NewClient(sinopac.WithObserver(logA.observer()))
	require.NoError(t, err)
	cb, err := simB.NewClient(sinopac.WithObserver(logB.observer()))
	require.NoError(t, err)
	set, err := sinopac.NewClientSet(ca, cb)
	require.NoError(t, err)

	paid := simOrder("A1", "C", t0, "1C400")
	paid.PayDate = paid.TSDate
	simA.AddOrders(paid, simOrder("A2", "C", t0.Add(time.Minute), "1C200"))
	store := openSQLite(t, filepath.Join(t.TempDir(), "r.db"))
	var handledIn []any
	handle := func(ctx context.Context, e reconcile.Event) error {
		handledIn = append(handledIn, ctx.Value(passKey{}))
		return nil
	}
	r, err := reconcile.New(set.Client, store, handle, reconcile.WithClock(clk.Now), reconcile.WithRangeQueries(0, time.Hour))
	require.NoError(t, err)
	ctx := t.Context()
	for _, o := range []reconcile.PendingOrder{
		{ShopNo: shop, OrderNo: "A1", PayType: "C", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)},
		{ShopNo: shop, OrderNo: "A2", PayType: "C", CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(24 * time.Hour)},
		{ShopNo: secondShop, OrderNo: "B1", CreatedAt: t0.Add(-2 * time.Hour), ExpiresAt: t0.Add(24 * time.Hour), FirstCheck: t0.Add(12 * time.Hour)},
		{ShopNo: "NA0249_999", OrderNo: "X1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)},
	} {
		require.NoError(t, r.Track(ctx, o))
	}
	clk.Set(t0.Add(time.Hour))
	sum, err := r.Run(ctx)
	require.ErrorIs(t, err, sinopac.ErrUnknownShop)
	assert.Equal(t, reconcile.Summary{Checked: 2, Queries: 2, Failed: 1, Events: map[reconcile.Kind]int{reconcile.Paid: 1, reconcile.StillPending: 1},
		Pending: 3, OldestPending: 3 * time.Hour, Duration: sum.Duration}, sum, "A2, B1 and X1 pending; the unknown shop's X1 counts as failed")

	starts, ends, calls := logA.take()
	assert.Equal(t, []sinopac.ReconcileInfo{{ShopNo: shop}}, starts)
	assert.Equal(t, []sinopac.ReconcileDone{{ReconcileInfo: sinopac.ReconcileInfo{ShopNo: shop}, Checked: 2, Queries: 2,
		Events: map[string]int{"paid": 1, "pending": 1}, Backlog: true, Pending: 1, OldestPending: 59 * time.Minute}}, ends)
	assert.Equal(t, []string{"OrderQuery in " + shop + "'s pass", "OrderQuery in " + shop + "'s pass"}, calls)
	assert.Equal(t, []any{shop, shop}, handledIn, "the handler runs in the shop's pass too")
	starts, ends, calls = logB.take()
	assert.Equal(t, []sinopac.ReconcileInfo{{ShopNo: secondShop}}, starts)
	assert.Equal(t, []sinopac.ReconcileDone{{ReconcileInfo: sinopac.ReconcileInfo{ShopNo: secondShop}, Events: map[string]int{},
		Backlog: true, Pending: 1, OldestPending: 3 * time.Hour}}, ends, "nothing due, its backlog measured")
	assert.Empty(t, calls)

	// When the backlog cannot be counted, the pass says so: not measured,
	// and the store's failure is the pass's class.
	r, err = reconcile.New(set.Client, backlogDown{store}, handle, reconcile.WithClock(clk.Now))
	require.NoError(t, err)
	clk.Set(t0.Add(3 * time.Hour))
	_, err = r.Run(ctx)
	require.ErrorContains(t, err, "disk gone")
	_, ends, _ = logA.take()
	require.Len(t, ends, 1)
	assert.Equal(t, sinopac.ReconcileDone{ReconcileInfo: sinopac.ReconcileInfo{ShopNo: shop}, Checked: 1, Queries: 1,
		Events: map[string]int{"pending": 1}, Class: sinopac.ErrorClassOther}, ends[0])
}
