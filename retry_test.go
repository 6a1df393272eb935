package sinopac

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func status503() *reply {
	return httpStatus(http.StatusServiceUnavailable, "<html><body>503 Service Unavailable</body></html>")
}

func TestRetryNonce503ThenSucceedsWithDefaultPolicy(t *testing.T) {
	t.Parallel()
	const failures = 3 // DefaultRetryPolicy has 4 attempts
	b := newMockBank(t).replyNonce(func(req recorded) *reply {
		if req.N <= failures {
			return status503()
		}
		return nil
	})
	c := b.client(WithRetryPolicy(DefaultRetryPolicy()))
	r, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A202110507397"})
	require.NoError(t, err)
	require.Len(t, r.OrderList, 1)
	assert.Equal(t, TWD(799), r.OrderList[0].Amount)
	nonces, orders := b.counts()
	assert.Equal(t, failures+1, nonces, "one nonce request per attempt")
	assert.Equal(t, 1, orders)

	// The waits grow: each at least half its nominal value (jitter).
	at := b.arrivals()
	for i := 1; i < failures; i++ {
		nominal := DefaultRetryPolicy().MinBackoff << (i - 1)
		assert.GreaterOrEqual(t, at[i].Sub(at[i-1]), nominal/2, "wait %d", i)
	}
}

func TestRetryFailingForeverEndsWithinBound(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		policy RetryPolicy
		delay  time.Duration // each failing answer takes this long
		// bound is what the policy documents: MaxElapsed plus the attempt
		// in flight, or the sum of the (maximal) waits when attempts run out.
		bound    time.Duration
		attempts int // 0: not checked
	}{
		"default policy, attempts run out": {
			policy: DefaultRetryPolicy(),
			bound:  250*time.Millisecond + 500*time.Millisecond + time.Second, attempts: 4,
		},
		"MaxElapsed ends it": {
			policy: RetryPolicy{MaxAttempts: 1000, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaxElapsed: 300 * time.Millisecond},
			bound:  300 * time.Millisecond,
		},
		"MaxElapsed with slow failures": {
			policy: RetryPolicy{MaxAttempts: 1000, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaxElapsed: 300 * time.Millisecond},
			delay:  100 * time.Millisecond,
			bound:  300*time.Millisecond + 100*time.Millisecond,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newMockBank(t).replyNonce(func(recorded) *reply { return status503().after(tc.delay) })
			c := b.client(WithRetryPolicy(tc.policy))
			start := time.Now()
			_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
			elapsed := time.Since(start)
			var ge *GatewayError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, http.StatusServiceUnavailable, ge.StatusCode)
			assert.Equal(t, "Nonce", ge.Service)
			assert.LessOrEqual(t, elapsed, tc.bound+250*time.Millisecond, "slack covers scheduling under -race on a busy machine")
			nonces, orders := b.counts()
			assert.Zero(t, orders)
			if tc.attempts > 0 {
				assert.Equal(t, tc.attempts, nonces)
			} else {
				assert.Greater(t, nonces, 2, "it did retry")
			}
		})
	}
}

