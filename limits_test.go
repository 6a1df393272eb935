package sinopac

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endless writes an unbounded body until the client hangs up.
func endless(status int) http.HandlerFunc {
	chunk := []byte(strings.Repeat("A0", 32<<10))
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// Not parallel: it measures the process's allocations.
func TestHugeReplyIsBounded(t *testing.T) {
	const limit = 1 << 20
	for _, tc := range []struct {
		name   string
		nonce  bool // the endless body comes from /Nonce
		status int
		check  func(t *testing.T, err error)
	}{
		{"Order 200", false, 200, func(t *testing.T, err error) {
			var me *MessageError
			require.ErrorAs(t, err, &me)
			assert.Contains(t, me.Reason, "larger than")
		}},
		{"Order 503", false, 503, isGateway(503)},
		{"Nonce 200", true, 200, func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrMalformedMessage) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.nonce {
				srv := httptest.NewServer(endless(tc.status))
				t.Cleanup(srv.Close)
				c, err := NewClient(testShop, testKeys, WithBaseURL(srv.URL+mockPath), WithMaxReplyBytes(limit), WithRetryPolicy(NoRetry()))
				require.NoError(t, err)
				t.Cleanup(c.hc.CloseIdleConnections)
				measureBounded(t, func() error { _, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"}); return err }, tc.check)
				return
			}
			// A real nonce, then an endless Order reply.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/Nonce") {
					_, _ = io.WriteString(w, `{"Nonce":"N1"}`)
					return
				}
				endless(tc.status)(w, r)
			}))
			t.Cleanup(srv.Close)
			c, err := NewClient(testShop, testKeys, WithBaseURL(srv.URL+mockPath), WithMaxReplyBytes(limit), WithRetryPolicy(NoRetry()))
			require.NoError(t, err)
			t.Cleanup(c.hc.CloseIdleConnections)
			measureBounded(t, func() error { _, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"}); return err }, tc.check)
		})
	}
}

func measureBounded(t *testing.T, call func() error, check func(*testing.T, error)) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	err := call()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	check(t, err)
	assert.Less(t, elapsed, 5*time.Second, "stops reading at the limit")
	// ReadAll of a 1 MiB limit allocates a few MiB while growing; an
	// unbounded read of the endless body would be hundreds.
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "allocated %d bytes", after.TotalAlloc-before.TotalAlloc)
}

func TestDefaultReplyLimit(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testShop, testKeys)
	require.NoError(t, err)
	assert.Equal(t, int64(DefaultMaxReplyBytes), c.maxReply)
	for _, n := range []int64{-1, 0, 1023} {
		_, err := NewClient(testShop, testKeys, WithMaxReplyBytes(n))
		var ve *ValidationError
		assert.ErrorAs(t, err, &ve)
	}
}

func TestRedirectsRefused(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = io.WriteString(w, `{"Nonce":"N-from-elsewhere"}`)
	}))
	t.Cleanup(other.Close)
	for _, tc := range []struct {
		name   string
		status int
		opts   []Option
	}{
		{"default client 302", http.StatusFound, nil},
		{"default client 307", http.StatusTemporaryRedirect, nil},
		{"default client 308", http.StatusPermanentRedirect, nil},
		{"own http.Client 302", http.StatusFound, []Option{WithHTTPClient(&http.Client{Timeout: 5 * time.Second})}},
		{"own http.Client 307", http.StatusTemporaryRedirect, []Option{WithHTTPClient(&http.Client{Timeout: 5 * time.Second})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.Path, tc.status)
			}))
			t.Cleanup(redirector.Close)
			opts := append([]Option{WithBaseURL(redirector.URL + mockPath), WithRetryPolicy(NoRetry())}, tc.opts...)
			c, err := NewClient(testShop, testKeys, opts...)
			require.NoError(t, err)
			t.Cleanup(c.hc.CloseIdleConnections)
			_, err = c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
			var ge *GatewayError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, tc.status, ge.StatusCode)
			assert.False(t, Retryable(err))
		})
	}
	// Cleanup runs after the parallel subtests have finished.
	t.Cleanup(func() { assert.Zero(t, elsewhere.Load(), "no request reached the other host") })
}

