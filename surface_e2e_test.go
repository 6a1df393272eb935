package sinopac_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// e2e starts a simulator and a client wired to it.
func e2e(t *testing.T, opts ...qpaytest.Option) (*qpaytest.Server, *sinopac.Client) {
	t.Helper()
	srv := qpaytest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := srv.NewClient()
	require.NoError(t, err)
	return srv, c
}

func atmOrder(orderNo, backendURL string) sinopac.OrderCreateRequest {
	return sinopac.OrderCreateRequest{
		OrderNo: orderNo, Amount: sinopac.TWD(500), PayType: sinopac.PayTypeATM,
		ATMParam: sinopac.ATMExpiry(time.Now().Add(72 * time.Hour)), PrdtName: "虛擬帳號訂單",
		BackendURL: backendURL,
	}
}

func cardOrder(orderNo string, autoBilling string) sinopac.OrderCreateRequest {
	return sinopac.OrderCreateRequest{
		OrderNo: orderNo, Amount: sinopac.TWD(799), PayType: sinopac.PayTypeCard,
		CardParam: &sinopac.CardParamRequest{AutoBilling: autoBilling}, PrdtName: "T-shirt",
		ReturnURL: "https://shop.example/return",
	}
}

// TestE2EATMCreatePayNotifyQuery: create an ATM order, the bank is paid,
// the BackendHandler gets the notification, QueryPayment confirms it and
// QueryOrders shows 1A400.
func TestE2EATMCreatePayNotifyQuery(t *testing.T) {
	t.Parallel()
	clock := qpaytest.NewClock(time.Now())
	srv, c := e2e(t, qpaytest.WithClock(clock))
	got := make(chan *sinopac.ResponseOrderPayQuery, 4)
	merchant := httptest.NewServer(c.BackendHandler(func(_ context.Context, n *sinopac.ResponseOrderPayQuery) error {
		got <- n
		return nil
	}))
	defer merchant.Close()

	created, err := c.CreateOrder(t.Context(), atmOrder("A202611260101", merchant.URL+"/qpay/notify"))
	require.NoError(t, err)
	require.NotNil(t, created.ATMParam)
	assert.Len(t, created.ATMParam.AtmPayNo, 14)
	assert.NotEmpty(t, created.TSNo)
	assert.False(t, created.Resolved)

	o, ok := srv.Order("A202611260101")
	require.True(t, ok)
	assert.Equal(t, sinopac.PayStatus("1A200"), o.PayStatus)

	token, err := srv.Pay("A202611260101")
	require.NoError(t, err)
	var n *sinopac.ResponseOrderPayQuery
	select {
	case n = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification reached the BackendHandler")
	}
	assert.Equal(t, token, n.PayToken)
	assert.True(t, n.Paid())
	assert.Equal(t, sinopac.APTypePayOut, n.TSResultContent.APType)
	assert.Equal(t, "A202611260101", n.TSResultContent.OrderNo)
	assert.Equal(t, sinopac.TWD(500), n.TSResultContent.Amount)

	again, err := c.QueryPayment(t.Context(), token)
	require.NoError(t, err)
	assert.True(t, again.Paid())

	q, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "A202611260101"})
	require.NoError(t, err)
	require.Len(t, q.OrderList, 1)
	assert.Equal(t, sinopac.PayStatus("1A400"), q.OrderList[0].PayStatus)
	assert.Equal(t, created.TSNo, q.OrderList[0].TSNo)

	clock.Advance(time.Hour) // past every resend the bank would make
	assert.Empty(t, got, "answered S: the bank does not resend")
	assert.Len(t, srv.Deliveries(), 1)
}

