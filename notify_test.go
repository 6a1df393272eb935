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
	"testing/synctest"
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

// payResult is a sealed OrderPayQuery reply for token (left out when
// empty) whose transaction has the inner status (left out when empty).
func payResult(token, status string) *reply {
	ts := map[string]any{"APType": APTypePayOut, "TSNo": "NA024900000212", "OrderNo": "A202611260001", "ShopNo": testShop,
		"PayType": "A", "Amount": "9440300", "Description": "S0000 – 處理成功"}
	if status != "" {
		ts["Status"] = status
	}
	if status == "F" {
		ts["Description"] = "交易未完成"
	}
	m := map[string]any{"ShopNo": testShop, "Date": "202611261015", "TSResultContent": ts}
	if token != "" {
		m["PayToken"] = token
	}
	return ok(m)
}

func TestBackendHandler(t *testing.T) {
	t.Parallel()
	good := `{"ShopNo":"NA0249_001","PayToken":"` + fixtureToken + `"}`
	paid := func(t *testing.T, n *ResponseOrderPayQuery) {
		assert.Equal(t, Amount(9440300), n.TSResultContent.Amount)
		assert.True(t, n.Paid())
		assert.Equal(t, fixtureToken, n.PayToken)
	}
	notPaid := func(t *testing.T, n *ResponseOrderPayQuery) {
		assert.False(t, n.Paid())
		assert.Equal(t, fixtureToken, n.PayToken)
	}
	cases := []struct {
		name       string
		req        *http.Request
		opts       []HandlerOption
		bank       func() *reply
		fnErr      error
		status     int
		answer     string
		check      func(t *testing.T, n *ResponseOrderPayQuery) // nil: fn must not run
		orderCalls int
	}{
		{"verified and acknowledged", notifyRequest("POST", "application/json", good), nil,
			func() *reply { return fixture(t, "orderpayquery.json") }, nil, 200, `{"Status":"S"}`, paid, 1},
		{"charset parameter", notifyRequest("POST", "application/json; charset=utf-8", good), nil,
			func() *reply { return fixture(t, "orderpayquery.json") }, nil, 200, `{"Status":"S"}`, paid, 1},
		{"merchant function fails: bank must resend", notifyRequest("POST", "application/json", good), nil,
			func() *reply { return fixture(t, "orderpayquery.json") }, errors.New("db down"), 500, `{"Status":"F"}`, paid, 1},
		{"reply without PayToken: the notification's token", notifyRequest("POST", "application/json", good), nil,
			func() *reply { return payResult("", "S") }, nil, 200, `{"Status":"S"}`, paid, 1},
		{"not paid (inner F): not acknowledged, merchant sees it", notifyRequest("POST", "application/json", good), nil,
			func() *reply { return payResult(fixtureToken, "F") }, nil, 202, `{"Status":"F"}`,
			func(t *testing.T, n *ResponseOrderPayQuery) { notPaid(t, n); assert.True(t, n.Failed()) }, 1},
		{"not paid, merchant function fails", notifyRequest("POST", "application/json", good), nil,
			func() *reply { return payResult(fixtureToken, "F") }, errors.New("db down"), 500, `{"Status":"F"}`, notPaid, 1},
		{"not paid, AcknowledgeFailed", notifyRequest("POST", "application/json", good), []HandlerOption{AcknowledgeFailed()},
			func() *reply { return payResult(fixtureToken, "F") }, nil, 200, `{"Status":"S"}`, notPaid, 1},
		{"no inner status: never final", notifyRequest("POST", "application/json", good), []HandlerOption{AcknowledgeFailed()},
			func() *reply { return payResult(fixtureToken, "") }, nil, 202, `{"Status":"F"}`, notPaid, 1},
		{"reply for another PayToken", notifyRequest("POST", "application/json", good), nil,
			func() *reply { return payResult("PT-someone-else", "S") }, nil, 500, `{"Status":"F"}`, nil, 1},
		{"unknown token", notifyRequest("POST", "application/json", good), nil,
			func() *reply { return fail(CodePayTokenInvalid, "付款查詢 Token 錯誤") }, nil, 400, `{"Status":"F"}`, nil, 1},
		{"query fails", notifyRequest("POST", "application/json", good), nil,
			func() *reply { return httpStatus(403, "no") }, nil, 500, `{"Status":"F"}`, nil, 1},
		{"forged reply", notifyRequest("POST", "application/json", good), nil,
			func() *reply { return fixture(t, "orderpayquery.json").tamper(forgeSign) }, nil, 500, `{"Status":"F"}`, nil, 1},
		{"no content type", notifyRequest("POST", "", good), nil,
			func() *reply { return fixture(t, "orderpayquery.json") }, nil, 200, `{"Status":"S"}`, paid, 1},
		{"text/plain", notifyRequest("POST", "text/plain", good), nil, nil, nil, 400, `{"Status":"F"}`, nil, 0},
		{"GET", notifyRequest("GET", "", ""), nil, nil, nil, 405, `{"Status":"F"}`, nil, 0},
		{"form body", notifyRequest("POST", "application/x-www-form-urlencoded", "ShopNo=NA0249_001&PayToken=x"), nil, nil, nil, 400, `{"Status":"F"}`, nil, 0},
		{"garbage", notifyRequest("POST", "application/json", `{"ShopNo":`), nil, nil, nil, 400, `{"Status":"F"}`, nil, 0},
		{"other shop", notifyRequest("POST", "application/json", `{"ShopNo":"XX0001_001","PayToken":"abc"}`), nil, nil, nil, 400, `{"Status":"F"}`, nil, 0},
		{"malformed shop", notifyRequest("POST", "application/json", `{"ShopNo":"NA0249_001 ","PayToken":"abc"}`), nil, nil, nil, 400, `{"Status":"F"}`, nil, 0},
		{"no token", notifyRequest("POST", "application/json", `{"ShopNo":"NA0249_001"}`), nil, nil, nil, 400, `{"Status":"F"}`, nil, 0},
		{"token with quote", notifyRequest("POST", "application/json", `{"ShopNo":"NA0249_001","PayToken":"a'b"}`), nil, nil, nil, 400, `{"Status":"F"}`, nil, 0},
		{"huge body", notifyRequest("POST", "application/json", `{"ShopNo":"NA0249_001","PayToken":"`+strings.Repeat("a", MaxNotificationBytes)+`"}`),
			nil, nil, nil, 413, `{"Status":"F"}`, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newMockBank(t).replyOrder(func(recorded) *reply {
				if tc.bank == nil {
					t.Error("the bank must not be asked")
					return fail(CodeSystem, "x")
				}
				return tc.bank()
			})
			var got atomic.Pointer[ResponseOrderPayQuery]
			h := bank.client(WithRetryPolicy(NoRetry())).BackendHandler(func(_ context.Context, n *ResponseOrderPayQuery) error {
				got.Store(n)
				return tc.fnErr
			}, tc.opts...)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.req)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, tc.answer, w.Body.String())
			if tc.check == nil {
				assert.Nil(t, got.Load(), "the merchant function must not run")
			} else if assert.NotNil(t, got.Load(), "the merchant function must run") {
				tc.check(t, got.Load())
			}
			assert.Len(t, bank.orders(), tc.orderCalls)
			if tc.status == 405 {
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
		})
	}
}