// Not parallel: it measures a 100 ms bound, which CPU starvation from the
// package's parallel tests (120 goroutines under -race) could break on two
// cores whatever the SDK does.
func TestRetryCancelMidBackoffReturnsPromptly(t *testing.T) {
	for _, where := range []string{"backoff", "request", "retry-after"} {
		t.Run(where, func(t *testing.T) {
			first := make(chan struct{}, 1)
			b := newMockBank(t).replyNonce(func(recorded) *reply {
				select {
				case first <- struct{}{}:
				default:
				}
				switch where {
				case "request":
					return httpStatus(503, "").after(10 * time.Second)
				case "retry-after":
					return httpStatus(429, "").withHeader("Retry-After", "30")
				}
				return status503()
			})
			c := b.client(WithRetryPolicy(RetryPolicy{MaxAttempts: 5, MinBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second, MaxElapsed: time.Minute}))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cancelled := make(chan time.Time, 1)
			go func() {
				<-first
				time.Sleep(50 * time.Millisecond) // now in the wait (or the request)
				cancelled <- time.Now()
				cancel()
			}()
			_, err := c.QueryOrders(ctx, QueryConditions{OrderNo: "A1"})
			after := time.Since(<-cancelled)
			require.Error(t, err)
			assert.ErrorIs(t, err, context.Canceled)
			var ne *NetworkError
			assert.ErrorAs(t, err, &ne)
			assert.LessOrEqual(t, after, 100*time.Millisecond)
			nonces, _ := b.counts()
			assert.Equal(t, 1, nonces)
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	t.Run("waits at least Retry-After", func(t *testing.T) {
		t.Parallel()
		b := newMockBank(t).replyOrder(func(req recorded) *reply {
			if req.N == 1 {
				return httpStatus(http.StatusTooManyRequests, `{"statusCode":429,"message":"Rate limit is exceeded."}`).withHeader("Retry-After", "1")
			}
			return nil
		})
		c := b.client(WithRetryPolicy(fastRetry))
		_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
		require.NoError(t, err)
		at := b.arrivals() // nonce, order(429), nonce, order
		require.Len(t, at, 4)
		assert.GreaterOrEqual(t, at[2].Sub(at[1]), time.Second, "Retry-After: 1 outweighs a 5 ms backoff")
	})
	t.Run("longer than MaxElapsed ends the call", func(t *testing.T) {
		t.Parallel()
		b := newMockBank(t).replyOrder(func(recorded) *reply {
			return httpStatus(http.StatusServiceUnavailable, "").withHeader("Retry-After", "3600")
		})
		c := b.client(WithRetryPolicy(fastRetry))
		start := time.Now()
		_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
		var ge *GatewayError
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, time.Hour, ge.RetryAfter, "the caller learns when to come back")
		assert.Less(t, time.Since(start), time.Second)
		_, orders := b.counts()
		assert.Equal(t, 1, orders)
	})
	t.Run("HTTP date", func(t *testing.T) {
		t.Parallel()
		b := newMockBank(t).replyNonce(func(req recorded) *reply {
			if req.N == 1 {
				// Two seconds ahead at one-second resolution: at least one second's wait.
				when := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
				return httpStatus(http.StatusServiceUnavailable, "").withHeader("Retry-After", when)
			}
			return nil
		})
		c := b.client(WithRetryPolicy(fastRetry))
		_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
		require.NoError(t, err)
		at := b.arrivals()
		assert.GreaterOrEqual(t, at[1].Sub(at[0]), 900*time.Millisecond)
	})
}

func sealedF(code Code) *reply {
	return sealedReply(map[string]any{"ShopNo": testShop, "Status": "F", "Description": code + " – 失敗"})
}

func TestRetryNotOnPermanentFailures(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		reply *reply
		check func(t *testing.T, err error)
	}{
		"400":      {httpStatus(400, "Bad Request"), isGateway(400)},
		"401":      {httpStatus(401, `{"statusCode":401}`), isGateway(401)},
		"403":      {httpStatus(403, "<html>Forbidden</html>"), isGateway(403)},
		"404":      {httpStatus(404, ""), isGateway(404)},
		"499":      {httpStatus(499, `{"code":"9998"}`), isGateway(499)},
		"500":      {httpStatus(500, ""), isGateway(500)},
		"HTML 200": {httpStatus(200, "<html><body>maintenance</body></html>"), isGateway(200)},
		"forged Sign": {otherKeys(map[string]any{"Status": "S"}), func(t *testing.T, err error) {
			// Other keys: the padding or the Sign fails, never a result.
			assert.True(t, errors.Is(err, ErrSignatureMismatch) || errors.Is(err, ErrMalformedMessage), "%v", err)
		}},
		"E0000":       {sealedF(CodeBadSign), hasCode(CodeBadSign)},
		"E2101":       {sealedF(CodeNoCondition), hasCode(CodeNoCondition)},
		"E2199":       {sealedF(CodeQueryFailed), hasCode(CodeQueryFailed)},
		"E9999":       {sealedF(CodeSystem), hasCode(CodeSystem)},
		"plain E2101": {unsignedJSON(`{"Status":"F","Description":"E2101 – 訂單查詢條件不足"}`), hasCode(CodeNoCondition)},
		"garbled":     {unsignedJSON(`{"Version":"1.0.0","ShopNo":"NA0249_001","APIService":"OrderQuery","Sign":"AB","Nonce":"x","Message":"ZZ"}`), func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrMalformedMessage) }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newMockBank(t).replyOrder(func(recorded) *reply { return tc.reply })
			c := b.client(WithRetryPolicy(fastRetry))
			_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
			require.Error(t, err)
			tc.check(t, err)
			assert.False(t, Retryable(err))
			nonces, orders := b.counts()
			assert.Equal(t, 1, nonces)
			assert.Equal(t, 1, orders, "not retried")
		})
	}
	t.Run("validation", func(t *testing.T) {
		t.Parallel()
		b := newMockBank(t)
		c := b.client(WithRetryPolicy(fastRetry))
		_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "bad%"})
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.False(t, Retryable(err))
		nonces, orders := b.counts()
		assert.Zero(t, nonces+orders, "nothing sent")
	})
	t.Run("401 on Nonce", func(t *testing.T) {
		t.Parallel()
		b := newMockBank(t)
		c := b.client(WithRetryPolicy(fastRetry), WithKeyID("another-key"))
		_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
		isGateway(401)(t, err)
		recs := b.recorded()
		require.Len(t, recs, 1, "refused, and not retried")
		assert.Equal(t, "/Nonce", recs[0].Path)
		assert.Equal(t, "another-key", recs[0].Header.Get("X-KeyID"))
	})
}

