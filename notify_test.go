package sinopac

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func notifyRequest(method, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, "https://shop.example/qpay/notify", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestBackendHandler(t *testing.T) {
	t.Parallel()
	good := `{"ShopNo":"NA0249_001","PayToken":"` + fixtureToken + `"}`
	cases := []struct {
		name       string
		req        *http.Request
		bank       func() bankReply
		fnErr      error
		status     int
		answer     string
		fnCalled   bool
		orderCalls int
	}{
		{"verified and acknowledged", notifyRequest("POST", "application/json", good),
			func() bankReply { return fixture(t, "orderpayquery.json") }, nil, 200, `{"Status":"S"}`, true, 1},
		{"charset parameter", notifyRequest("POST", "application/json; charset=utf-8", good),
			func() bankReply { return fixture(t, "orderpayquery.json") }, nil, 200, `{"Status":"S"}`, true, 1},
		{"merchant function fails: bank must resend", notifyRequest("POST", "application/json", good),
			func() bankReply { return fixture(t, "orderpayquery.json") }, errors.New("db down"), 500, `{"Status":"F"}`, true, 1},
		{"unknown token", notifyRequest("POST", "application/json", good),
			func() bankReply { return fail(CodePayTokenInvalid, "付款查詢 Token 錯誤") }, nil, 400, `{"Status":"F"}`, false, 1},
		{"query fails", notifyRequest("POST", "application/json", good),
			func() bankReply { return bankReply{status: 403, body: "no"} }, nil, 500, `{"Status":"F"}`, false, 1},
		{"forged reply", notifyRequest("POST", "application/json", good),
			func() bankReply { r := fixture(t, "orderpayquery.json"); r.badSign = true; return r }, nil, 500, `{"Status":"F"}`, false, 1},
		{"no content type", notifyRequest("POST", "", good),
			func() bankReply { return fixture(t, "orderpayquery.json") }, nil, 200, `{"Status":"S"}`, true, 1},
		{"text/plain", notifyRequest("POST", "text/plain", good), nil, nil, 400, `{"Status":"F"}`, false, 0},
		{"GET", notifyRequest("GET", "", ""), nil, nil, 405, `{"Status":"F"}`, false, 0},
		{"form body", notifyRequest("POST", "application/x-www-form-urlencoded", "ShopNo=NA0249_001&PayToken=x"), nil, nil, 400, `{"Status":"F"}`, false, 0},
		{"garbage", notifyRequest("POST", "application/json", `{"ShopNo":`), nil, nil, 400, `{"Status":"F"}`, false, 0},
		{"other shop", notifyRequest("POST", "application/json", `{"ShopNo":"XX0001_001","PayToken":"abc"}`), nil, nil, 400, `{"Status":"F"}`, false, 0},
		{"no token", notifyRequest("POST", "application/json", `{"ShopNo":"NA0249_001"}`), nil, nil, 400, `{"Status":"F"}`, false, 0},
		{"token with quote", notifyRequest("POST", "application/json", `{"ShopNo":"NA0249_001","PayToken":"a'b"}`), nil, nil, 400, `{"Status":"F"}`, false, 0},
		{"huge body", notifyRequest("POST", "application/json", `{"ShopNo":"NA0249_001","PayToken":"`+strings.Repeat("a", MaxNotificationBytes)+`"}`),
			nil, nil, 413, `{"Status":"F"}`, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newSurfaceBank(t, func(string, []byte) bankReply {
				if tc.bank == nil {
					t.Error("the bank must not be asked")
					return fail(CodeSystem, "x")
				}
				return tc.bank()
			})
			var called atomic.Bool
			h := bank.client(WithRetryPolicy(NoRetry())).BackendHandler(func(_ context.Context, n *ResponseOrderPayQuery) error {
				called.Store(true)
				assert.Equal(t, Amount(9440300), n.TSResultContent.Amount)
				assert.True(t, n.Paid())
				return tc.fnErr
			})
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.req)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, tc.answer, w.Body.String())
			assert.Equal(t, tc.fnCalled, called.Load())
			assert.Len(t, bank.requests(), tc.orderCalls)
			if tc.status == 405 {
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
		})
	}
}

func TestParseReturnNotification(t *testing.T) {
	t.Parallel()
	form := func(method, body string) *http.Request {
		r := httptest.NewRequest(method, "https://shop.example/return", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	shop, tok, err := ParseReturnNotification(form("POST", "ShopNo=NA0249_001&PayToken=PT0001ABC"))
	require.NoError(t, err)
	assert.Equal(t, "NA0249_001", shop)
	assert.Equal(t, "PT0001ABC", tok)

	shop, tok, err = ParseReturnNotification(httptest.NewRequest("GET", "https://shop.example/return?ShopNo=NA0249_001&PayToken=PT0002", nil))
	require.NoError(t, err)
	assert.Equal(t, "NA0249_001", shop)
	assert.Equal(t, "PT0002", tok)

	cases := []struct {
		name, field string
		req         *http.Request
	}{
		{"PUT", "Method", form("PUT", "ShopNo=NA0249_001&PayToken=x")},
		{"no token", "PayToken", form("POST", "ShopNo=NA0249_001")},
		{"no shop", "ShopNo", form("POST", "PayToken=x")},
		{"bad token", "PayToken", form("POST", "ShopNo=NA0249_001&PayToken=a%22b")},
		{"huge", "Body", form("POST", "ShopNo=NA0249_001&PayToken="+strings.Repeat("a", MaxNotificationBytes))},
		{"bad escape", "Body", form("POST", "ShopNo=%zz")},
	}
	for _, tc := range cases {
		_, _, err := ParseReturnNotification(tc.req)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, tc.name)
		assert.Equal(t, tc.field, ve.Field, tc.name)
	}
}

func TestDeduperOnce(t *testing.T) {
	t.Parallel()
	d := NewDeduper(time.Hour, 0)
	var calls atomic.Int32
	release := make(chan struct{})
	fn := d.Once(func(context.Context, *ResponseOrderPayQuery) error {
		calls.Add(1)
		<-release
		return nil
	})
	n := &ResponseOrderPayQuery{PayToken: "T1"}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- fn(t.Context(), n) }()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, int32(1), calls.Load(), "concurrent duplicates run fn once")
	require.NoError(t, fn(t.Context(), n))
	assert.Equal(t, int32(1), calls.Load(), "a later duplicate is dropped")
	assert.True(t, d.Seen("T1"))
	require.NoError(t, fn(t.Context(), &ResponseOrderPayQuery{PayToken: "T2"}))
	assert.Equal(t, int32(2), calls.Load(), "another token runs")
}

