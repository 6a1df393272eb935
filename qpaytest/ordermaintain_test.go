package qpaytest_test

import (
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A virtual-account refund is announced on the BackendURL (VARefundOut).
func TestOrderMaintainVARefundNotifies(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t, qpaytest.WithNotifyRetry(10*time.Millisecond))
	got := make(chan *sinopac.ResponseOrderPayQuery, 4)
	merchant := newMerchant(t, c, got)
	_, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "A200", Amount: sinopac.TWD(300),
		PayType: sinopac.PayTypeATM, ATMParam: sinopac.ATMExpiry(time.Now().Add(time.Hour)), PrdtName: "x",
		BackendURL: merchant + "/notify"})
	require.NoError(t, err)
	_, err = srv.Pay("A200")
	require.NoError(t, err)
	require.Equal(t, sinopac.APTypePayOut, (<-got).TSResultContent.APType)

	r, err := c.Refund(t.Context(), "A200", sinopac.TWD(100))
	require.NoError(t, err)
	assert.Equal(t, sinopac.TWD(100), r.Amount)
	select {
	case n := <-got:
		assert.Equal(t, sinopac.APTypeVARefundOut, n.TSResultContent.APType)
		assert.True(t, n.Succeeded())
		assert.False(t, n.Paid(), "a refund is not a payment")
	case <-time.After(5 * time.Second):
		t.Fatal("no VARefundOut notification")
	}
	o, _ := srv.Order("A200")
	require.Len(t, o.RefundList, 1)
	assert.Equal(t, sinopac.TWD(100), o.RefundAmount)
}

func TestOrderMaintainRefusals(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	ctx := t.Context()
	_, err := c.CreateOrder(ctx, sinopac.OrderCreateRequest{OrderNo: "A300", Amount: sinopac.TWD(300),
		PayType: sinopac.PayTypeATM, ATMParam: sinopac.ATMExpiry(time.Now().Add(time.Hour)), PrdtName: "x"})
	require.NoError(t, err)
	code := func(err error) sinopac.Code {
		var ae *sinopac.APIError
		if assert.ErrorAs(t, err, &ae) {
			return ae.Code
		}
		return ""
	}
	_, err = c.Refund(ctx, "A300", 0)
	assert.Equal(t, qpaytest.CodeOrderState, code(err), "not paid")
	_, err = c.Capture(ctx, "A300")
	assert.Equal(t, qpaytest.CodeOrderState, code(err), "not a card authorisation")
	_, err = c.StopRecurring(ctx, "A300")
	assert.Equal(t, qpaytest.CodeOrderState, code(err))
	_, err = c.ChangeExpiry(ctx, "A300", time.Now().Add(-time.Hour))
	assert.Equal(t, sinopac.CodeBadFormat, code(err), "a deadline in the past")
	_, err = c.Refund(ctx, "NOPE", 0)
	assert.Equal(t, sinopac.CodeNotFound, code(err))
	_, err = srv.Pay("A300")
	require.NoError(t, err)
	_, err = c.Refund(ctx, "A300", sinopac.TWD(301))
	assert.Equal(t, sinopac.CodeAmount, code(err), "more than paid")
	_, err = c.Call(ctx, "OrderMaintain", map[string]any{"ShopNo": srv.ShopNo(), "OrderNo": "A300", "Command": "R", "RefundToken": "RT-FORGED"})
	assert.Equal(t, qpaytest.CodeRefundToken, code(err))
	_, err = c.Call(ctx, "OrderMaintain", map[string]any{"ShopNo": srv.ShopNo(), "OrderNo": "A300", "Command": "X"})
	assert.Equal(t, sinopac.CodeBadFormat, code(err))
	o, _ := srv.Order("A300")
	assert.Empty(t, o.RefundList)
}