func TestE2ECardPartialRefund(t *testing.T) {
	t.Parallel()
	srv, c := e2e(t)
	_, err := c.CreateOrder(t.Context(), cardOrder("C202611260102", "Y"))
	require.NoError(t, err)
	_, err = srv.Pay("C202611260102")
	require.NoError(t, err)

	r, err := c.Refund(t.Context(), "C202611260102", sinopac.TWD(200))
	require.NoError(t, err)
	assert.Equal(t, sinopac.TWD(200), r.Amount)
	assert.Equal(t, sinopac.CommandRefund, r.Command)

	q, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "C202611260102"})
	require.NoError(t, err)
	require.Len(t, q.OrderList, 1)
	o := q.OrderList[0]
	assert.Equal(t, "Y", o.RefundFlag)
	assert.True(t, o.Refunded())
	require.Len(t, o.RefundList, 1)
	assert.Equal(t, sinopac.TWD(200), o.RefundList[0].RefundAmount)
	assert.False(t, o.RefundList[0].RefundDate.IsZero())
	assert.Equal(t, sinopac.PayStatus("1C400"), o.PayStatus)

	// The rest, then nothing is left to refund.
	r, err = c.Refund(t.Context(), "C202611260102", 0)
	require.NoError(t, err)
	assert.Equal(t, sinopac.TWD(599), r.Amount)
	_, err = c.Refund(t.Context(), "C202611260102", sinopac.TWD(100))
	var ae *sinopac.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, sinopac.CodeAmount, ae.Code)
}

func TestE2EVirtualAccountRefundTwoSteps(t *testing.T) {
	t.Parallel()
	srv, c := e2e(t)
	_, err := c.CreateOrder(t.Context(), atmOrder("A202611260103", ""))
	require.NoError(t, err)
	_, err = srv.Pay("A202611260103")
	require.NoError(t, err)

	r, err := c.Refund(t.Context(), "A202611260103", 0)
	require.NoError(t, err)
	assert.Equal(t, sinopac.TWD(500), r.Amount)
	assert.Equal(t, 2, srv.Stats().Requests["OrderMaintain"], "token step and confirming step")
	o, _ := srv.Order("A202611260103")
	require.Len(t, o.RefundList, 1)
	assert.Equal(t, sinopac.RefundStatus("2A400"), o.RefundList[0].RefundStatus)
}

// The simulator's RefundToken lives 120 s by its clock.
func TestE2ERefundTokenExpires(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	srv, c := e2e(t, qpaytest.WithClock(func() time.Time { return time.Unix(0, now.Load()) }))
	_, err := c.CreateOrder(t.Context(), atmOrder("A202611260104", ""))
	require.NoError(t, err)
	_, err = srv.Pay("A202611260104")
	require.NoError(t, err)

	step := func(token string) (map[string]any, error) {
		req := map[string]any{"ShopNo": srv.ShopNo(), "OrderNo": "A202611260104", "Command": "R"}
		if token != "" {
			req["RefundToken"] = token
		}
		var out map[string]any
		plain, err := c.Call(t.Context(), "OrderMaintain", req)
		if err == nil {
			err = json.Unmarshal(plain, &out)
		}
		return out, err
	}
	first, err := step("")
	require.NoError(t, err)
	token, _ := first["RefundToken"].(string)
	require.NotEmpty(t, token)
	now.Add(int64(121 * time.Second))
	_, err = step(token)
	var ae *sinopac.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, qpaytest.CodeRefundToken, ae.Code)
	o, _ := srv.Order("A202611260104")
	assert.Empty(t, o.RefundList, "no refund without a valid token")
}

// A create whose reply is dropped after the bank stored the order returns
// that order (settled by OrderQuery), not a duplicate or a bare error.
func TestE2ECreateReplyDropped(t *testing.T) {
	t.Parallel()
	srv, c := e2e(t)
	srv.InjectFault(qpaytest.Fault{Service: "OrderCreate", DropReply: true})
	r, err := c.CreateOrder(t.Context(), atmOrder("A202611260105", ""))
	require.NoError(t, err)
	assert.True(t, r.Resolved)
	stored, ok := srv.Order("A202611260105")
	require.True(t, ok)
	assert.Equal(t, stored.TSNo, r.TSNo)
	assert.Equal(t, stored.ATMParam.AtmPayNo, r.ATMParam.AtmPayNo)
	assert.Equal(t, sinopac.TWD(500), r.Amount)
	st := srv.Stats()
	assert.Equal(t, 1, st.Requests["OrderCreate"], "never sent twice")
	assert.Equal(t, 1, st.Requests["OrderQuery"])
	assert.Zero(t, st.NoncesReused)
	assert.Len(t, srv.Orders(), 1)
}

