package riverpg_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/funbiz-go/sinopac/reconcile/riverpg"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const shop = qpaytest.DemoShopNo

func migrate(t *testing.T, pool *pgxpool.Pool, schema string) {
	t.Helper()
	_, err := riverpg.Migrate(t.Context(), pool, schema)
	require.NoError(t, err)
}

func discard(context.Context, pgx.Tx, reconcile.Event) error { return nil }

// Replicas starting together all migrate; a second run applies nothing.
func TestMigrate(t *testing.T) {
	t.Parallel()
	pool, schema := pgSchema(t)
	var wg sync.WaitGroup
	var applied atomic.Int64
	for range 3 {
		wg.Go(func() {
			v, err := riverpg.Migrate(t.Context(), pool, schema)
			assert.NoError(t, err)
			applied.Add(int64(len(v)))
		})
	}
	wg.Wait()
	assert.Positive(t, applied.Load(), "River's migrations ran once")
	v, err := riverpg.Migrate(t.Context(), pool, schema)
	require.NoError(t, err)
	assert.Empty(t, v)
	_, err = riverpg.Migrate(t.Context(), pool, "Bad-Schema")
	require.Error(t, err)
}

// TrackTx inside a rolled-back transaction tracks nothing; inside a
// committed one the order is tracked, once however often it is tracked.
func TestTrackTx(t *testing.T) {
	t.Parallel()
	pool, schema := pgSchema(t)
	migrate(t, pool, schema)
	sim := qpaytest.NewServer()
	defer sim.Close()
	c, err := sim.NewClient()
	require.NoError(t, err)
	r, err := riverpg.New(pool, reconcile.SingleShop(c), discard, riverpg.WithSchema(schema))
	require.NoError(t, err)
	ctx := t.Context()
	_, err = pool.Exec(ctx, `CREATE TABLE `+schema+`.shop_orders (order_no TEXT PRIMARY KEY)`)
	require.NoError(t, err)

	created := time.Date(2026, 11, 2, 10, 0, 0, 0, sinopac.Taipei)
	order := func(no string) reconcile.PendingOrder {
		return reconcile.PendingOrder{ShopNo: shop, OrderNo: no, PayType: sinopac.PayTypeATM, Amount: sinopac.TWD(100), CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
	}
	create := func(no string, commit bool) {
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		_, err = tx.Exec(ctx, `INSERT INTO `+schema+`.shop_orders VALUES ($1)`, no)
		require.NoError(t, err)
		require.NoError(t, r.TrackTx(ctx, tx, order(no)))
		if commit {
			require.NoError(t, tx.Commit(ctx))
		}
	}
	create("ROLLED-BACK", false)
	create("COMMITTED", true)
	require.NoError(t, r.Track(ctx, order("COMMITTED")), "tracking again changes nothing")
	bad := order("X")
	bad.ShopNo = ""
	var ve *sinopac.ValidationError
	require.ErrorAs(t, r.Track(ctx, bad), &ve)
	assert.Equal(t, "ShopNo", ve.Field)

	list, err := r.List(ctx, false)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, order("COMMITTED"), list[0].PendingOrder)
	assert.Equal(t, created.Add(10*time.Minute), list[0].NextCheck, "the first wait of the schedule")
	assert.False(t, list[0].Done)
}