// Issue #9: replies without a PayToken were all keyed "" by the Deduper,
// so three different payments were acknowledged and the merchant function
// ran once. Each notification is now keyed on its own token.
func TestNotificationsWithoutReplyToken(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t).replyOrder(func(recorded) *reply { return payResult("", "S") })
	var mu sync.Mutex
	var seen []string
	h := bank.client(WithRetryPolicy(NoRetry())).BackendHandler(NewDeduper(0, 0).Once(func(_ context.Context, n *ResponseOrderPayQuery) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, n.PayToken)
		return nil
	}))
	for _, tok := range []string{"PT-A", "PT-B", "PT-C", "PT-B"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, notifyRequest("POST", "application/json", `{"ShopNo":"NA0249_001","PayToken":"`+tok+`"}`))
		assert.Equal(t, `{"Status":"S"}`, w.Body.String(), tok)
	}
	assert.Equal(t, []string{"PT-A", "PT-B", "PT-C"}, seen, "each payment once; the repeat of PT-B dropped")
}

// A just-paid virtual account can read F while the query lags. The default
// keeps that F from becoming final: no acknowledgement, nothing remembered,
// so the bank's resend asks again and the merchant sees the payment. A
// declined card reads F every time and is resent until the bank gives up,
// unless AcknowledgeFailed says F is final.
func TestNotificationNotPaidIsNotFinal(t *testing.T) {
	t.Parallel()
	type step struct {
		inner  string // the bank's inner Status for this delivery
		answer int    // the handler's HTTP status
		ran    bool   // the merchant function ran
	}
	cases := []struct {
		name  string
		opts  []HandlerOption
		steps []step
	}{
		{"lagging payment", nil, []step{{"F", 202, true}, {"F", 202, true}, {"S", 200, true}, {"S", 200, false}}},
		{"declined card, resent until the bank stops", nil, []step{{"F", 202, true}, {"F", 202, true}, {"F", 202, true},
			{"F", 202, true}, {"F", 202, true}, {"F", 202, true}}},
		{"declined card, AcknowledgeFailed", []HandlerOption{AcknowledgeFailed()}, []step{{"F", 200, true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var delivery atomic.Int32
			bank := newMockBank(t).replyOrder(func(recorded) *reply {
				return payResult(fixtureToken, tc.steps[delivery.Load()].inner)
			})
			d := NewDeduper(0, 0)
			var ran atomic.Bool
			var sawPaid atomic.Bool
			h := bank.client(WithRetryPolicy(NoRetry())).BackendHandler(d.Once(func(_ context.Context, n *ResponseOrderPayQuery) error {
				ran.Store(true)
				if n.Paid() {
					sawPaid.Store(true)
				}
				return nil
			}), tc.opts...)
			for i, st := range tc.steps {
				delivery.Store(int32(i))
				ran.Store(false)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, notifyRequest("POST", "application/json", `{"ShopNo":"NA0249_001","PayToken":"`+fixtureToken+`"}`))
				assert.Equal(t, st.answer, w.Code, "delivery %d", i)
				assert.Equal(t, st.answer == 200, w.Body.String() == `{"Status":"S"}`, "delivery %d", i)
				assert.Equal(t, st.ran, ran.Load(), "delivery %d: merchant function ran", i)
				assert.Equal(t, st.inner == "S", d.Seen(fixtureToken), "delivery %d: only a final result is remembered", i)
			}
			assert.Equal(t, tc.steps[len(tc.steps)-1].inner == "S", sawPaid.Load())
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

// result is a verified result for token with the inner status.
func result(token, status string) *ResponseOrderPayQuery {
	return &ResponseOrderPayQuery{PayToken: token, TSResultContent: TSResult{APType: APTypePayOut, Status: status}}
}

func TestDeduperOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		d := NewDeduper(time.Hour, 0)
		var calls atomic.Int32
		release := make(chan struct{})
		fn := d.Once(func(context.Context, *ResponseOrderPayQuery) error {
			calls.Add(1)
			<-release
			return nil
		})
		n := result("T1", "S")
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Go(func() { errs <- fn(context.Background(), n) })
		}
		synctest.Wait() // every goroutine is blocked: one in fn, the rest waiting for it
		assert.Equal(t, int32(1), calls.Load(), "concurrent duplicates wait for the first run")
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		assert.Equal(t, int32(1), calls.Load(), "concurrent duplicates run fn once")
		require.NoError(t, fn(context.Background(), n))
		assert.Equal(t, int32(1), calls.Load(), "a later duplicate is dropped")
		assert.True(t, d.Seen("T1"))
		require.NoError(t, fn(context.Background(), result("T2", "S")))
		assert.Equal(t, int32(2), calls.Load(), "another token runs")
	})
}

