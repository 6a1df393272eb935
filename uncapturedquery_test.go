package sinopac

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryUnCaptured(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	bank.replyOrder(func(req recorded) *reply {
		assert.Equal(t, "OrderUnCapturedQuery", req.Env.APIService)
		return fixture(t, "uncapturedquery.json")
	})
	c := bank.client(WithRetryPolicy(fastRetry))
	r, err := c.QueryUnCaptured(t.Context(), "")
	require.NoError(t, err)
	_, err = c.QueryUnCaptured(t.Context(), "C202611250007")
	require.NoError(t, err)
	reqs := bank.orders()
	golden(t, "uncapturedquery_all.json", reqs[0].Plain)
	golden(t, "uncapturedquery_order.json", reqs[1].Plain)

	require.Len(t, r.OrderList, 1)
	o := r.OrderList[0]
	assert.Equal(t, "C202611250007", o.OrderNo)
	assert.Equal(t, TWD(1200), o.Amount)
	assert.True(t, o.PayStatus.Authorized())
	assert.Equal(t, "202612252359", o.AuthExpireDate.String())
	assert.Equal(t, "咖啡豆 1kg", o.PrdtName)
	assert.Equal(t, CodeOK, r.Code())
}

func TestQueryUnCapturedEmptyAndErrors(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	bank.replyOrder(func(recorded) *reply {
		return ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"})
	})
	r, err := bank.client(WithRetryPolicy(fastRetry)).QueryUnCaptured(t.Context(), "")
	require.NoError(t, err)
	assert.NotNil(t, r.OrderList)
	assert.Empty(t, r.OrderList)
	assert.Equal(t, CodeNoData, r.Code())

	_, err = bank.client(WithRetryPolicy(fastRetry)).QueryUnCaptured(t.Context(), strings.Repeat("x", 51))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "OrderNo", ve.Field)
	assert.Len(t, bank.orders(), 1)

	failing := newMockBank(t)
	failing.replyOrder(func(recorded) *reply { return fail(CodeShopUnknown, "商店代號錯誤") })
	_, err = failing.client(WithRetryPolicy(fastRetry)).QueryUnCaptured(t.Context(), "")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, CodeShopUnknown, ae.Code)
}
