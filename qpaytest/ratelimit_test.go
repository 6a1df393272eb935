package qpaytest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// Past its burst the gateway answers 429 with Retry-After, before any
// QPay processing: the refused request is counted, uses no nonce and
// reaches no service.
func TestWithRateLimit(t *testing.T) {
	t.Parallel()
	// A bucket of 2 that refills once in 1000 s: the test never sees a refill.
	s := newServer(t, qpaytest.WithRateLimit(0.001, 2))
	c, err := s.NewClient(sinopac.WithRetryPolicy(sinopac.NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "X1"}); err != nil {
		t.Fatalf("first query (Nonce + Order = the burst of 2): %v", err)
	}
	_, err = c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "X1"})
	var ge *sinopac.GatewayError
	if !errors.As(err, &ge) || ge.StatusCode != http.StatusTooManyRequests || ge.Service != "Nonce" || ge.RetryAfter != 1000*time.Second {
		t.Fatalf("second query: %v (%+v)", err, ge)
	}
	st := s.Stats()
	if st.RateLimited != 1 || st.Requests["OrderQuery"] != 1 || st.Requests["Nonce"] != 1 || st.NoncesIssued != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// Without the option nothing is refused, however fast.
func TestNoRateLimitByDefault(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c, err := s.NewClient(sinopac.WithRetryPolicy(sinopac.NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "X1"}); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.RateLimited != 0 || st.Requests["OrderQuery"] != 10 {
		t.Fatalf("stats %+v", st)
	}
}