func TestE2ECreateNotVisibleThenResent(t *testing.T) {
	t.Parallel()
	srv, c := e2e(t)
	// The gateway fails in front of the bank: nothing was stored, but a
	// 502 proves nothing, so the outcome is unknown.
	srv.InjectFault(qpaytest.Fault{Service: "OrderCreate", Status: http.StatusBadGateway, Body: "bad gateway"})
	_, err := c.CreateOrder(t.Context(), atmOrder("A202611260106", ""))
	var oue *sinopac.OutcomeUnknownError
	require.ErrorAs(t, err, &oue)
	require.True(t, oue.SafeToResend())
	var ge *sinopac.GatewayError
	require.ErrorAs(t, err, &ge)
	// Safe to send again: it is created once.
	r, err := c.CreateOrder(t.Context(), atmOrder("A202611260106", ""))
	require.NoError(t, err)
	assert.False(t, r.Resolved)
	assert.Equal(t, 2, srv.Stats().Requests["OrderCreate"])
}

func TestE2ECreateOutcomeUnknown(t *testing.T) {
	t.Parallel()
	srv, c := e2e(t)
	srv.InjectFault(qpaytest.Fault{Service: "OrderCreate", DropReply: true})
	srv.InjectFault(qpaytest.Fault{Service: "OrderQuery", Times: -1, Code: sinopac.CodeQueryFailed})
	_, err := c.CreateOrder(t.Context(), atmOrder("A202611260107", ""))
	var oue *sinopac.OutcomeUnknownError
	require.ErrorAs(t, err, &oue)
	assert.Equal(t, "A202611260107", oue.OrderNo)
	assert.NotErrorIs(t, err, sinopac.ErrNotProcessed)
	_, stored := srv.Order("A202611260107")
	assert.True(t, stored, "the bank did create it: the caller must not resend")
}

// A lost reply whose OrderNo turns out to hold another order (taken
// before) is not reported as our order created.
func TestE2ECreateReplyDroppedOrderNoTaken(t *testing.T) {
	t.Parallel()
	srv, c := e2e(t)
	first := atmOrder("A202611260109", "")
	_, err := c.CreateOrder(t.Context(), first)
	require.NoError(t, err)
	second := first
	second.Amount = sinopac.TWD(900)
	srv.InjectFault(qpaytest.Fault{Service: "OrderCreate", DropReply: true})
	r, err := c.CreateOrder(t.Context(), second)
	assert.Nil(t, r)
	var oue *sinopac.OutcomeUnknownError
	require.ErrorAs(t, err, &oue)
	require.Error(t, oue.Err, "the original failure is kept")
	require.ErrorContains(t, oue.QueryErr, "already holds an order of NT$500.00")
	assert.NotErrorIs(t, err, sinopac.ErrNotProcessed)
}

// A create is idempotent by OrderNo: the same request sent twice is one
// order, the second answer the first's order (the bank's E0302 settled).
func TestE2ECreateIdempotent(t *testing.T) {
	t.Parallel()
	srv, c := e2e(t)
	first, err := c.CreateOrder(t.Context(), atmOrder("A202611260108", ""))
	require.NoError(t, err)
	again, err := c.CreateOrder(t.Context(), atmOrder("A202611260108", ""))
	require.NoError(t, err)
	assert.True(t, again.Resolved)
	assert.Equal(t, first.TSNo, again.TSNo)
	assert.Equal(t, first.ATMParam.AtmPayNo, again.ATMParam.AtmPayNo)
	assert.Len(t, srv.Orders(), 1)
}

