package sinopac

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ctxMark struct{}

// recorder is an Observer that keeps every event and marks the context
// each Start hook returns, so the End hooks can prove they got it back.
type recorder struct {
	mu     sync.Mutex
	events []any
	ends   []string // the mark each End hook's context carried
}

func (r *recorder) add(e any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) ended(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mark, _ := ctx.Value(ctxMark{}).(string)
	r.ends = append(r.ends, mark)
}

func (r *recorder) observer() Observer {
	mark := func(name string) func(ctx context.Context) context.Context {
		return func(ctx context.Context) context.Context { return context.WithValue(ctx, ctxMark{}, name) }
	}
	return Observer{
		CallStart: func(ctx context.Context, c CallInfo) context.Context { r.add(c); return mark("call")(ctx) },
		CallEnd:   func(ctx context.Context, c CallDone) { r.add(c); r.ended(ctx) },
		NonceStart: func(ctx context.Context, n NonceInfo) context.Context {
			r.add(n)
			return mark("nonce")(ctx)
		},
		NonceEnd: func(ctx context.Context, n NonceDone) { r.add(n); r.ended(ctx) },
		NotificationStart: func(ctx context.Context, n NotificationInfo) context.Context {
			r.add(n)
			return mark("notification")(ctx)
		},
		NotificationEnd: func(ctx context.Context, n NotificationDone) { r.add(n); r.ended(ctx) },
	}
}

func (r *recorder) last() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[len(r.events)-1]
}

func observedClient(t *testing.T, o Observer) *Client {
	t.Helper()
	c, err := NewClient(testShop, testKeys, WithObserver(o))
	require.NoError(t, err)
	return c
}

// What each kind of result looks like at the end of an attempt.
func TestObserveCallEnd(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		err       error
		desc      string
		nonceStep bool
		want      CallDone
	}{
		{"success", nil, "S0000 – 處理成功", false, CallDone{HTTPStatus: 200, Status: "S", Code: CodeOK}},
		{"no data", nil, "S0001 – 處理成功，查無資料", false, CallDone{HTTPStatus: 200, Status: "S", Code: CodeNoData}},
		{"busy", &APIError{Service: "OrderQuery", Status: "F", Code: CodeBusy}, "", false, CallDone{HTTPStatus: 200, Status: "F", Code: CodeBusy, Class: ErrorClassAPI}},
		{"bank refused our Sign", &APIError{Service: "OrderQuery", Status: "F", Code: CodeBadSign}, "", false,
			CallDone{HTTPStatus: 200, Status: "F", Code: CodeBadSign, Class: ErrorClassAPI}},
		{"503", &GatewayError{Service: "OrderQuery", StatusCode: 503, Excerpt: "busy"}, "", false, CallDone{HTTPStatus: 503, Class: ErrorClassGateway}},
		{"HTML page", &GatewayError{Service: "OrderQuery", StatusCode: 200}, "", false, CallDone{HTTPStatus: 200, Class: ErrorClassGateway}},
		{"forged reply", fmt.Errorf("sinopac: OrderQuery: %w", ErrSignatureMismatch), "", false, CallDone{HTTPStatus: 200, Class: ErrorClassSignature}},
		{"garbled reply", &MessageError{Service: "OrderQuery", Reason: "bad padding"}, "", false, CallDone{HTTPStatus: 200, Class: ErrorClassMalformed}},
		{"reset", &NetworkError{Service: "OrderQuery", Err: errConnReset, MaybeSent: true}, "", false, CallDone{Class: ErrorClassNetwork}},
		{"cancelled", &NetworkError{Service: "OrderQuery", Err: context.Canceled}, "", false, CallDone{Class: ErrorClassCanceled}},
		{"nonce 429", &GatewayError{Service: nonceEndpoint, StatusCode: 429}, "", true, CallDone{Class: ErrorClassGateway, NonceFailed: true}},
		{"nonce F", &APIError{Service: nonceEndpoint, Status: "F", Code: CodeSystem}, "", true, CallDone{Status: "F", Code: CodeSystem, Class: ErrorClassAPI, NonceFailed: true}},
		{"nonce unreachable", &NetworkError{Service: nonceEndpoint, Err: errConnReset}, "", true, CallDone{Class: ErrorClassNetwork, NonceFailed: true}},
		{"bad input", &ValidationError{Field: "OrderNo", Reason: "is required"}, "", false, CallDone{Class: ErrorClassValidation}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			c := observedClient(t, rec.observer())
			ctx, obs := c.observeCallStart(t.Context(), "OrderQuery", 1)
			assert.Equal(t, "call", ctx.Value(ctxMark{}), "the pipeline runs the attempt with the hook's context")
			before := time.Now()
			obs.end(tc.err, tc.desc, tc.nonceStep, false, 0)
			elapsed := time.Since(obs.begun)

			want := tc.want
			want.CallInfo = CallInfo{Service: "OrderQuery", ShopNo: testShop, Attempt: 1}
			got := rec.last().(CallDone)
			assert.True(t, got.Duration >= before.Sub(obs.begun) && got.Duration <= elapsed, "duration %v", got.Duration)
			got.Duration = 0
			assert.Equal(t, want, got)
			assert.Equal(t, []any{want.CallInfo, rec.last()}, rec.events)
			assert.Equal(t, []string{"call"}, rec.ends, "CallEnd gets CallStart's context")
		})
	}
}