func TestDeduperForgetsFailuresAndExpires(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, Taipei)
	d := NewDeduper(time.Hour, 2)
	d.now = func() time.Time { return now }
	fail := true
	calls := 0
	fn := d.Once(func(context.Context, *ResponseOrderPayQuery) error {
		calls++
		if fail {
			return errors.New("try later")
		}
		return nil
	})
	n := func(tok string) *ResponseOrderPayQuery { return &ResponseOrderPayQuery{PayToken: tok} }
	require.Error(t, fn(t.Context(), n("A")))
	assert.False(t, d.Seen("A"), "a failure is not remembered")
	fail = false
	require.NoError(t, fn(t.Context(), n("A")))
	assert.Equal(t, 2, calls)

	now = now.Add(59 * time.Minute)
	require.NoError(t, fn(t.Context(), n("A")))
	assert.Equal(t, 2, calls, "within TTL")
	now = now.Add(2 * time.Minute)
	assert.False(t, d.Seen("A"))
	require.NoError(t, fn(t.Context(), n("A")))
	assert.Equal(t, 3, calls, "after TTL it runs again")

	require.NoError(t, fn(t.Context(), n("B")))
	require.NoError(t, fn(t.Context(), n("C")))
	d.mu.Lock()
	size := len(d.done)
	d.mu.Unlock()
	assert.LessOrEqual(t, size, 2, "bounded")
	assert.False(t, d.Seen("A"), "the oldest is forgotten first")
	assert.True(t, d.Seen("C"))
}

func TestDeduperPanicDoesNotStick(t *testing.T) {
	t.Parallel()
	d := NewDeduper(0, 0)
	fn := d.Once(func(context.Context, *ResponseOrderPayQuery) error { panic("boom") })
	assert.Panics(t, func() { _ = fn(t.Context(), &ResponseOrderPayQuery{PayToken: "P"}) })
	assert.False(t, d.Seen("P"))
	ok := d.Once(func(context.Context, *ResponseOrderPayQuery) error { return nil })
	require.NoError(t, ok(t.Context(), &ResponseOrderPayQuery{PayToken: "P"}))
	assert.True(t, d.Seen("P"))
}

// FuzzNotificationBody drives the BackendHandler with arbitrary bodies
// and content types: it never panics, answers S exactly when the merchant
// function ran and returned nil, and runs it only for a token the bank
// verified.
func FuzzNotificationBody(f *testing.F) {
	payQuery, err := os.ReadFile("testdata/replies/orderpayquery.json")
	require.NoError(f, err)
	bank := newSurfaceBank(f, func(_ string, plain []byte) bankReply {
		var req struct{ PayToken string }
		if json.Unmarshal(plain, &req) == nil && req.PayToken == fixtureToken {
			return bankReply{payload: json.RawMessage(payQuery)}
		}
		return fail(CodePayTokenInvalid, "付款查詢 Token 錯誤")
	})
	var calls atomic.Int64
	var unverified atomic.Bool
	h := bank.client(WithRetryPolicy(NoRetry())).BackendHandler(func(_ context.Context, n *ResponseOrderPayQuery) error {
		calls.Add(1)
		if n.PayToken != fixtureToken || n.TSResultContent.Amount != 9440300 {
			unverified.Store(true)
		}
		return nil
	})
	f.Add([]byte(`{"ShopNo":"NA0249_001","PayToken":"`+fixtureToken+`"}`), "application/json")
	f.Add([]byte(`{"ShopNo":"NA0249_001","PayToken":"PT-unknown"}`), "application/json; charset=utf-8")
	f.Add([]byte(`{"ShopNo":"XX0001_001","PayToken":"`+fixtureToken+`"}`), "")
	f.Add([]byte(`ShopNo=NA0249_001&PayToken=x`), "application/x-www-form-urlencoded")
	f.Add([]byte(`{"ShopNo":"NA0249_001","PayToken":"`+fixtureToken+`","ShopNo":"NA0249_001"}`), "text/json")
	f.Add([]byte(`[{"ShopNo":1}]`), "application/json")
	f.Add([]byte("\xff\xfe{"), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		before := calls.Load()
		r := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		ran := calls.Load() > before
		if unverified.Load() {
			t.Fatal("an unverified result reached the merchant function")
		}
		switch w.Code {
		case http.StatusOK:
			if w.Body.String() != `{"Status":"S"}` || !ran {
				t.Fatalf("200 %q, merchant ran: %v", w.Body.String(), ran)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusInternalServerError:
			if w.Body.String() != `{"Status":"F"}` {
				t.Fatalf("%d %q", w.Code, w.Body.String())
			}
			if ran {
				t.Fatalf("merchant ran and returned nil but answered %d", w.Code)
			}
		default:
			t.Fatalf("unexpected status %d", w.Code)
		}
	})
}
