package sinopac

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryAllot(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	bank.replyOrder(func(req recorded) *reply {
		assert.Equal(t, "AllotQuery", req.Env.APIService)
		return fixture(t, "allotquery.json")
	})
	r, err := bank.client(WithRetryPolicy(fastRetry)).QueryAllot(t.Context(), AllotQuery{
		AllotDateS: time.Date(2026, 11, 1, 0, 0, 0, 0, Taipei), AllotDateE: time.Date(2026, 11, 25, 23, 0, 0, 0, Taipei),
		PayType: PayTypeCard})
	require.NoError(t, err)
	golden(t, "allotquery.json", bank.orders()[0].Plain)
	require.Len(t, r.Allot, 1)
	a := r.Allot[0]
	assert.Equal(t, TWD(1554), a.AllotAmount)
	assert.Equal(t, a.PayAmount-a.RefundAmount-a.FeeAmount, a.AllotAmount)
	require.Len(t, a.List, 2)
	assert.Equal(t, "NA024900000140", a.List[0].TSNo, "decoded from TSNO")
	assert.Equal(t, "C202611150001", a.List[0].OrderNo, "decoded from OrderNO")
	assert.Equal(t, TWD(45), a.List[0].Fee)
}

// The bank spells these two keys TSNO and OrderNO; a simulator or fixture
// built from AllotItem must too.
func TestAllotItemWireKeys(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(AllotItem{TSNo: "T1", OrderNo: "O1", Amount: 100, TSType: "P"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"TSNO":"T1","OrderNO":"O1","PayDate":"","Amount":100,"Fee":0,"TSType":"P"}`, string(b))
	assert.Contains(t, string(b), `"TSNO":"T1","OrderNO":"O1"`)
}

func TestAllotQueryValidate(t *testing.T) {
	t.Parallel()
	s, e := time.Date(2026, 11, 1, 0, 0, 0, 0, Taipei), time.Date(2026, 11, 2, 0, 0, 0, 0, Taipei)
	cases := []struct {
		field string
		q     AllotQuery
	}{
		{"AllotDateS", AllotQuery{AllotDateE: e, PayType: PayTypeATM}},
		{"AllotDateE", AllotQuery{AllotDateS: s, PayType: PayTypeATM}},
		{"AllotDateS", AllotQuery{AllotDateS: e, AllotDateE: s, PayType: PayTypeATM}},
		{"PayType", AllotQuery{AllotDateS: s, AllotDateE: e}},
		{"PayType", AllotQuery{AllotDateS: s, AllotDateE: e, PayType: "Z"}},
	}
	bank := newMockBank(t)
	c := bank.client(WithRetryPolicy(fastRetry))
	for _, tc := range cases {
		_, err := c.QueryAllot(t.Context(), tc.q)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, tc.field, ve.Field)
	}
	assert.Zero(t, bank.calls())
	require.NoError(t, AllotQuery{AllotDateS: s, AllotDateE: s, PayType: PayTypeWallet}.Validate(), "one day")
}

func TestQueryAllotStatusFAndEmpty(t *testing.T) {
	t.Parallel()
	q := AllotQuery{AllotDateS: time.Date(2026, 11, 1, 0, 0, 0, 0, Taipei), AllotDateE: time.Date(2026, 11, 2, 0, 0, 0, 0, Taipei), PayType: PayTypeATM}
	bank := newMockBank(t)
	bank.replyOrder(func(recorded) *reply { return fail(CodeShopWrong, "商店代號錯誤") })
	_, err := bank.client(WithRetryPolicy(fastRetry)).QueryAllot(t.Context(), q)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, CodeShopWrong, ae.Code)
	assert.Equal(t, "AllotQuery", ae.Service)

	empty := newMockBank(t)
	empty.replyOrder(func(recorded) *reply {
		return ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"})
	})
	r, err := empty.client(WithRetryPolicy(fastRetry)).QueryAllot(t.Context(), q)
	require.NoError(t, err)
	assert.NotNil(t, r.Allot)
	assert.Empty(t, r.Allot)
	assert.Equal(t, CodeNoData, r.Code())
}