// Only final results are remembered: an inner F (not paid yet, declined)
// or a missing inner Status runs fn again on the next delivery, and a
// result without a PayToken is never keyed on "".
func TestDeduperRemembersOnlyFinal(t *testing.T) {
	t.Parallel()
	d := NewDeduper(0, 0)
	var got []string
	fn := d.Once(func(_ context.Context, n *ResponseOrderPayQuery) error {
		got = append(got, n.PayToken+":"+n.TSResultContent.Status)
		return nil
	})
	for _, n := range []*ResponseOrderPayQuery{result("T", "F"), result("T", ""), result("T", "F"), result("T", "S"), result("T", "S"), result("T", "F"),
		result("", "S"), result("", "S")} {
		require.NoError(t, fn(t.Context(), n))
	}
	assert.Equal(t, []string{"T:F", "T:", "T:F", "T:S", ":S", ":S"}, got)
	assert.True(t, d.Seen("T"))
	assert.False(t, d.Seen(""))
	d.mu.Lock()
	assert.Len(t, d.done, 1)
	d.mu.Unlock()
}

// A repeat waiting for a run in flight takes that run's outcome only if it
// was a final success; otherwise it runs fn with its own, newer result.
func TestDeduperWaiterOfANonFinalRun(t *testing.T) {
	t.Parallel()
	for _, first := range []struct {
		name string
		res  *ResponseOrderPayQuery
		err  error
	}{{"not paid yet", result("T", "F"), nil}, {"failed", result("T", "S"), errors.New("db down")}} {
		t.Run(first.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				d := NewDeduper(0, 0)
				release := make(chan struct{})
				var mu sync.Mutex
				var ran []string
				fn := d.Once(func(_ context.Context, n *ResponseOrderPayQuery) error {
					mu.Lock()
					ran = append(ran, n.TSResultContent.Status)
					mu.Unlock()
					if n == first.res {
						<-release
						return first.err
					}
					return nil
				})
				firstErr := make(chan error, 1)
				go func() { firstErr <- fn(context.Background(), first.res) }()
				synctest.Wait()
				second := make(chan error, 1)
				go func() { second <- fn(context.Background(), result("T", "S")) }()
				synctest.Wait() // the repeat waits for the first run
				mu.Lock()
				assert.Len(t, ran, 1)
				mu.Unlock()
				close(release)
				assert.Equal(t, first.err, <-firstErr)
				require.NoError(t, <-second)
				assert.Equal(t, []string{first.res.TSResultContent.Status, "S"}, ran, "the repeat ran with its own result")
				assert.True(t, d.Seen("T"))
			})
		})
	}
}