func isGateway(status int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ge *GatewayError
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, status, ge.StatusCode)
	}
}

func hasCode(code Code) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, code, ae.Code)
	}
}

func TestRetryOnTransientFailures(t *testing.T) {
	t.Parallel()
	cases := map[string]*reply{
		"E9900 busy":        sealedF(CodeBusy),
		"M0001 maintenance": sealedF(CodeMaintenance),
		"E3001":             sealedF(CodeNonceError),
		"E3002":             sealedF(CodeNonceInvalid),
		"E3003":             sealedF(CodeNonceExpired),
		"plain E9900":       unsignedJSON(`{"Status":"F","Description":"E9900 – 系統忙碌中"}`),
		"429":               httpStatus(429, ""),
		"502":               httpStatus(502, "<html>Bad Gateway</html>"),
		"503":               httpStatus(503, ""),
		"504":               httpStatus(504, ""),
		"dropped":           hangUp(),
	}
	for name, first := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newMockBank(t).replyOrder(func(req recorded) *reply {
				if req.N == 1 {
					return first
				}
				return nil
			})
			c := b.client(WithRetryPolicy(fastRetry))
			r, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A202110507397"})
			require.NoError(t, err)
			require.Len(t, r.OrderList, 1)
			nonces, orders := b.counts()
			assert.Equal(t, 2, orders)
			assert.Equal(t, 2, nonces, "a fresh nonce per attempt")
			assert.Zero(t, b.reusedNonces())
		})
	}
}

// OrderCreate and OrderMaintain change state at the bank: resent only when
// the bank provably did not process the request.
func TestRetryCreateNotResentWhenMaybeSent(t *testing.T) {
	t.Parallel()
	payload := map[string]any{"ShopNo": testShop, "OrderNo": "C20261126001", "Amount": 50000, "CurrencyID": "TWD", "PrdtName": "測試", "PayType": "A",
		"ATMParam": map[string]any{"ExpireDate": "20261130"}}
	notResent := map[string]struct {
		first  *reply
		listen bool // over a real connection: net/http must not resend the POST either
	}{
		"503 after receipt":  {first: httpStatus(503, "")},
		"502":                {first: httpStatus(502, "")},
		"429":                {first: httpStatus(429, "").withHeader("Retry-After", "0")},
		"dropped":            {first: hangUp()},
		"dropped connection": {first: hangUp(), listen: true},
		"unsigned E3002":     {first: unsignedJSON(`{"Status":"F","Description":"E3002 – Nonce 無效"}`)},
		"unsigned E9900":     {first: unsignedJSON(`{"Status":"F","Description":"E9900 – 系統忙碌中"}`)},
		"forged E9900":       {first: otherKeys(map[string]any{"Status": "F", "Description": "E9900 – 系統忙碌中"})},
	}
	for _, service := range []string{"OrderCreate", "OrderMaintain"} {
		for name, tc := range notResent {
			t.Run(service+"/"+name, func(t *testing.T) {
				t.Parallel()
				b := newMockBank(t).replyOrder(func(req recorded) *reply {
					if req.N == 1 {
						return tc.first
					}
					return nil
				})
				if tc.listen {
					b.listen()
				}
				c := b.client(WithRetryPolicy(fastRetry))
				_, err := c.Call(t.Context(), service, payload)
				require.Error(t, err)
				_, orders := b.counts()
				assert.Equal(t, 1, orders, "sent once, never blindly again")
				var ne *NetworkError
				if errors.As(err, &ne) {
					assert.True(t, ne.MaybeSent)
				}
			})
		}
		t.Run(service+"/timeout", func(t *testing.T) {
			t.Parallel()
			b := newMockBank(t).replyOrder(func(recorded) *reply { return hold() })
			c := b.client(WithRetryPolicy(fastRetry), WithHTTPClient(&http.Client{Transport: b.mt, Timeout: 200 * time.Millisecond}))
			_, err := c.Call(t.Context(), service, payload)
			var ne *NetworkError
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.MaybeSent, "the bank may have stored it")
			_, orders := b.counts()
			assert.Equal(t, 1, orders)
		})
	}
}