func TestE2ESimulatorChecksCreate(t *testing.T) {
	t.Parallel()
	_, c := e2e(t)
	// Bypass the SDK's validation to see the simulator's own checks.
	cases := []struct {
		code sinopac.Code
		req  map[string]any
	}{
		{sinopac.CodeAmount, map[string]any{"OrderNo": "X1", "Amount": 150, "PayType": "A", "PrdtName": "x", "ATMParam": map[string]any{"ExpireDate": "20301231"}}},
		{sinopac.CodeAmount, map[string]any{"OrderNo": "X1", "Amount": 3000100, "PayType": "A", "PrdtName": "x", "ATMParam": map[string]any{"ExpireDate": "20301231"}}},
		{sinopac.CodeBadFormat, map[string]any{"OrderNo": "X1", "Amount": 100, "PayType": "A", "PrdtName": "x"}},
		{sinopac.CodeBadFormat, map[string]any{"OrderNo": "X1", "Amount": 100, "PayType": "C", "PrdtName": "x"}},
		{sinopac.CodeBadFormat, map[string]any{"OrderNo": "X1", "Amount": 100, "PayType": "C", "PrdtName": "x", "QRCodeSize": 900, "CardParam": map[string]any{"AutoBilling": "Y"}}},
		{sinopac.CodeBadFormat, map[string]any{"OrderNo": "X'1", "Amount": 100, "PayType": "M", "PrdtName": "x"}},
		{sinopac.CodeShopWrong, map[string]any{"ShopNo": "NA0249_002", "OrderNo": "X1", "Amount": 100, "PayType": "M", "PrdtName": "x"}},
	}
	for _, tc := range cases {
		if _, ok := tc.req["ShopNo"]; !ok {
			tc.req["ShopNo"] = c.ShopNo()
		}
		_, err := c.Call(t.Context(), "OrderCreate", tc.req)
		var ae *sinopac.APIError
		require.ErrorAs(t, err, &ae, "%v", tc.req)
		assert.Equal(t, tc.code, ae.Code, "%v", tc.req)
	}
}

func TestE2ECaptureAndUnCaptured(t *testing.T) {
	t.Parallel()
	srv, c := e2e(t)
	_, err := c.CreateOrder(t.Context(), cardOrder("C202611260109", "N"))
	require.NoError(t, err)
	_, err = srv.Pay("C202611260109")
	require.NoError(t, err)

	u, err := c.QueryUnCaptured(t.Context(), "")
	require.NoError(t, err)
	require.Len(t, u.OrderList, 1)
	assert.Equal(t, sinopac.PayStatus("1C300"), u.OrderList[0].PayStatus)
	assert.False(t, u.OrderList[0].AuthExpireDate.IsZero())

	_, err = c.Capture(t.Context(), "C202611260109")
	require.NoError(t, err)
	o, _ := srv.Order("C202611260109")
	assert.Equal(t, sinopac.PayStatus("1C400"), o.PayStatus)
	u, err = c.QueryUnCaptured(t.Context(), "C202611260109")
	require.NoError(t, err)
	assert.Empty(t, u.OrderList)
	assert.Equal(t, sinopac.CodeNoData, u.Code())

	_, err = c.Capture(t.Context(), "C202611260109")
	var ae *sinopac.APIError
	require.ErrorAs(t, err, &ae, "captured already")
	assert.Equal(t, qpaytest.CodeOrderState, ae.Code)
	_, err = c.Cancel(t.Context(), "NOPE")
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, sinopac.CodeNotFound, ae.Code)
}