func TestWithHTTPClientDoesNotChangeCallersClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	_, err := NewClient(testShop, testKeys, WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Nil(t, hc.CheckRedirect)
}

func TestDefaultTransport(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testShop, testKeys)
	require.NoError(t, err)
	require.NotNil(t, c.hc.CheckRedirect)
	lean, ok := c.hc.Transport.(*leanTransport)
	require.True(t, ok, "the default client has its own transport")
	assert.Equal(t, DefaultTimeout, lean.timeout, "a default timeout when no http.Client is given")
	tr := lean.std
	assert.NotSame(t, http.DefaultTransport, tr, "never the shared global transport")
	require.NotNil(t, tr.TLSClientConfig)
	assert.GreaterOrEqual(t, tr.TLSClientConfig.MinVersion, uint16(tls.VersionTLS12))
	assert.False(t, tr.TLSClientConfig.InsecureSkipVerify, "TLS verification stays on")
	assert.NotNil(t, tr.Proxy, "HTTPS_PROXY is honoured like the standard transport")
	assert.NotZero(t, tr.TLSHandshakeTimeout)

	// Two clients do not share a transport (shops stay independent).
	c2, err := NewClient("NA0249_002", testKeys)
	require.NoError(t, err)
	assert.NotSame(t, lean, c2.hc.Transport)
	assert.NotSame(t, tr, c2.hc.Transport.(*leanTransport).std)
}

// The default transport really refuses a server that offers only TLS 1.1.
func TestDefaultTransportRefusesOldTLS(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	srv.TLS = &tls.Config{MaxVersion: tls.VersionTLS11}
	srv.Config.ErrorLog = discardLogger()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c, err := NewClient(testShop, testKeys, WithBaseURL(srv.URL+mockPath), WithRetryPolicy(NoRetry()))
	require.NoError(t, err)
	// Trust the test server's certificate, keep everything else default.
	tr := c.hc.Transport.(*leanTransport)
	tr.std.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	t.Cleanup(tr.CloseIdleConnections)
	_, err = c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
	var ne *NetworkError
	require.ErrorAs(t, err, &ne)
	assert.Contains(t, strings.ToLower(err.Error()), "tls")
	assert.Zero(t, hits.Load())

	// And a TLS 1.2 server with the same trust works (the test is not vacuous).
	ok := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"Status":"F","Description":"E9999 – test"}`)
	}))
	ok.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	ok.StartTLS()
	t.Cleanup(ok.Close)
	c2, err := NewClient(testShop, testKeys, WithBaseURL(ok.URL+mockPath), WithRetryPolicy(NoRetry()))
	require.NoError(t, err)
	tr2 := c2.hc.Transport.(*leanTransport)
	tr2.std.TLSClientConfig.RootCAs = ok.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	t.Cleanup(tr2.CloseIdleConnections)
	_, err = c2.QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
	var ae *APIError
	require.ErrorAs(t, err, &ae, "TLS 1.2 handshake succeeded and the plain F body was read")
	assert.Equal(t, CodeSystem, ae.Code)
}

// A hung server: the caller's deadline ends the call; no goroutine stays.
func TestHungServerHonoursDeadline(t *testing.T) {
	t.Parallel()
	b := newMockBank(t).replyOrder(func(recorded) *reply { return hold() })
	c := b.client(WithRetryPolicy(fastRetry))
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.QueryOrders(ctx, QueryConditions{OrderNo: "A1"})
	require.Error(t, err)
	var ne *NetworkError
	require.ErrorAs(t, err, &ne)
	assert.Less(t, time.Since(start), time.Second)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
