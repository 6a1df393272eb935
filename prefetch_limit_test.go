package sinopac

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func prefetchBank(t *testing.T) *mockBank {
	b := newMockBank(t)
	b.onOrder(func(recorded) *http.Response {
		return b.replyJSON("OrderQuery", `{"ShopNo":"`+testShop+`","Status":"S","Description":"S0000","OrderList":[{"OrderNo":"A1","Amount":100}]}`)
	})
	return b
}

func (b *mockBank) nonceCount() int {
	n, _ := b.counts()
	return n
}

// With a rate limit of exactly the call's own two requests (and no refill
// to speak of), prefetching must not take the Order POST's turn: the call
// completes at once and no nonce is fetched ahead. Before, the refill
// raced the Order POST for the turn and the call waited for the limiter.
func TestNoncePrefetchWithRateLimitNeverDelaysACall(t *testing.T) {
	t.Parallel()
	b := prefetchBank(t)
	c := b.client(WithNoncePrefetch(4), WithRateLimit(0.001, 2))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := c.QueryOrders(ctx, QueryConditions{OrderNo: "A1"})
	require.NoError(t, err, "the Order POST had its turn before any prefetch")
	assert.Equal(t, 1, b.nonceCount(), "no turn was free for a prefetch, so none was fetched")
	assert.Len(t, b.orders(), 1)
}

// With a rate limit and turns to spare, one call at a time keeps one
// nonce ahead, not the pool's size: five calls fetch six nonces (one for
// the first call, one ahead after each), where filling the pool fetched
// nine and left four to expire.
func TestNoncePrefetchWithRateLimitFetchesWhatCallsUse(t *testing.T) {
	t.Parallel()
	b := prefetchBank(t)
	c := b.client(WithNoncePrefetch(4), WithRateLimit(1000, 100))
	for range 5 {
		_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
		require.NoError(t, err)
	}
	assert.Equal(t, 6, b.nonceCount())
	c.nonces.mu.Lock()
	defer c.nonces.mu.Unlock()
	assert.Len(t, c.nonces.free, 1, "one ahead for the next call")
}
