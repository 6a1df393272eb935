package sinopac

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// countingFetch issues "N1", "N2", … and can be told to fail.
type countingFetch struct {
	n    atomic.Int64
	fail atomic.Bool
}

func (f *countingFetch) fetch(ctx context.Context) (string, error) {
	if f.fail.Load() {
		return "", errors.New("down")
	}
	return fmt.Sprintf("N%d", f.n.Add(1)), ctx.Err()
}

func TestNoncePoolHandsEachOutOnce(t *testing.T) {
	t.Parallel()
	var f countingFetch
	p := &noncePool{size: 16, now: time.Now, fetch: f.fetch}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				p.fill(context.Background())
				if n, ok := p.take(); ok {
					mu.Lock()
					seen[n]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for n, c := range seen {
		if c != 1 {
			t.Fatalf("nonce %s handed out %d times", n, c)
		}
	}
	assert.Greater(t, len(seen), 100, "the pool was used")
	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Zero(t, p.inflight, "every fetch accounted for")
	assert.LessOrEqual(t, len(p.free), p.size)
	assert.Equal(t, int(f.n.Load()), len(seen)+len(p.free), "no fetched nonce lost or duplicated")
}

func TestNoncePoolDropsExpired(t *testing.T) {
	t.Parallel()
	var f countingFetch
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	p := &noncePool{size: 3, now: func() time.Time { return *clock.Load() }, fetch: f.fetch}
	// fill fetches concurrently: the pool's order is the order the
	// fetches finished in, so only membership and single use are fixed.
	p.fill(t.Context())
	first, ok := p.take()
	require.True(t, ok)
	assert.Contains(t, []string{"N1", "N2", "N3"}, first)

	later := now.Add(NonceMaxAge - time.Second)
	clock.Store(&later)
	second, ok := p.take()
	require.True(t, ok, "still fresh")
	assert.Contains(t, []string{"N1", "N2", "N3"}, second)
	assert.NotEqual(t, first, second, "each nonce handed out once")

	expired := now.Add(NonceMaxAge)
	clock.Store(&expired)
	_, ok = p.take()
	assert.False(t, ok, "the third is too old to use")
	p.mu.Lock()
	assert.Empty(t, p.free, "dropped, not kept")
	p.mu.Unlock()

	p.fill(t.Context())
	n, ok := p.take()
	require.True(t, ok)
	assert.Contains(t, []string{"N4", "N5", "N6"}, n, "a fresh fetch after the old ones expired")
	assert.Less(t, NonceMaxAge, 60*time.Second, "the bank honours a nonce for 60 s")
}

func TestNoncePoolFailuresAndCancel(t *testing.T) {
	t.Parallel()
	var f countingFetch
	f.fail.Store(true)
	p := &noncePool{size: 4, now: time.Now, fetch: f.fetch}
	p.fill(t.Context())
	_, ok := p.take()
	assert.False(t, ok, "failed fetches leave nothing behind")
	f.fail.Store(false)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p.fill(ctx)
	_, ok = p.take()
	assert.False(t, ok, "a cancelled call's fetches are not pooled")
	p.mu.Lock()
	assert.Zero(t, p.inflight)
	p.mu.Unlock()
}

// Not parallel: it checks that no goroutine outlives a call that uses the
// pool, which needs a quiet process.
func TestNoncePrefetchNoGoroutineOutlivesCall(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	b := newMockBank(t)
	c := b.client(WithNoncePrefetch(3), WithRetryPolicy(fastRetry))
	for range 5 {
		_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
		require.NoError(t, err)
	}
	goleak.VerifyNone(t, ignore)
	nonces, orders := b.counts()
	assert.Equal(t, 5, orders)
	// First call: one nonce for itself and three for the pool; then each
	// call takes one from the pool and the pool is topped up.
	assert.Equal(t, 5+3, nonces)
	assert.Zero(t, b.reusedNonces())
}

// With the pool's clock moved past NonceMaxAge the client fetches anew
// instead of presenting an old nonce.
func TestNoncePrefetchSkipsOldNonces(t *testing.T) {
	t.Parallel()
	b := newMockBank(t)
	c := b.client(WithNoncePrefetch(2), WithRetryPolicy(NoRetry()))
	var offset atomic.Int64
	c.nonces.now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
	require.NoError(t, err)
	offset.Store(int64(NonceMaxAge)) // the pooled two are now too old
	before, _ := b.counts()
	_, err = c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
	require.NoError(t, err)
	after, _ := b.counts()
	assert.Equal(t, before+1+2, after, "one fetched for the call, the pool refilled with two")
}

// When the bank refuses a pooled nonce (E3001–E3003: it restarted, the IP
// changed, the clocks disagree), the rest of the pool came from the same
// time and is dropped, so the retry fetches a fresh nonce instead of
// spending its attempts on stale ones.
func TestNoncePrefetchDropsPoolOnNonceError(t *testing.T) {
	t.Parallel()
	b := newMockBank(t)
	c := b.client(WithNoncePrefetch(3), WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
	require.NoError(t, err)
	c.nonces.mu.Lock()
	require.Len(t, c.nonces.free, 3)
	c.nonces.mu.Unlock()

	b.forgetNonces()
	_, err = c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
	require.NoError(t, err, "the retry used a fresh nonce")
	_, orders := b.counts()
	assert.Equal(t, 1+2, orders)
}
