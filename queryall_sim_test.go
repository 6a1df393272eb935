package sinopac_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"testing"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pageMeter is an http.RoundTripper that opens every OrderQuery reply (it
// knows the keys) and records the size of its OrderList.
type pageMeter struct {
	hashID string
	mu     sync.Mutex
	sizes  []int
}

func (p *pageMeter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.HasSuffix([]byte(req.URL.Path), []byte("/Order")) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var env sinopac.APIMessage
	if json.Unmarshal(body, &env) == nil && env.APIService == "OrderQuery" {
		if plain, err := env.Open(p.hashID); err == nil {
			var r struct{ OrderList []json.RawMessage }
			if json.Unmarshal(plain, &r) == nil {
				p.mu.Lock()
				p.sizes = append(p.sizes, len(r.OrderList))
				p.mu.Unlock()
			}
		}
	}
	return resp, nil
}

func TestQueryAllOrdersAgainstSimulator(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1000, 10000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			sim := qpaytest.NewServer()
			defer sim.Close()
			sim.AddOrders(spreadOrders(n, uint64(n)+1)...)
			hashID, err := sim.Keys().HashID()
			require.NoError(t, err)
			meter := &pageMeter{hashID: hashID}
			c, err := sim.NewClient(sinopac.WithHTTPClient(&http.Client{Transport: meter}))
			require.NoError(t, err)

			got, err := c.QueryAllOrders(t.Context(), octoberQuery())
			require.NoError(t, err)
			require.Equal(t, keysOf(sim.Orders()), keysOf(got), "exactly the simulator's set")
			calls := sim.Stats().Requests["OrderQuery"]
			require.Len(t, meter.sizes, calls)
			for _, s := range meter.sizes {
				require.LessOrEqual(t, s, sinopac.MaxOrdersPerQuery)
			}
			minCalls := math.Ceil(float64(n) / sinopac.MaxOrdersPerQuery)
			ratio := float64(calls) / minCalls
			t.Logf("qpaytest N=%d: %d OrderQuery calls, minimum %.0f, ratio %.2f", n, calls, minCalls, ratio)
			// qpaytest returns the earliest 300: 5 calls at 1,000 (one
			// spare allowed), 1.18–1.24× measured at 10,000.
			assert.LessOrEqual(t, ratio, map[int]float64{1000: 1.5, 10000: 1.3}[n])
			assert.Zero(t, sim.Stats().NoncesReused)
		})
	}
}

func TestQueryAllOrdersDemoMonth(t *testing.T) {
	t.Parallel()
	sim := qpaytest.NewServer(qpaytest.WithDemoData())
	defer sim.Close()
	c, err := sim.NewClient()
	require.NoError(t, err)
	q := octoberQuery()
	got, err := c.QueryAllOrders(t.Context(), q)
	require.NoError(t, err)
	var want []sinopac.Order
	for _, o := range sim.Orders() {
		if q.Match(&o) && o.PayType != sinopac.PayTypeWallet {
			want = append(want, o)
		}
	}
	require.Len(t, want, qpaytest.DemoMonthOrders)
	assert.Equal(t, keysOf(want), keysOf(got))
	assert.Equal(t, 1, sim.Stats().Requests["OrderQuery"], "200 orders fit one page")
}