func TestRetryCreateResentWhenNotProcessed(t *testing.T) {
	t.Parallel()
	payload := map[string]any{"ShopNo": testShop, "OrderNo": "C20261126002", "Amount": 50000, "CurrencyID": "TWD", "PrdtName": "測試", "PayType": "A"}
	cases := map[string]struct {
		nonce, order *reply
		wantOrders   int
	}{
		"nonce 503":      {nonce: httpStatus(503, ""), wantOrders: 1},
		"nonce dropped":  {nonce: hangUp(), wantOrders: 1},
		"order E3002":    {order: sealedF(CodeNonceInvalid), wantOrders: 2},
		"order E9900":    {order: sealedF(CodeBusy), wantOrders: 2},
		"order M0001":    {order: sealedF(CodeMaintenance), wantOrders: 2},
		"order E3003":    {order: sealedF(CodeNonceExpired), wantOrders: 2},
		"nonce E9900 F":  {nonce: unsignedJSON(`{"Status":"F","Description":"E9900 – 系統忙碌中"}`), wantOrders: 1},
		"nonce HTML 502": {nonce: httpStatus(502, "<html>bad gateway</html>"), wantOrders: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			first := func(r *reply) func(recorded) *reply {
				return func(req recorded) *reply {
					if req.N == 1 {
						return r
					}
					return nil
				}
			}
			b := newMockBank(t).replyNonce(first(tc.nonce)).replyOrder(first(tc.order))
			c := b.client(WithRetryPolicy(fastRetry))
			plain, err := c.Call(t.Context(), "OrderCreate", payload)
			require.NoError(t, err)
			assert.Contains(t, string(plain), `"OrderNo":"C20261126002"`)
			_, orders := b.counts()
			assert.Equal(t, tc.wantOrders, orders)
		})
	}
	t.Run("Order POST refused before it was written", func(t *testing.T) {
		t.Parallel()
		b := newMockBank(t).failUnsent(func(path string, n int) error {
			if path == "/Order" && n == 1 {
				return errors.New("connection refused")
			}
			return nil
		})
		c := b.client(WithRetryPolicy(fastRetry))
		plain, err := c.Call(t.Context(), "OrderCreate", payload)
		require.NoError(t, err)
		assert.Contains(t, string(plain), `"OrderNo":"C20261126002"`)
		nonces, orders := b.counts()
		assert.Equal(t, 2, nonces)
		assert.Equal(t, 1, orders, "the refused POST never arrived; the resend did")
	})
	t.Run("nonce failure forever says nothing was sent", func(t *testing.T) {
		t.Parallel()
		b := newMockBank(t).replyNonce(func(recorded) *reply { return hangUp() })
		c := b.client(WithRetryPolicy(fastRetry))
		_, err := c.Call(t.Context(), "OrderCreate", payload)
		var ne *NetworkError
		require.ErrorAs(t, err, &ne)
		assert.Equal(t, "Nonce", ne.Service)
		assert.False(t, ne.MaybeSent, "the Order request never left: safe to retry")
		_, orders := b.counts()
		assert.Zero(t, orders)
	})
}

