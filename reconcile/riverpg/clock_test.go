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

// aheadClock is the clock of a replica that runs 3 minutes fast.
type aheadClock struct{}

func (aheadClock) Now() time.Time { return time.Now().Add(3 * time.Minute) }

func (c aheadClock) NowOrNil() *time.Time { t := c.Now(); return &t }

// A replica whose clock runs 3 minutes ahead neither gives up early nor
// checks before the schedule: decisions follow the database's clock.
func TestReplicaClockAheadDoesNotGiveUpEarly(t *testing.T) {
	t.Parallel()
	pool, schema := pgSchema(t)
	migrate(t, pool, schema)
	ctx := t.Context()
	sim := qpaytest.NewServer()
	defer sim.Close()
	c, err := sim.NewClient()
	require.NoError(t, err)
	now := time.Now().In(sinopac.Taipei)
	sim.AddOrders(sinopac.Order{OrderNo: "SKEW", TSNo: "TS1", TSDate: sinopac.At(now), Amount: sinopac.TWD(100),
		PayType: sinopac.PayTypeATM, PayStatus: "1A200", RefundFlag: "N"})

	var mu sync.Mutex
	var events []reconcile.Event
	handle := func(_ context.Context, _ pgx.Tx, e reconcile.Event) error {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		return nil
	}
	r, err := riverpg.New(pool, reconcile.SingleShop(c), handle, riverpg.WithSchema(schema),
		riverpg.WithSchedule(time.Millisecond, 500*time.Millisecond), riverpg.WithGrace(time.Second),
		riverpg.WithRangeQueries(0, time.Hour, time.Second),
		riverpg.WithRiverConfig(func(cfg *river.Config) {
			cfg.FetchPollInterval, cfg.FetchCooldown = 50*time.Millisecond, 10*time.Millisecond
			cfg.Test.Time = aheadClock{}
			cfg.TestOnly = true
		}))
	require.NoError(t, err)
	o := reconcile.PendingOrder{ShopNo: shop, OrderNo: "SKEW", CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(2 * time.Second)}
	require.NoError(t, r.Track(ctx, o))
	completed, cancel := r.River().Subscribe(river.EventKindJobCompleted)
	defer cancel()
	done := make(chan struct{})
	go func() {
		for ev := range completed {
			if ev.Job.Kind == riverpg.OrderKind { // not the periodic pass
				close(done)
				return
			}
		}
	}()
	require.NoError(t, r.Start(ctx))
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the order was never given up")
	}
	require.NoError(t, r.Stop(ctx))

	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(events), 2, "checked (pending) before it was given up")
	last := events[len(events)-1]
	assert.Equal(t, reconcile.GaveUp, last.Kind)
	deadline := r.Policy().Deadline(o)
	assert.False(t, last.CheckedAt.Before(deadline), "given up at %s, before the deadline %s", last.CheckedAt, deadline)
	assert.Less(t, last.CheckedAt.Sub(deadline), 30*time.Second, "and not 3 minutes late either")
	for _, e := range events[:len(events)-1] {
		assert.Equal(t, reconcile.StillPending, e.Kind)
		assert.True(t, e.CheckedAt.Before(deadline))
	}
	for i := 1; i < len(events); i++ {
		assert.GreaterOrEqual(t, events[i].CheckedAt.Sub(events[i-1].CheckedAt), 400*time.Millisecond,
			"checks follow the schedule at the database's clock")
	}
}
