package reconcile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/reconcile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pending(no string, created time.Time) reconcile.PendingOrder {
	return reconcile.PendingOrder{ShopNo: shop, OrderNo: no, PayType: sinopac.PayTypeATM, Amount: sinopac.TWD(100), CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
}

func keys(nos ...string) []reconcile.OrderKey {
	out := make([]reconcile.OrderKey, len(nos))
	for i, no := range nos {
		out[i] = key(no)
	}
	return out
}

// testStore is what every Store must do.
func testStore(t *testing.T, s reconcile.Store) {
	ctx := t.Context()
	now := t0.Add(time.Hour)
	for i := range 5 {
		require.NoError(t, s.Add(ctx, pending(fmt.Sprintf("S%d", i), t0), t0.Add(time.Duration(i)*time.Minute)))
	}
	require.NoError(t, s.Add(ctx, pending("LATER", t0), now.Add(time.Minute)))
	require.NoError(t, s.Add(ctx, pending("S0", t0.Add(time.Hour)), now.Add(time.Hour)), "Add of a tracked order is a no-op")
	other := pending("S0", t0)
	other.ShopNo = "OTHER_SHOP"
	require.NoError(t, s.Add(ctx, other, now.Add(time.Hour)), "the same OrderNo in another shop is another order")

	e, err := s.Get(ctx, key("S0"))
	require.NoError(t, err)
	assert.Equal(t, reconcile.Entry{PendingOrder: pending("S0", t0), NextCheck: t0}, e)
	e, err = s.Get(ctx, other.Key())
	require.NoError(t, err)
	assert.Equal(t, now.Add(time.Hour), e.NextCheck)
	_, err = s.Get(ctx, key("NOPE"))
	require.ErrorIs(t, err, reconcile.ErrNotTracked)

	a, err := s.Claim(ctx, "A", now, time.Minute, 3)
	require.NoError(t, err)
	require.Len(t, a, 3)
	assert.Equal(t, []string{"S0", "S1", "S2"}, orderNos(a), "earliest due first")
	b, err := s.Claim(ctx, "B", now, time.Minute, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"S3", "S4"}, orderNos(b), "leased and not-yet-due orders are not claimed")

	require.ErrorIs(t, s.Finish(ctx, "B", key("S0"), 1, reconcile.Paid, now), reconcile.ErrLeaseLost, "only the owner writes")
	require.NoError(t, s.Finish(ctx, "A", key("S0"), 1, reconcile.Paid, now))
	require.NoError(t, s.Reschedule(ctx, "A", key("S1"), 1, now.Add(30*time.Minute)))
	require.NoError(t, s.Release(ctx, "B", keys("S3")))
	e, err = s.Get(ctx, key("S0"))
	require.NoError(t, err)
	assert.True(t, e.Done)
	assert.Equal(t, reconcile.Paid, e.Outcome)
	assert.Equal(t, now, e.DoneAt)
	e, err = s.Get(ctx, key("S1"))
	require.NoError(t, err)
	assert.Equal(t, 1, e.Attempts)
	assert.Equal(t, now.Add(30*time.Minute), e.NextCheck)

	c, err := s.Claim(ctx, "C", now, time.Minute, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"S3"}, orderNos(c), "released orders are claimable at once")

	// B extends its lease on S4 (and on nothing it does not hold);
	// A's lease on S2 runs out: C takes it, A's late write is refused.
	held, err := s.Extend(ctx, "B", keys("S4", "S3", "S0"), now.Add(30*time.Second), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, keys("S4"), held)
	c, err = s.Claim(ctx, "C", now.Add(time.Minute), time.Minute, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"LATER", "S2", "S3"}, sortedNos(c), "leases that ran out, C's own included; not B's extended one")
	held, err = s.Extend(ctx, "A", keys("S2"), now.Add(time.Minute), time.Minute)
	require.NoError(t, err)
	assert.Empty(t, held, "a lease taken over is not A's to extend")
	require.ErrorIs(t, s.Reschedule(ctx, "A", key("S2"), 1, now), reconcile.ErrLeaseLost)
	require.NoError(t, s.Finish(ctx, "C", key("S2"), 1, reconcile.Expired, now))
	require.ErrorIs(t, s.Finish(ctx, "C", key("S2"), 1, reconcile.Expired, now), reconcile.ErrLeaseLost, "done is done")

	all, err := s.List(ctx, false)
	require.NoError(t, err)
	require.Len(t, all, 7)
	assert.False(t, all[0].Done)
	assert.True(t, all[len(all)-1].Done)
	open, err := s.List(ctx, true)
	require.NoError(t, err)
	assert.Len(t, open, 5)
	assert.True(t, slices.IsSortedFunc(open, func(a, b reconcile.Entry) int { return a.NextCheck.Compare(b.NextCheck) }))

	// The backlog counts pending entries only (S0 and S2 are done), per
	// shop, with the earliest CreatedAt.
	early := pending("EARLY", t0.Add(-time.Hour))
	early.ShopNo = "OTHER_SHOP"
	require.NoError(t, s.Add(ctx, early, now))
	backlog, err := s.Backlog(ctx)
	require.NoError(t, err)
	assert.Equal(t, []reconcile.Backlog{{ShopNo: shop, Pending: 4, Oldest: t0}, {ShopNo: "OTHER_SHOP", Pending: 2, Oldest: t0.Add(-time.Hour)}}, backlog)
}

func orderNos(es []reconcile.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.OrderNo
	}
	return out
}

func sortedNos(es []reconcile.Entry) []string {
	out := orderNos(es)
	slices.Sort(out)
	return out
}

func TestSQLiteStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dir with space", "s.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	s := openSQLite(t, path)
	testStore(t, s)
	var mode string
	require.NoError(t, s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)

	// State survives a reopen.
	require.NoError(t, s.Close())
	s2 := openSQLite(t, path)
	e, err := s2.Get(t.Context(), key("S0"))
	require.NoError(t, err)
	assert.Equal(t, reconcile.Paid, e.Outcome)
	_, err = reconcile.OpenSQLite("")
	require.Error(t, err)
}

// A file of the previous layout (no shop_no) is refused, not misread.
func TestSQLiteOldLayoutRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	s := openSQLite(t, path)
	_, err := s.DB().Exec(`DROP TABLE ` + reconcile.Table + `; CREATE TABLE ` + reconcile.Table + ` (order_no TEXT PRIMARY KEY, next_check BIGINT)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = reconcile.OpenSQLite(path)
	require.ErrorContains(t, err, "without shop_no")
}
