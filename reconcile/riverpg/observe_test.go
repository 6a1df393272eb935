package riverpg_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/funbiz-go/sinopac/reconcile/riverpg"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkKey marks the context a ReconcileStart hook returned.
type checkKey struct{}

// reports is an Observer that keeps every ReconcileEnd and tells of each.
type reports struct {
	mu    sync.Mutex
	ends  []sinopac.ReconcileDone
	calls []string // each call's service, and whether it ran in a check's context
	ended chan struct{}
}

func (rs *reports) observer() sinopac.Observer {
	return sinopac.Observer{
		ReconcileStart: func(ctx context.Context, p sinopac.ReconcileInfo) context.Context {
			return context.WithValue(ctx, checkKey{}, p)
		},
		ReconcileEnd: func(ctx context.Context, d sinopac.ReconcileDone) {
			rs.mu.Lock()
			if ctx.Value(checkKey{}) == d.ReconcileInfo {
				rs.ends = append(rs.ends, d)
			}
			rs.mu.Unlock()
			select {
			case rs.ended <- struct{}{}:
			default:
			}
		},
		CallStart: func(ctx context.Context, c sinopac.CallInfo) context.Context {
			p, _ := ctx.Value(checkKey{}).(sinopac.ReconcileInfo)
			rs.mu.Lock()
			rs.calls = append(rs.calls, c.Service+map[bool]string{true: " in a check", false: " outside"}[p.Check])
			rs.mu.Unlock()
			return nil
		},
	}
}

// River's reconciler reports each check as a pass of one order, with its
// lookup and its committed event, and each periodic run as a pass per
// shop with the backlog measured from River's job table.
func TestReconcilerReportsChecksAndBacklog(t *testing.T) {
	t.Parallel()
	pool, schema := pgSchema(t)
	migrate(t, pool, schema)
	ctx := t.Context()
	sim := qpaytest.NewServer()
	defer sim.Close()
	rs := &reports{ended: make(chan struct{}, 1)}
	c, err := sim.NewClient(sinopac.WithObserver(rs.observer()))
	require.NoError(t, err)
	now := time.Now().In(sinopac.Taipei)
	created := now.Add(-time.Hour)
	paid := sinopac.Order{OrderNo: "PAID", TSNo: "TS1", TSDate: sinopac.At(created), Amount: sinopac.TWD(500),
		PayType: sinopac.PayTypeATM, PayStatus: "1A400", PayDate: sinopac.At(created.Add(time.Minute)), RefundFlag: "N"}
	expired := paid
	expired.OrderNo, expired.TSNo, expired.PayStatus, expired.PayDate = "EXPIRED", "TS2", "1A250", sinopac.Timestamp{}
	sim.AddOrders(paid, expired)

	r, err := riverpg.New(pool, reconcile.SingleShop(c), func(context.Context, pgx.Tx, reconcile.Event) error { return nil },
		riverpg.WithSchema(schema), riverpg.WithSchedule(time.Millisecond, time.Hour),
		riverpg.WithRangeQueries(0, time.Hour, 200*time.Millisecond),
		riverpg.WithRiverConfig(func(cfg *river.Config) {
			cfg.FetchPollInterval, cfg.FetchCooldown = 50*time.Millisecond, 10*time.Millisecond
			cfg.TestOnly = true
		}))
	require.NoError(t, err)
	track := func(no string, created time.Time, first time.Time) {
		require.NoError(t, r.Track(ctx, reconcile.PendingOrder{ShopNo: shop, OrderNo: no, PayType: sinopac.PayTypeATM,
			CreatedAt: created, ExpiresAt: now.Add(24 * time.Hour), FirstCheck: first}))
	}
	track("PAID", created, time.Time{})
	track("EXPIRED", created, time.Time{})
	track("LATER", now.Add(-3*time.Hour), now.Add(time.Hour)) // not due during the test: always pending
	require.NoError(t, r.Start(ctx))
	defer func() { require.NoError(t, r.Stop(context.WithoutCancel(ctx))) }()

	// Until both checks are reported and a pass saw only LATER left.
	var checks, passes []sinopac.ReconcileDone
	timeout := time.After(30 * time.Second)
	for {
		rs.mu.Lock()
		checks, passes = nil, nil
		for _, d := range rs.ends {
			if d.Check {
				checks = append(checks, d)
			} else {
				passes = append(passes, d)
			}
		}
		rs.mu.Unlock()
		if len(checks) == 2 && len(passes) > 0 && passes[len(passes)-1].Pending == 1 {
			break
		}
		select {
		case <-rs.ended:
		case <-timeout:
			t.Fatalf("checks %+v, passes %+v", checks, passes)
		}
	}
	kinds := map[string]int{}
	for _, d := range checks {
		assert.Equal(t, sinopac.ReconcileInfo{ShopNo: shop, Check: true}, d.ReconcileInfo)
		assert.Equal(t, 1, d.Checked)
		assert.Equal(t, 1, d.Queries)
		assert.Zero(t, d.Failed)
		assert.False(t, d.Backlog, "a check measures no backlog")
		assert.Equal(t, sinopac.ErrorClassNone, d.Class)
		for k, n := range d.Events {
			kinds[k] += n
		}
	}
	assert.Equal(t, map[string]int{"paid": 1, "expired": 1}, kinds)
	last := passes[len(passes)-1]
	assert.Equal(t, sinopac.ReconcileInfo{ShopNo: shop}, last.ReconcileInfo)
	assert.True(t, last.Backlog)
	assert.Zero(t, last.Queries, "range queries are off")
	assert.Empty(t, last.Events)
	assert.GreaterOrEqual(t, last.OldestPending, 3*time.Hour, "LATER's age, at the database's clock")
	assert.Less(t, last.OldestPending, 3*time.Hour+time.Minute)
	for _, p := range passes {
		assert.True(t, p.Backlog)
		assert.Contains(t, []int{1, 2, 3}, p.Pending)
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	assert.Equal(t, []string{"OrderQuery in a check", "OrderQuery in a check"}, rs.calls)
}