func TestObserveCallRetry(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	c := observedClient(t, rec.observer())
	_, first := c.observeCallStart(t.Context(), "OrderQuery", 1)
	first.end(&APIError{Status: "F", Code: CodeBusy}, "", false, true, 250*time.Millisecond)
	_, second := c.observeCallStart(t.Context(), "OrderQuery", 2)
	second.end(nil, "S0000 – 處理成功", false, false, 0)

	require.Len(t, rec.events, 4)
	d1, info2, d2 := rec.events[1].(CallDone), rec.events[2].(CallInfo), rec.events[3].(CallDone)
	assert.True(t, d1.Retry)
	assert.Equal(t, 250*time.Millisecond, d1.RetryWait)
	assert.False(t, d1.Retried())
	assert.Equal(t, 2, info2.Attempt)
	assert.True(t, info2.Retried())
	assert.True(t, d2.Retried())
	assert.False(t, d2.Retry)
	assert.Zero(t, d2.RetryWait)
}

func TestObserveNonce(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	c := observedClient(t, rec.observer())
	ctx, obs := c.observeNonceStart(t.Context(), true)
	assert.Equal(t, "nonce", ctx.Value(ctxMark{}))
	obs.end(nil)
	_, obs = c.observeNonceStart(t.Context(), false)
	obs.end(&APIError{Service: nonceEndpoint, Status: "F", Code: CodeShopUnknown})
	_, obs = c.observeNonceStart(t.Context(), false)
	obs.end(&GatewayError{Service: nonceEndpoint, StatusCode: 401})

	require.Len(t, rec.events, 6)
	assert.Equal(t, NonceInfo{ShopNo: testShop, Prefetch: true}, rec.events[0])
	var got []NonceDone
	for _, e := range []any{rec.events[1], rec.events[3], rec.events[5]} {
		d := e.(NonceDone)
		d.Duration = 0
		got = append(got, d)
	}
	assert.Equal(t, []NonceDone{
		{NonceInfo: NonceInfo{ShopNo: testShop, Prefetch: true}, HTTPStatus: 200},
		{NonceInfo: NonceInfo{ShopNo: testShop}, HTTPStatus: 200, Status: "F", Code: CodeShopUnknown, Class: ErrorClassAPI},
		{NonceInfo: NonceInfo{ShopNo: testShop}, HTTPStatus: 401, Class: ErrorClassGateway},
	}, got)
	assert.Equal(t, []string{"nonce", "nonce", "nonce"}, rec.ends)
}