// One process, one shop: every outcome ends in its final event, applied in
// the handler's transaction together with the job's completion; a handler
// error rolls back and the check is made again.
func TestReconcilerOutcomes(t *testing.T) {
	t.Parallel()
	pool, schema := pgSchema(t)
	migrate(t, pool, schema)
	ctx := t.Context()
	_, err := pool.Exec(ctx, `CREATE TABLE `+schema+`.applied (key TEXT PRIMARY KEY, kind TEXT NOT NULL)`)
	require.NoError(t, err)

	sim := qpaytest.NewServer(qpaytest.WithRateLimit(20, 4))
	defer sim.Close()
	c, err := sim.NewClient()
	require.NoError(t, err)
	now := time.Now().In(sinopac.Taipei)
	created := now.Add(-time.Hour)
	book := func(no, status string) {
		o := sinopac.Order{OrderNo: no, TSNo: "TS" + no, TSDate: sinopac.At(created), Amount: sinopac.TWD(500),
			PayType: sinopac.PayTypeATM, PayStatus: sinopac.PayStatus(status), RefundFlag: "N"}
		if sinopac.PayStatus(status).Paid() {
			o.PayDate = sinopac.At(created.Add(time.Minute))
		}
		sim.AddOrders(o)
	}
	book("PAID", "1A400")
	book("EXPIRED", "1A250")
	book("WAITING", "1A200") // never resolved: given up

	var failOnce atomic.Bool
	failOnce.Store(true)
	var events sync.Map
	handle := func(ctx context.Context, tx pgx.Tx, e reconcile.Event) error {
		if _, err := tx.Exec(ctx, `INSERT INTO `+schema+`.applied VALUES ($1, $2)`, e.Key, string(e.Kind)); err != nil {
			return err
		}
		if e.OrderNo == "PAID" && failOnce.CompareAndSwap(true, false) {
			return errors.New("ledger down") // rolls the insert back
		}
		events.Store(e.Key, e)
		return nil
	}
	done := make(chan struct{})
	var finished atomic.Int64
	r, err := riverpg.New(pool, reconcile.SingleShop(c), handle, riverpg.WithSchema(schema),
		riverpg.WithSchedule(time.Millisecond, 300*time.Millisecond), riverpg.WithGrace(time.Second),
		riverpg.WithRangeQueries(2, time.Hour, 200*time.Millisecond), riverpg.WithShopRate(10),
		riverpg.WithRiverConfig(func(cfg *river.Config) {
			cfg.FetchPollInterval, cfg.FetchCooldown = 50*time.Millisecond, 10*time.Millisecond
			cfg.RetryPolicy = fastRetry{}
			cfg.TestOnly = true
		}))
	require.NoError(t, err)
	sub, cancelSub := r.River().Subscribe(river.EventKindJobCompleted)
	defer cancelSub()
	go func() {
		for ev := range sub {
			if ev.Job.Kind == riverpg.OrderKind && finished.Add(1) == 4 {
				close(done)
			}
		}
	}()
	for _, no := range []string{"PAID", "EXPIRED", "WAITING", "NOWHERE"} {
		exp := now.Add(time.Hour)
		if no == "WAITING" || no == "NOWHERE" {
			exp = now.Add(time.Second)
		}
		require.NoError(t, r.Track(ctx, reconcile.PendingOrder{ShopNo: shop, OrderNo: no, PayType: sinopac.PayTypeATM, CreatedAt: created, ExpiresAt: exp}))
	}
	require.NoError(t, r.Start(ctx))
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("not every order finished")
	}
	require.NoError(t, r.Stop(ctx))

	rows, err := pool.Query(ctx, `SELECT key, kind FROM `+schema+`.applied WHERE kind <> 'pending' ORDER BY key`)
	require.NoError(t, err)
	final, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Key, Kind string }])
	require.NoError(t, err)
	assert.Equal(t, []struct{ Key, Kind string }{
		{shop + "/EXPIRED/expired", "expired"}, {shop + "/NOWHERE/gave_up", "gave_up"},
		{shop + "/PAID/paid", "paid"}, {shop + "/WAITING/gave_up", "gave_up"},
	}, final, "each final event applied once; the failed attempt left nothing")
	list, err := r.List(ctx, false)
	require.NoError(t, err)
	require.Len(t, list, 4)
	for _, e := range list {
		assert.True(t, e.Done, e.OrderNo)
		assert.Positive(t, e.Attempts)
	}
	assert.Zero(t, sim.Stats().RateLimited)
}

// fastRetry retries a failed check after 100 ms (tests).
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(100 * time.Millisecond)
}