// A POST that provably never left — the transport failed before writing
// it — is resent even for a create; one whose headers were written is not.
func TestRetryCreateUnsentProvenByTrace(t *testing.T) {
	t.Parallel()
	b := newMockBank(t)
	b.listen() // the proof comes from net/http's own transport
	var dials atomic.Int32
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 2 { // the first Order POST
			return nil, errors.New("connection refused")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c := b.client(WithRetryPolicy(fastRetry), WithHTTPClient(&http.Client{Transport: tr}))
	plain, err := c.Call(t.Context(), "OrderCreate", map[string]any{"OrderNo": "C20261126003"})
	require.NoError(t, err)
	assert.Contains(t, string(plain), "C20261126003")
	nonces, orders := b.counts()
	assert.Equal(t, 2, nonces)
	assert.Equal(t, 1, orders, "the refused POST never arrived; the resend did")

	t.Run("without a retry it is not processed", func(t *testing.T) {
		dials.Store(0)
		c := b.client(WithRetryPolicy(NoRetry()), WithHTTPClient(&http.Client{Transport: tr}))
		st, err := c.send(t.Context(), orderCreateService, map[string]any{"OrderNo": "C1"}, &ResponseOrderCreate{})
		assert.Equal(t, stageUnsent, st)
		var ne *NetworkError
		require.ErrorAs(t, err, &ne)
		assert.False(t, ne.MaybeSent)
	})
	t.Run("a transport that reports nothing proves nothing", func(t *testing.T) {
		c := b.client(WithRetryPolicy(fastRetry), WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasSuffix(r.URL.Path, "/Order") {
				return nil, errors.New("connection refused")
			}
			return http.DefaultTransport.RoundTrip(r)
		})}))
		st, err := c.send(t.Context(), orderCreateService, map[string]any{"OrderNo": "C1"}, &ResponseOrderCreate{})
		assert.Equal(t, stageMaybeSent, st)
		var ne *NetworkError
		require.ErrorAs(t, err, &ne)
		assert.True(t, ne.MaybeSent)
	})
	t.Run("rate limiter wait ends: unsent", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		c := b.client(WithRetryPolicy(NoRetry()), WithRateLimit(0.001, 1))
		_, _ = c.fetchNonce(ctx, false) // uses the one token
		cancel()
		rep, st, err := c.post(ctx, orderCreateService.name, "/Order", []byte("{}"), stageMaybeSent)
		assert.Nil(t, rep)
		assert.Equal(t, stageUnsent, st)
		var ne *NetworkError
		require.ErrorAs(t, err, &ne)
		assert.False(t, ne.MaybeSent)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The stage is what the failure proves; retry derives from it.
func TestStageUnprocessed(t *testing.T) {
	t.Parallel()
	busy, dup := &APIError{Code: CodeBusy}, &APIError{Code: CodeDuplicateOrder}
	for _, tc := range []struct {
		st   stage
		err  error
		want bool
	}{
		{stageNonce, &GatewayError{StatusCode: 503}, true},
		{stageUnsent, &NetworkError{Err: errors.New("refused")}, true},
		{stageMaybeSent, &NetworkError{Err: errors.New("reset")}, false},
		{stageAnswered, &GatewayError{StatusCode: 429}, false},
		{stageAnswered, &APIError{Code: CodeNonceError, Unverified: true}, false},
		{stageVerified, busy, true},
		{stageVerified, &APIError{Code: CodeNonceExpired}, true},
		{stageVerified, dup, false},
		{stageVerified, &MessageError{Reason: "x"}, false},
	} {
		assert.Equal(t, tc.want, tc.st.unprocessed(tc.err), "%d %v", tc.st, tc.err)
	}
}

func TestRetryPolicyBackoff(t *testing.T) {
	t.Parallel()
	busy := &APIError{Code: CodeBusy}
	start := time.Now()
	t.Run("doubles up to the cap, jittered to half", func(t *testing.T) {
		p := RetryPolicy{MaxAttempts: 10, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxElapsed: time.Hour}
		for attempt, nominal := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 9: time.Second} {
			for range 50 {
				wait, ok := p.next(attempt, start, busy, true)
				require.True(t, ok)
				assert.GreaterOrEqual(t, wait, nominal/2)
				assert.LessOrEqual(t, wait, nominal)
			}
		}
		_, ok := p.next(10, start, busy, true)
		assert.False(t, ok, "MaxAttempts counts the first attempt")
	})
	t.Run("zero MinBackoff retries at once", func(t *testing.T) {
		p := RetryPolicy{MaxAttempts: 3, MinBackoff: 0, MaxBackoff: time.Hour}
		wait, ok := p.next(1, start, busy, true)
		require.True(t, ok)
		assert.Less(t, wait, time.Millisecond, "0 doubled stays 0, not MaxBackoff")
	})
	t.Run("huge attempt numbers do not overflow", func(t *testing.T) {
		p := RetryPolicy{MaxAttempts: 1 << 30, MinBackoff: time.Second, MaxBackoff: time.Minute}
		for _, attempt := range []int{30, 63, 64, 65, 200, 1 << 20} {
			wait, ok := p.next(attempt, start, busy, true)
			require.True(t, ok)
			assert.GreaterOrEqual(t, wait, 30*time.Second)
			assert.LessOrEqual(t, wait, time.Minute)
		}
	})
	t.Run("not resendable, not retryable", func(t *testing.T) {
		p := fastRetry
		_, ok := p.next(1, start, busy, false)
		assert.False(t, ok)
		_, ok = p.next(1, start, &APIError{Code: CodeNoCondition}, true)
		assert.False(t, ok)
		_, ok = p.next(1, start, &NetworkError{Err: context.Canceled}, true)
		assert.False(t, ok)
	})
	t.Run("invalid policies", func(t *testing.T) {
		for _, p := range []RetryPolicy{{}, {MaxAttempts: 2, MinBackoff: -1}, {MaxAttempts: 2, MinBackoff: 2, MaxBackoff: 1}, {MaxAttempts: 2, MaxElapsed: -1}} {
			_, err := NewClient(testShop, testKeys, WithRetryPolicy(p))
			var ve *ValidationError
			assert.ErrorAs(t, err, &ve, "%+v", p)
		}
	})
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&APIError{Code: CodeBusy}, true},
		{&APIError{Code: CodeMaintenance}, true},
		{&APIError{Code: CodeNonceError}, true},
		{&APIError{Code: CodeNonceInvalid}, true},
		{&APIError{Code: CodeNonceExpired}, true},
		{&APIError{Code: CodeBadSign}, false},
		{&APIError{Code: CodeDuplicateOrder}, false},
		{&GatewayError{StatusCode: 429}, true},
		{&GatewayError{StatusCode: 502}, true},
		{&GatewayError{StatusCode: 503}, true},
		{&GatewayError{StatusCode: 504}, true},
		{&GatewayError{StatusCode: 500}, false},
		{&GatewayError{StatusCode: 401}, false},
		{&GatewayError{StatusCode: 200}, false},
		{&NetworkError{Err: errors.New("connection reset")}, true},
		{&NetworkError{Err: context.DeadlineExceeded}, true},
		{&NetworkError{Err: context.Canceled}, false},
		{&MessageError{Reason: "x"}, false},
		{&ValidationError{Field: "OrderNo"}, false},
		{ErrSignatureMismatch, false},
		{errors.New("other"), false},
	} {
		assert.Equal(t, tc.want, Retryable(tc.err), "%#v", tc.err)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"7":                             7 * time.Second,
		"5abc":                          0, // not delay-seconds, not a date
		"-3":                            0,
		"99999999999999999999":          maxRetryAfter, // clamped, never wrapped around
		"99999999999":                   maxRetryAfter,
		"Wed, 21 Oct 2015 07:28:00 GMT": 0, // in the past
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		assert.Equal(t, want, retryAfter(h), "%q", v)
	}
	h := http.Header{"Retry-After": {time.Now().Add(48 * time.Hour).UTC().Format(http.TimeFormat)}}
	assert.Equal(t, maxRetryAfter, retryAfter(h))
}