func TestObserveNotification(t *testing.T) {
	t.Parallel()
	paid := &ResponseOrderPayQuery{TSResultContent: TSResult{APType: APTypePayOut, Status: "S", OrderNo: "A1"}}
	cases := []struct {
		name     string
		status   int
		reason   NotificationReason
		res      *ResponseOrderPayQuery
		queryErr error
		want     NotificationDone
	}{
		{"acknowledged", 200, NotificationReasonNone, paid, nil,
			NotificationDone{Outcome: NotificationAcknowledged, HTTPStatus: 200, APType: "PayOut", Paid: true}},
		{"handler failed", 500, NotificationHandlerFailed, paid, nil,
			NotificationDone{Outcome: NotificationFailed, Reason: NotificationHandlerFailed, HTTPStatus: 500, APType: "PayOut", Paid: true}},
		{"query failed", 500, NotificationQueryFailed, nil, &NetworkError{Service: "OrderPayQuery", Err: errConnReset},
			NotificationDone{Outcome: NotificationFailed, Reason: NotificationQueryFailed, HTTPStatus: 500, Class: ErrorClassNetwork}},
		{"unknown token", 400, NotificationUnknownToken, nil, &APIError{Status: "F", Code: CodePayTokenInvalid},
			NotificationDone{Outcome: NotificationRefused, Reason: NotificationUnknownToken, HTTPStatus: 400, Class: ErrorClassAPI}},
		{"too large", 413, NotificationTooLarge, nil, nil,
			NotificationDone{Outcome: NotificationRefused, Reason: NotificationTooLarge, HTTPStatus: 413}},
		{"method", 405, NotificationBadMethod, nil, nil,
			NotificationDone{Outcome: NotificationRefused, Reason: NotificationBadMethod, HTTPStatus: 405}},
		{"not final yet", 202, NotificationNotFinal, &ResponseOrderPayQuery{TSResultContent: TSResult{APType: APTypePayOut, Status: "F"}}, nil,
			NotificationDone{Outcome: NotificationDeferred, Reason: NotificationNotFinal, HTTPStatus: 202, APType: "PayOut"}},
		{"a reason given with a 200 is dropped", 200, NotificationBadBody, nil, nil,
			NotificationDone{Outcome: NotificationAcknowledged, HTTPStatus: 200}},
	}
	for _, tc := range cases {
		rec := &recorder{}
		c := observedClient(t, rec.observer())
		ctx, obs := c.observeNotificationStart(t.Context())
		assert.Equal(t, "notification", ctx.Value(ctxMark{}), tc.name)
		obs.end(tc.status, tc.reason, tc.res, tc.queryErr)
		got := rec.last().(NotificationDone)
		got.Duration = 0
		tc.want.ShopNo = testShop
		assert.Equal(t, tc.want, got, tc.name)
		assert.Equal(t, []string{"notification"}, rec.ends, tc.name)
	}
}

func TestErrorClassOf(t *testing.T) {
	t.Parallel()
	netErr := &NetworkError{Service: "OrderCreate", Err: errConnReset, MaybeSent: true}
	cases := []struct {
		err  error
		want ErrorClass
	}{
		{nil, ErrorClassNone},
		{&ValidationError{Field: "Amount"}, ErrorClassValidation},
		{&APIError{Code: CodeBusy}, ErrorClassAPI},
		{&GatewayError{StatusCode: 499}, ErrorClassGateway},
		{fmt.Errorf("x: %w", ErrSignatureMismatch), ErrorClassSignature},
		{&MessageError{Reason: "not hex"}, ErrorClassMalformed},
		{netErr, ErrorClassNetwork},
		{&NetworkError{Err: context.DeadlineExceeded}, ErrorClassNetwork},
		{context.DeadlineExceeded, ErrorClassNetwork},
		{&NetworkError{Err: context.Canceled}, ErrorClassCanceled},
		{context.Canceled, ErrorClassCanceled},
		{&OutcomeUnknownError{Service: "OrderCreate", Err: netErr, QueryErr: &NetworkError{Err: context.Canceled}}, ErrorClassOutcomeUnknown},
		{&OutcomeUnknownError{Service: "OrderCreate", Err: fmt.Errorf("x: %w", ErrSignatureMismatch)}, ErrorClassOutcomeUnknown},
		{&NotProcessedError{Service: "OrderCreate", Err: netErr}, ErrorClassNotProcessed},
		{fmt.Errorf("wrapped: %w", &APIError{}), ErrorClassAPI},
		{errors.Join(errors.New("store"), &GatewayError{StatusCode: 503}), ErrorClassGateway},
		{errors.New("anything else"), ErrorClassOther},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, ErrorClassOf(tc.err), "%v", tc.err)
	}
}

// No observer: the helpers hand the context back and cost no allocation.
func TestObserveWithoutObserver(t *testing.T) {
	c, err := NewClient(testShop, testKeys)
	require.NoError(t, err)
	ctx := t.Context()
	assert.Nil(t, c.Observer().CallEnd)
	fail := &APIError{Status: "F", Code: CodeBusy}
	allocs := testing.AllocsPerRun(100, func() {
		cctx, call := c.observeCallStart(ctx, "OrderQuery", 1)
		nctx, nonce := c.observeNonceStart(cctx, false)
		nonce.end(nil)
		call.end(fail, "", false, true, time.Second)
		_, note := c.observeNotificationStart(nctx)
		note.end(500, NotificationQueryFailed, nil, fail)
		if cctx != ctx || nctx != ctx {
			panic("context changed")
		}
	})
	assert.Zero(t, allocs)

	// An Observer without hooks is no observer at all.
	c2, err := NewClient(testShop, testKeys, WithObserver(Observer{}))
	require.NoError(t, err)
	assert.Nil(t, c2.observer)
}

