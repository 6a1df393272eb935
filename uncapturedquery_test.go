package sinopac

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryUnCaptured(t *testing.T) {
	t.Parallel()
	bank := newSurfaceBank(t, func(service string, _ []byte) bankReply {
		assert.Equal(t, "OrderUnCapturedQuery", service)
		return fixture(t, "uncapturedquery.json")
	})
	c := bank.client()
	r, err := c.QueryUnCaptured(t.Context(), "")
	require.NoError(t, err)
	_, err = c.QueryUnCaptured(t.Context(), "C202611250007")
	require.NoError(t, err)
	reqs := bank.requests()
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
	bank := newSurfaceBank(t, func(string, []byte) bankReply {
		return ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"})
	})
	r, err := bank.client().QueryUnCaptured(t.Context(), "")
	require.NoError(t, err)
	assert.NotNil(t, r.OrderList)
	assert.Empty(t, r.OrderList)
	assert.Equal(t, CodeNoData, r.Code())

	_, err = bank.client().QueryUnCaptured(t.Context(), strings.Repeat("x", 51))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "OrderNo", ve.Field)
	assert.Len(t, bank.requests(), 1)

	failing := newSurfaceBank(t, func(string, []byte) bankReply { return fail(CodeShopUnknown, "商店代號錯誤") })
	_, err = failing.client().QueryUnCaptured(t.Context(), "")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, CodeShopUnknown, ae.Code)
}