func TestE2ECancelAndExpiry(t *testing.T) {
	t.Parallel()
	srv, c := e2e(t)
	_, err := c.CreateOrder(t.Context(), atmOrder("A202611260110", ""))
	require.NoError(t, err)
	deadline := time.Now().Add(240 * time.Hour).Truncate(time.Minute)
	_, err = c.ChangeExpiry(t.Context(), "A202611260110", deadline)
	require.NoError(t, err)
	o, _ := srv.Order("A202611260110")
	assert.True(t, o.ExpireDate.Time().Equal(deadline))
	_, err = c.Cancel(t.Context(), "A202611260110")
	require.NoError(t, err)
	o, _ = srv.Order("A202611260110")
	assert.Equal(t, sinopac.PayStatus("1A250"), o.PayStatus)

	_, err = c.CreateOrder(t.Context(), cardOrder("C202611260111", "Y"))
	require.NoError(t, err)
	_, err = c.StopRecurring(t.Context(), "C202611260111")
	require.NoError(t, err)
}

// billBook is a fixed clock and a book with one payment two days before
// and a refund one day before.
func billBook(t *testing.T) (*qpaytest.Server, *sinopac.Client, time.Time) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, sinopac.Taipei)
	srv, c := e2e(t, qpaytest.WithClock(func() time.Time { return now }))
	paid := now.AddDate(0, 0, -2)
	srv.AddOrders(sinopac.Order{
		OrderNo: "C202611240001", TSNo: "NA024900009001", TSDate: sinopac.At(paid.Add(-time.Hour)),
		PayDate: sinopac.At(paid), Amount: sinopac.TWD(1000), PayType: sinopac.PayTypeCard, PayStatus: "1C400",
		RefundFlag: "Y", Param1: "p1",
		RefundList: []sinopac.Refund{{RefundNo: "R1", RefundDate: sinopac.At(now.AddDate(0, 0, -1)), RefundAmount: sinopac.TWD(300), RefundStatus: "2C900"}},
	})
	return srv, c, now
}

func TestE2EBillQuery(t *testing.T) {
	t.Parallel()
	_, c, now := billBook(t)
	r, err := c.QueryBill(t.Context(), sinopac.BillQuery{BillDate: now.AddDate(0, 0, -2), Now: now})
	require.NoError(t, err)
	require.Len(t, r.OrderList, 1)
	assert.Equal(t, "P", r.OrderList[0].TSType)
	assert.Equal(t, sinopac.TWD(1000), r.OrderList[0].Amount)
	assert.Equal(t, "p1", r.OrderList[0].Param1)
	assert.Equal(t, "20261124", r.BillDate.String())

	r, err = c.QueryBill(t.Context(), sinopac.BillQuery{BillDate: now.AddDate(0, 0, -1), Now: now})
	require.NoError(t, err)
	require.Len(t, r.OrderList, 1)
	assert.Equal(t, "R", r.OrderList[0].TSType)
	assert.Equal(t, sinopac.TWD(300), r.OrderList[0].Amount)

	r, err = c.QueryBill(t.Context(), sinopac.BillQuery{BillDate: now.AddDate(0, 0, -10), Now: now})
	require.NoError(t, err)
	assert.Empty(t, r.OrderList)
	assert.Equal(t, sinopac.CodeNoData, r.Code())

	// The simulator applies the 1–30 days rule itself.
	_, err = c.Call(t.Context(), "BillQuery", map[string]string{"ShopNo": c.ShopNo(), "BillDate": "20261126"})
	var ae *sinopac.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, sinopac.CodeBadFormat, ae.Code)
}