// A partial Observer: hooks left nil are skipped, and a Start hook
// returning nil keeps the context.
func TestObservePartial(t *testing.T) {
	t.Parallel()
	var done []CallDone
	c := observedClient(t, Observer{
		NonceStart: func(context.Context, NonceInfo) context.Context { return nil },
		CallEnd:    func(_ context.Context, d CallDone) { done = append(done, d) },
	})
	ctx, call := c.observeCallStart(t.Context(), "BillQuery", 3)
	assert.Equal(t, t.Context(), ctx)
	nctx, nonce := c.observeNonceStart(ctx, false)
	assert.Equal(t, ctx, nctx, "nil from a Start hook keeps the context")
	nonce.end(nil)
	call.end(nil, "S0000 – 處理成功", false, false, 0)
	require.Len(t, done, 1)
	assert.Equal(t, CallInfo{Service: "BillQuery", ShopNo: testShop, Attempt: 3}, done[0].CallInfo)

	// The last WithObserver wins, and Observer gives it back.
	var calls int
	c, err := NewClient(testShop, testKeys, WithObserver(Observer{CallEnd: func(context.Context, CallDone) { calls-- }}),
		WithObserver(Observer{CallEnd: func(context.Context, CallDone) { calls++ }}))
	require.NoError(t, err)
	c.Observer().CallEnd(t.Context(), CallDone{})
	_, call = c.observeCallStart(t.Context(), "OrderQuery", 1)
	call.end(nil, "", false, false, 0)
	assert.Equal(t, 2, calls)
}

// The events carry names, codes, counts and durations only. A new field
// must be added here on purpose: never a key, nonce, Sign, PayToken, body
// or error text.
func TestObserverEventsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	allowed := map[string]string{
		"Service": "string", "ShopNo": "string", "Attempt": "int", "HTTPStatus": "int", "Status": "string",
		"Code": "sinopac.Code", "Class": "sinopac.ErrorClass", "NonceFailed": "bool", "Retry": "bool",
		"RetryWait": "time.Duration", "Duration": "time.Duration", "Prefetch": "bool",
		"Outcome": "sinopac.NotificationOutcome", "Reason": "sinopac.NotificationReason", "APType": "string", "Paid": "bool",
		"Checked": "int", "Queries": "int", "Failed": "int", "Events": "map[string]int", "Pending": "int",
		"OldestPending": "time.Duration", "Check": "bool", "Backlog": "bool",
	}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			want, ok := allowed[f.Name]
			if assert.True(t, ok, "%s.%s is not a known event field: make sure it can hold no secret, then list it", typ.Name(), f.Name) {
				assert.Equal(t, want, f.Type.String(), "%s.%s", typ.Name(), f.Name)
			}
		}
	}
	for _, e := range []any{CallInfo{}, CallDone{}, NonceInfo{}, NonceDone{}, NotificationInfo{}, NotificationDone{}, ReconcileInfo{}, ReconcileDone{}} {
		walk(reflect.TypeOf(e))
	}

	// An error that quotes secrets (a gateway echoing headers) gives
	// events without them.
	hashID, err := testKeys.HashID()
	require.NoError(t, err)
	secrets := []string{hashID, testKeys.A1, "MOCKNONCE-000001", "PAYTOKEN-SECRET"}
	rec := &recorder{}
	c := observedClient(t, rec.observer())
	leaky := &GatewayError{Service: "OrderQuery", StatusCode: http.StatusBadGateway, Excerpt: strings.Join(secrets, " ")}
	_, call := c.observeCallStart(t.Context(), "OrderQuery", 1)
	call.end(fmt.Errorf("%w (nonce %s)", leaky, secrets[2]), "", false, true, time.Second)
	_, note := c.observeNotificationStart(t.Context())
	note.end(500, NotificationQueryFailed, nil, &NetworkError{Service: "OrderPayQuery", Err: errors.New("token " + secrets[3])})
	for _, e := range rec.events {
		for _, s := range secrets {
			assert.NotContains(t, fmt.Sprintf("%v %+v %#v", e, e, e), s)
		}
	}
}
