package qpaytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newSim(t *testing.T, opts ...qpaytest.Option) (*qpaytest.Server, *sinopac.Client) {
	t.Helper()
	srv := qpaytest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := srv.NewClient()
	require.NoError(t, err)
	return srv, c
}

func TestOrderCreateBooksTheOrder(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	ctx := t.Context()
	plain, err := c.Call(ctx, "OrderCreate", map[string]any{
		"ShopNo": srv.ShopNo(), "OrderNo": "A1", "Amount": 50000, "CurrencyID": "TWD", "PayType": "A",
		"ATMParam": map[string]any{"ExpireDate": "20301231", "ExpireTime": "1200"}, "PrdtName": "x",
		"Param1": "p1", "QRCodeStatus": "Y",
	})
	require.NoError(t, err)
	var rep map[string]any
	require.NoError(t, json.Unmarshal(plain, &rep))
	for _, k := range []string{"OrderNo", "ShopNo", "TSNo", "Amount", "Status", "Description", "PayType", "Param1", "QRCodeURL", "ATMParam"} {
		assert.Contains(t, rep, k)
	}
	assert.Equal(t, float64(50000), rep["Amount"], "a JSON number in OrderCreate replies")
	atm := rep["ATMParam"].(map[string]any)
	assert.Contains(t, atm, "AtmPayNo")
	assert.Contains(t, atm, "WebAtmURL")

	o, ok := srv.Order("A1")
	require.True(t, ok)
	assert.Equal(t, sinopac.PayStatus("1A200"), o.PayStatus)
	assert.Equal(t, rep["TSNo"], o.TSNo)
	assert.Equal(t, "203012311200", o.ExpireDate.String())
	assert.Equal(t, atm["AtmPayNo"], o.ATMParam.AtmPayNo)
	assert.Equal(t, "N", o.RefundFlag)
	assert.Equal(t, "p1", o.Param1)
	assert.False(t, o.TSDate.IsZero())

	_, err = c.CreateOrder(ctx, sinopac.OrderCreateRequest{OrderNo: "C1", Amount: 100, PayType: sinopac.PayTypeCard,
		CardParam: &sinopac.CardParamRequest{AutoBilling: "N", ExpMinutes: 5}, PrdtName: "x"})
	require.NoError(t, err)
	o, _ = srv.Order("C1")
	assert.Equal(t, sinopac.PayStatus("1C200"), o.PayStatus)
	assert.NotEmpty(t, o.CardParam.CardPayURL)
	_, err = srv.Pay("C1")
	require.NoError(t, err)
	o, _ = srv.Order("C1")
	assert.Equal(t, sinopac.PayStatus("1C300"), o.PayStatus, "AutoBilling N only authorises")
}

func TestOrderCreateDuplicateAndWallet(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	w := sinopac.OrderCreateRequest{OrderNo: "W1", Amount: 100, PayType: sinopac.PayTypeWallet,
		WalletParam: &sinopac.WalletParamRequest{PayTypeSub: "Jko"}, PrdtName: "x"}
	r, err := c.CreateOrder(t.Context(), w)
	require.NoError(t, err)
	require.NotNil(t, r.WalletParam)
	assert.NotEmpty(t, r.WalletParam.WalletPayURL)
	_, err = c.CreateOrder(t.Context(), w)
	var ae *sinopac.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, sinopac.CodeDuplicateOrder, ae.Code)
	q, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "W1"})
	require.NoError(t, err)
	assert.Empty(t, q.OrderList, "OrderQuery does not return e-wallet orders")
	assert.Len(t, srv.Orders(), 1)
}

func TestOrderCreateAutoPay(t *testing.T) {
	t.Parallel()
	clock := qpaytest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei))
	srv, c := newSim(t, qpaytest.WithClock(clock), qpaytest.WithAutoPay(5*time.Minute))
	for _, no := range []string{"A100", "A109"} {
		_, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: no, Amount: 100, PayType: sinopac.PayTypeATM,
			ATMParam: sinopac.ATMExpiry(clock.Now().Add(time.Hour)), PrdtName: "x"})
		require.NoError(t, err)
	}
	clock.Advance(5 * time.Minute)
	o, _ := srv.Order("A100")
	assert.Equal(t, sinopac.PayStatus("1A400"), o.PayStatus)
	o, _ = srv.Order("A109")
	assert.Equal(t, sinopac.PayStatus("1A200"), o.PayStatus, "an OrderNo ending in 9 is not paid")
}

// newMerchant serves c's BackendHandler, passing results to got.
func newMerchant(t *testing.T, c *sinopac.Client, got chan<- *sinopac.ResponseOrderPayQuery) string {
	t.Helper()
	h := httptest.NewServer(c.BackendHandler(func(_ context.Context, n *sinopac.ResponseOrderPayQuery) error {
		got <- n
		return nil
	}))
	t.Cleanup(h.Close)
	return h.URL
}

// Concurrent creates of one OrderNo: the bank books exactly one.
func TestOrderCreateConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	const n = 16
	var wg sync.WaitGroup
	var created, dup atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "SAME-1", Amount: sinopac.TWD(int64(100 + i)),
				PayType: sinopac.PayTypeMobile, PrdtName: "x"})
			var ae *sinopac.APIError
			switch {
			case err == nil:
				created.Add(1)
			case errors.As(err, &ae) && ae.Code == sinopac.CodeDuplicateOrder:
				dup.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), created.Load())
	assert.Equal(t, int32(n-1), dup.Load())
	assert.Len(t, srv.Orders(), 1)
	assert.Zero(t, srv.Stats().NoncesReused)
}