// A repeat waiting for a run in flight gives up with its context.
func TestDeduperWaiterCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		d := NewDeduper(0, 0)
		release := make(chan struct{})
		fn := d.Once(func(context.Context, *ResponseOrderPayQuery) error { <-release; return nil })
		go func() { _ = fn(context.Background(), result("T", "S")) }()
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		waited := make(chan error, 1)
		go func() { waited <- fn(ctx, result("T", "S")) }()
		synctest.Wait()
		cancel()
		assert.ErrorIs(t, <-waited, context.Canceled)
		close(release)
		synctest.Wait()
		assert.True(t, d.Seen("T"))
	})
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
	n := func(tok string) *ResponseOrderPayQuery { return result(tok, "S") }
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
	assert.Panics(t, func() { _ = fn(t.Context(), result("P", "S")) })
	assert.False(t, d.Seen("P"))
	ok := d.Once(func(context.Context, *ResponseOrderPayQuery) error { return nil })
	require.NoError(t, ok(t.Context(), result("P", "S")))
	assert.True(t, d.Seen("P"))
}

// FuzzNotificationBody drives the BackendHandler with arbitrary bodies
// and content types: it never panics, runs the merchant function only for
// a token the bank verified, and answers S exactly when that function ran,
// returned nil and the result was final (inner Status S); a verified F is
// answered 202 {"Status":"F"} so the bank resends.
func FuzzNotificationBody(f *testing.F) {
	const declinedToken = "PT-DECLINED-0001"
	payQuery, err := os.ReadFile("testdata/replies/orderpayquery.json")
	require.NoError(f, err)
	declined := payResult(declinedToken, "F")
	bank := newMockBank(f).replyOrder(func(rec recorded) *reply {
		var req struct{ PayToken string }
		switch {
		case json.Unmarshal(rec.Plain, &req) != nil:
		case req.PayToken == fixtureToken:
			return sealedReply(json.RawMessage(payQuery))
		case req.PayToken == declinedToken:
			return declined
		}
		return fail(CodePayTokenInvalid, "付款查詢 Token 錯誤")
	})
	var calls atomic.Int64
	var unverified atomic.Bool
	var lastInner atomic.Value
	h := bank.client(WithRetryPolicy(NoRetry())).BackendHandler(func(_ context.Context, n *ResponseOrderPayQuery) error {
		calls.Add(1)
		if n.PayToken != fixtureToken && n.PayToken != declinedToken || n.TSResultContent.Amount != 9440300 {
			unverified.Store(true)
		}
		lastInner.Store(n.TSResultContent.Status)
		return nil
	})
	f.Add([]byte(`{"ShopNo":"NA0249_001","PayToken":"`+fixtureToken+`"}`), "application/json")
	f.Add([]byte(`{"ShopNo":"NA0249_001","PayToken":"`+declinedToken+`"}`), "application/json")
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
		inner, _ := lastInner.Load().(string)
		switch w.Code {
		case http.StatusOK:
			if w.Body.String() != `{"Status":"S"}` || !ran || inner != "S" {
				t.Fatalf("200 %q, merchant ran: %v, inner %q", w.Body.String(), ran, inner)
			}
		case http.StatusAccepted:
			if w.Body.String() != `{"Status":"F"}` || !ran || inner != "F" {
				t.Fatalf("202 %q, merchant ran: %v, inner %q", w.Body.String(), ran, inner)
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
