package sinopac

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixtureToken = "2f9f3bd8a7d54c36b8ac4ac2f9e8a1f0d0f8c6e0b7a1c2d3e4f5a6b7c8d9e0f1"

func TestQueryPaymentWireAndDecode(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t).replyOrder(func(req recorded) *reply {
		assert.Equal(t, "OrderPayQuery", req.Env.APIService)
		return fixture(t, "orderpayquery.json")
	})
	r, err := bank.client(WithRetryPolicy(fastRetry)).QueryPayment(t.Context(), fixtureToken)
	require.NoError(t, err)
	golden(t, "orderpayquery.json", bank.orders()[0].Plain)

	ts := r.TSResultContent
	assert.Equal(t, Amount(9440300), ts.Amount, "Amount arrives as a JSON string")
	assert.Equal(t, APTypePayOut, ts.APType)
	assert.Equal(t, "C202611260002", ts.OrderNo)
	assert.Equal(t, PayTypeCard, ts.PayType)
	assert.Equal(t, "202611261014", ts.PayDate.String())
	assert.Equal(t, "0127", ts.RightCCNo)
	assert.Equal(t, "ONE", ts.PayTypeSub)
	assert.Equal(t, "00", ts.AuthResponseCode)
	assert.Equal(t, CodeOK, ts.Code())
	assert.Equal(t, "202611261015", r.Date.String())
	assert.True(t, r.Paid())
	assert.True(t, r.Succeeded())
	assert.False(t, r.Failed())
}

func TestPaymentResultIsTheInnerStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		apType, status string
		paid, failed   bool
	}{
		{APTypePayOut, "S", true, false},
		{APTypeRegularOut, "S", true, false},
		{APTypePayOut, "F", false, true},
		{APTypeCaptureOut, "S", false, false},
		{APTypeVARefundOut, "S", false, false},
		{APTypeCardBindOut, "S", false, false},
		{APTypePayOut, "", false, false},
	}
	for _, tc := range cases {
		r := ResponseOrderPayQuery{Status: "S", TSResultContent: TSResult{APType: tc.apType, Status: tc.status}}
		assert.Equal(t, tc.paid, r.Paid(), "%s/%s", tc.apType, tc.status)
		assert.Equal(t, tc.failed, r.Failed(), "%s/%s", tc.apType, tc.status)
	}
}

func TestQueryPaymentErrors(t *testing.T) {
	t.Parallel()
	t.Run("validation", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t)
		c := bank.client(WithRetryPolicy(fastRetry))
		for _, tok := range []string{"", strings.Repeat("a", 101), "a b", "a'b", "a%b", "tok\n", "令牌"} {
			_, err := c.QueryPayment(t.Context(), tok)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve, "%q", tok)
			assert.Equal(t, "PayToken", ve.Field)
		}
		assert.Zero(t, bank.calls())
		assert.NoError(t, checkPayToken("PT00000001+/AbC=="), "base64-like tokens are fine")
		assert.NoError(t, checkPayToken(strings.Repeat("a", 100)))
	})
	t.Run("unknown token E2501", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyOrder(func(recorded) *reply { return fail(CodePayTokenInvalid, "付款查詢 Token 錯誤") })
		_, err := bank.client(WithRetryPolicy(fastRetry)).QueryPayment(t.Context(), "nope")
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, CodePayTokenInvalid, ae.Code)
		assert.Len(t, bank.orders(), 1, "a Status F is not retried")
	})
	t.Run("busy is retried", func(t *testing.T) {
		t.Parallel()
		n := 0
		bank := newMockBank(t).replyOrder(func(recorded) *reply {
			if n++; n == 1 {
				return fail(CodeBusy, "系統忙碌中")
			}
			return fixture(t, "orderpayquery.json")
		})
		_, err := bank.client(WithRetryPolicy(fastRetry)).QueryPayment(t.Context(), fixtureToken)
		require.NoError(t, err)
		assert.Len(t, bank.orders(), 2)
	})
	t.Run("reply for another token", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyOrder(func(recorded) *reply { return fixture(t, "orderpayquery.json") })
		_, err := bank.client(WithRetryPolicy(fastRetry)).QueryPayment(t.Context(), "another-token")
		require.ErrorIs(t, err, ErrMalformedMessage)
	})
	t.Run("reply for another shop", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyOrder(func(recorded) *reply {
			return ok(map[string]any{"PayToken": "t1", "TSResultContent": map[string]any{"ShopNo": "XX0001_001", "Status": "S", "APType": "PayOut"}})
		})
		_, err := bank.client(WithRetryPolicy(fastRetry)).QueryPayment(t.Context(), "t1")
		require.ErrorIs(t, err, ErrMalformedMessage)
	})
	t.Run("bad sign", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyOrder(func(recorded) *reply { return fixture(t, "orderpayquery.json").tamper(forgeSign) })
		r, err := bank.client(WithRetryPolicy(fastRetry)).QueryPayment(t.Context(), fixtureToken)
		assert.Nil(t, r)
		require.ErrorIs(t, err, ErrSignatureMismatch)
	})
}