func TestE2EAllotQuery(t *testing.T) {
	t.Parallel()
	_, c, now := billBook(t)
	r, err := c.QueryAllot(t.Context(), sinopac.AllotQuery{AllotDateS: now.AddDate(0, 0, -7), AllotDateE: now, PayType: sinopac.PayTypeCard})
	require.NoError(t, err)
	require.Len(t, r.Allot, 2, "the payment paid out the next day, the refund the day after")
	pay, ref := r.Allot[0], r.Allot[1]
	assert.Equal(t, "20261125", pay.AllotDate.String())
	require.Len(t, pay.List, 1)
	assert.Equal(t, "C202611240001", pay.List[0].OrderNo)
	assert.Equal(t, "NA024900009001", pay.List[0].TSNo)
	assert.Equal(t, sinopac.TWD(20), pay.FeeAmount)
	assert.Equal(t, sinopac.TWD(980), pay.AllotAmount)
	assert.Equal(t, sinopac.TWD(300), ref.RefundAmount)
	assert.Equal(t, sinopac.TWD(-300), ref.AllotAmount)

	r, err = c.QueryAllot(t.Context(), sinopac.AllotQuery{AllotDateS: now.AddDate(0, 0, -7), AllotDateE: now, PayType: sinopac.PayTypeATM})
	require.NoError(t, err)
	assert.Empty(t, r.Allot)
	assert.Equal(t, sinopac.CodeNoData, r.Code())

	// The wire keys are the bank's TSNO / OrderNO.
	plain, err := c.Call(t.Context(), "AllotQuery", map[string]string{"ShopNo": c.ShopNo(),
		"AllotDateS": "20261125", "AllotDateE": "20261125", "PayType": "C"})
	require.NoError(t, err)
	assert.Contains(t, string(plain), `"TSNO":"NA024900009001","OrderNO":"C202611240001"`)
}

// The bank resends until answered S; a failing merchant function is
// retried, and a Deduper keeps both card URLs from acting twice.
func TestE2ENotificationRetriesAndDedup(t *testing.T) {
	t.Parallel()
	clock := qpaytest.NewClock(time.Now())
	srv, c := e2e(t, qpaytest.WithClock(clock))
	var calls, acted atomic.Int32
	d := sinopac.NewDeduper(time.Hour, 100)
	once := d.Once(func(_ context.Context, n *sinopac.ResponseOrderPayQuery) error {
		if calls.Add(1) == 1 {
			return errors.New("database busy")
		}
		acted.Add(1)
		return nil
	})
	backend := httptest.NewServer(c.BackendHandler(once))
	defer backend.Close()
	var returned sync.WaitGroup
	returned.Add(1)
	browser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer returned.Done()
		shop, tok, err := sinopac.ParseReturnNotification(r)
		if assert.NoError(t, err) && assert.Equal(t, c.ShopNo(), shop) {
			n, err := c.QueryPayment(r.Context(), tok)
			if assert.NoError(t, err) {
				_ = once(r.Context(), n)
			}
		}
		fmt.Fprint(w, "<p>Thank you</p>")
	}))
	defer browser.Close()

	req := cardOrder("C202611260112", "Y")
	req.ReturnURL, req.BackendURL = browser.URL+"/return", backend.URL+"/notify"
	_, err := c.CreateOrder(t.Context(), req)
	require.NoError(t, err)
	tok, err := srv.Pay("C202611260112")
	require.NoError(t, err)
	clock.Advance(time.Hour) // the first tries and every resend due
	returned.Wait()
	require.True(t, d.Seen(tok))
	assert.Equal(t, int32(1), acted.Load(), "acted on once")
	assert.GreaterOrEqual(t, calls.Load(), int32(2))
}

// A notification with a token the bank does not know gets a non-S answer
// and never reaches the merchant's function.
func TestE2EBackendHandlerUnknownToken(t *testing.T) {
	t.Parallel()
	_, c := e2e(t)
	var called atomic.Bool
	h := httptest.NewServer(c.BackendHandler(func(context.Context, *sinopac.ResponseOrderPayQuery) error {
		called.Store(true)
		return nil
	}))
	defer h.Close()
	resp, err := h.Client().Post(h.URL, "application/json", strings.NewReader(`{"ShopNo":"`+c.ShopNo()+`","PayToken":"PT-FORGED-123"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	body := string(b)
	assert.NotEqual(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, body, `"S"`)
	assert.False(t, called.Load())
}
