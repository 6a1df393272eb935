package sinopac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specCreate is the bank's published OrderCreate example (vectors
// spec_request) as a typed request.
func specCreate() OrderCreateRequest {
	return OrderCreateRequest{
		ShopNo: "BA0026_001", OrderNo: "A201804270001", Amount: TWD(500), CurrencyID: "TWD",
		PayType: PayTypeATM, ATMParam: &ATMParamRequest{ExpireDate: "20180502"}, PrdtName: "虛擬帳號訂單",
		ReturnURL:  "http://10.11.22.113:8803/QPay.ApiClient/Store/Return",
		BackendURL: "http://10.11.22.113:8803/QPay.ApiClient/AutoPush/PushSuccess",
	}
}

func TestCreateOrderSpecSign(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).SpecRequest
	req := specCreate()
	require.NoError(t, req.Validate())

	env, err := Seal("OrderCreate", req.ShopNo, req, v.Nonce, v.HashID)
	require.NoError(t, err)
	assert.Equal(t, "A3EAEE3B361B7E7E9B0F6422B954ECA5D54CEC6EAB0880CB484AA6FDA4154331", env.Sign)
	assert.Equal(t, v.Sign, env.Sign)
	plain, err := env.Open(v.HashID)
	require.NoError(t, err)
	// A nil CardParam is left out; the spec's example sends an empty one,
	// which the Sign ignores (objects do not take part).
	assert.Equal(t, strings.Replace(v.Plaintext, `"CardParam":{},`, "", 1), string(plain))

	// CurrencyID defaults to TWD on the wire, however the request is sealed.
	req.CurrencyID = ""
	env, err = Seal("OrderCreate", req.ShopNo, req, v.Nonce, v.HashID)
	require.NoError(t, err)
	assert.Equal(t, v.Sign, env.Sign)
	env, err = Seal("OrderCreate", req.ShopNo, &req, v.Nonce, v.HashID)
	require.NoError(t, err)
	assert.Equal(t, v.Sign, env.Sign)

	// With the spec's empty CardParam the whole envelope is the spec's.
	req.CardParam = &CardParamRequest{}
	require.NoError(t, req.Validate())
	env, err = Seal("OrderCreate", req.ShopNo, req, v.Nonce, v.HashID)
	require.NoError(t, err)
	assert.Equal(t, v.Sign, env.Sign)
	assert.Equal(t, v.Message, env.Message)
}

func TestCreateOrderWire(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, golden, reply string
		req                 OrderCreateRequest
		check               func(t *testing.T, r *ResponseOrderCreate)
	}{
		{
			name: "atm", golden: "ordercreate_atm.json", reply: "ordercreate_atm.json",
			req: OrderCreateRequest{OrderNo: "A202611260001", Amount: TWD(500), PayType: PayTypeATM,
				ATMParam: ATMExpiry(time.Date(2026, 11, 30, 23, 59, 0, 0, Taipei)), PrdtName: "虛擬帳號訂單 & <測試>",
				Param1: "order=7", ReturnURL: "https://shop.example/return?o=7&x=1", BackendURL: "https://shop.example/qpay/notify"},
			check: func(t *testing.T, r *ResponseOrderCreate) {
				assert.Equal(t, "NA024900000210", r.TSNo)
				assert.Equal(t, TWD(500), r.Amount)
				require.NotNil(t, r.ATMParam)
				assert.Equal(t, "99922530174617", r.ATMParam.AtmPayNo)
				assert.Contains(t, r.ATMParam.WebAtmURL, "PayWebATM?TD=NA024900000210")
				assert.False(t, r.Resolved)
			},
		},
		{
			name: "card", golden: "ordercreate_card.json", reply: "ordercreate_card.json",
			req: OrderCreateRequest{OrderNo: "C202611260001", Amount: TWD(799), PayType: PayTypeCard,
				CardParam: &CardParamRequest{AutoBilling: "Y", ExpMinutes: 15, PayTypeSub: "ONE"},
				PrdtName:  "T-shirt", Memo: "size L", Param1: "cart-42", ReturnURL: "https://shop.example/return",
				BackendURL: "https://shop.example/qpay/notify", QRCodeStatus: "Y", QRCodeSize: 400},
			check: func(t *testing.T, r *ResponseOrderCreate) {
				require.NotNil(t, r.CardParam)
				assert.Contains(t, r.CardParam.CardPayURL, "PayCard?TD=NA024900000211")
				assert.Equal(t, "cart-42", r.Param1)
				assert.NotEmpty(t, r.QRCodeURL)
			},
		},
		{
			name: "card staging", golden: "ordercreate_card_staging.json", reply: "ordercreate_card.json",
			req: OrderCreateRequest{OrderNo: "C202611260001", Amount: TWD(799), PayType: PayTypeCardTrust,
				CardParam: &CardParamRequest{AutoBilling: "N", ExpBillingDays: 7, PayTypeSub: "STAGING", Staging: 3},
				PrdtName:  "Sofa"},
		},
		{
			name: "mobile", golden: "ordercreate_mobile.json", reply: "ordercreate_card.json",
			req: OrderCreateRequest{OrderNo: "C202611260001", Amount: TWD(799), PayType: PayTypeMobile,
				MobileParam: &MobileParamRequest{ExpMinutes: 10, ChoosePay: "A"}, PrdtName: "Tea"},
		},
		{
			name: "wallet", golden: "ordercreate_wallet.json", reply: "ordercreate_card.json",
			req: OrderCreateRequest{OrderNo: "C202611260001", Amount: TWD(799), PayType: PayTypeWallet,
				WalletParam: &WalletParamRequest{PayTypeSub: "Line"}, PrdtName: "Tea", CurrencyID: "TWD"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newMockBank(t).replyOrder(func(req recorded) *reply {
				assert.Equal(t, "OrderCreate", req.Env.APIService)
				return fixture(t, tc.reply)
			})
			r, err := bank.client(WithRetryPolicy(fastRetry)).CreateOrder(t.Context(), tc.req)
			require.NoError(t, err)
			reqs := bank.orders()
			require.Len(t, reqs, 1)
			golden(t, tc.golden, reqs[0].Plain)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestCreateOrderFillsShopAndCurrency(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t).replyOrder(func(recorded) *reply { return fixture(t, "ordercreate_atm.json") })
	req := OrderCreateRequest{OrderNo: "A202611260001", Amount: TWD(500), PayType: PayTypeATM,
		ATMParam: &ATMParamRequest{ExpireDate: "20261130"}, PrdtName: "x"}
	_, err := bank.client(WithRetryPolicy(fastRetry)).CreateOrder(t.Context(), req)
	require.NoError(t, err)
	assert.Empty(t, req.ShopNo, "the caller's request is not modified")
	var sent map[string]any
	require.NoError(t, json.Unmarshal(bank.orders()[0].Plain, &sent))
	assert.Equal(t, testShop, sent["ShopNo"])
	assert.Equal(t, "TWD", sent["CurrencyID"])
	assert.NotContains(t, sent, "CardParam")
	assert.NotContains(t, sent, "Memo")
}

func TestCreateOrderValidation(t *testing.T) {
	t.Parallel()
	atm := func(mod func(r *OrderCreateRequest)) OrderCreateRequest {
		r := OrderCreateRequest{OrderNo: "A1", Amount: TWD(100), PayType: PayTypeATM,
			ATMParam: &ATMParamRequest{ExpireDate: "20261130"}, PrdtName: "x",
			ReturnURL: "https://shop.example/r", BackendURL: "http://shop.example/b"}
		mod(&r)
		return r
	}
	card := func(mod func(p *CardParamRequest)) OrderCreateRequest {
		p := &CardParamRequest{AutoBilling: "Y"}
		mod(p)
		return OrderCreateRequest{OrderNo: "C1", Amount: TWD(100), PayType: PayTypeCard, CardParam: p, PrdtName: "x"}
	}
	cases := []struct {
		name, field string
		req         OrderCreateRequest
	}{
		{"other shop", "ShopNo", atm(func(r *OrderCreateRequest) { r.ShopNo = "NA0249_002" })},
		{"no OrderNo", "OrderNo", atm(func(r *OrderCreateRequest) { r.OrderNo = "" })},
		{"OrderNo 51 bytes", "OrderNo", atm(func(r *OrderCreateRequest) { r.OrderNo = strings.Repeat("A", 51) })},
		{"OrderNo quote", "OrderNo", atm(func(r *OrderCreateRequest) { r.OrderNo = "A'1" })},
		{"zero amount", "Amount", atm(func(r *OrderCreateRequest) { r.Amount = 0 })},
		{"negative amount", "Amount", atm(func(r *OrderCreateRequest) { r.Amount = -100 })},
		{"cents", "Amount", atm(func(r *OrderCreateRequest) { r.Amount = 79950 })},
		{"ATM over 3,000,000", "Amount", atm(func(r *OrderCreateRequest) { r.Amount = MaxATMAmount + 100 })},
		{"currency", "CurrencyID", atm(func(r *OrderCreateRequest) { r.CurrencyID = "USD" })},
		{"no PrdtName", "PrdtName", atm(func(r *OrderCreateRequest) { r.PrdtName = "" })},
		{"PrdtName 61 bytes", "PrdtName", atm(func(r *OrderCreateRequest) { r.PrdtName = strings.Repeat("a", 61) })},
		{"PrdtName 21 CJK = 63 bytes", "PrdtName", atm(func(r *OrderCreateRequest) { r.PrdtName = strings.Repeat("訂", 21) })},
		{"PrdtName percent", "PrdtName", atm(func(r *OrderCreateRequest) { r.PrdtName = "100%" })},
		{"Memo 31 bytes", "Memo", atm(func(r *OrderCreateRequest) { r.Memo = strings.Repeat("m", 31) })},
		{"Memo double quote", "Memo", atm(func(r *OrderCreateRequest) { r.Memo = `a"b` })},
		{"Param1 256 bytes", "Param1", atm(func(r *OrderCreateRequest) { r.Param1 = strings.Repeat("p", 256) })},
		{"Param2 quote", "Param2", atm(func(r *OrderCreateRequest) { r.Param2 = "it's" })},
		{"Param3 256 bytes", "Param3", atm(func(r *OrderCreateRequest) { r.Param3 = strings.Repeat("p", 256) })},
		{"ReturnURL relative", "ReturnURL", atm(func(r *OrderCreateRequest) { r.ReturnURL = "/return" })},
		{"ReturnURL ftp", "ReturnURL", atm(func(r *OrderCreateRequest) { r.ReturnURL = "ftp://shop.example/r" })},
		{"BackendURL 256 bytes", "BackendURL", atm(func(r *OrderCreateRequest) {
			r.BackendURL = "https://shop.example/" + strings.Repeat("b", 235)
		})},
		{"BackendURL escaped", "BackendURL", atm(func(r *OrderCreateRequest) { r.BackendURL = "https://shop.example/a%20b" })},
		{"QRCodeStatus", "QRCodeStatus", atm(func(r *OrderCreateRequest) { r.QRCodeStatus = "yes" })},
		{"QRCodeSize 349", "QRCodeSize", atm(func(r *OrderCreateRequest) { r.QRCodeSize = 349 })},
		{"QRCodeSize 801", "QRCodeSize", atm(func(r *OrderCreateRequest) { r.QRCodeSize = 801 })},
		{"PayType", "PayType", atm(func(r *OrderCreateRequest) { r.PayType = "X" })},
		{"ATM without ATMParam", "ATMParam.ExpireDate", atm(func(r *OrderCreateRequest) { r.ATMParam = nil })},
		{"ATM ExpireDate format", "ATMParam.ExpireDate", atm(func(r *OrderCreateRequest) { r.ATMParam.ExpireDate = "2026-11-30" })},
		{"ATM ExpireDate 31 Nov", "ATMParam.ExpireDate", atm(func(r *OrderCreateRequest) { r.ATMParam.ExpireDate = "20261131" })},
		{"ATM ExpireTime", "ATMParam.ExpireTime", atm(func(r *OrderCreateRequest) { r.ATMParam.ExpireTime = "2460" })},
		{"ATM with card params", "CardParam", atm(func(r *OrderCreateRequest) { r.CardParam = &CardParamRequest{AutoBilling: "Y"} })},
		{"card without CardParam", "CardParam.AutoBilling", OrderCreateRequest{OrderNo: "C1", Amount: 100, PayType: PayTypeCard, PrdtName: "x"}},
		{"card AutoBilling", "CardParam.AutoBilling", card(func(p *CardParamRequest) { p.AutoBilling = "y" })},
		{"ExpBillingDays 0 is default, 31 is not", "CardParam.ExpBillingDays", card(func(p *CardParamRequest) { p.ExpBillingDays = 31 })},
		{"ExpBillingDays negative", "CardParam.ExpBillingDays", card(func(p *CardParamRequest) { p.ExpBillingDays = -1 })},
		{"ExpMinutes 31", "CardParam.ExpMinutes", card(func(p *CardParamRequest) { p.ExpMinutes = 31 })},
		{"PayTypeSub", "CardParam.PayTypeSub", card(func(p *CardParamRequest) { p.PayTypeSub = "one" })},
		{"STAGING without Staging", "CardParam.Staging", card(func(p *CardParamRequest) { p.PayTypeSub = "STAGING" })},
		{"Staging without STAGING", "CardParam.Staging", card(func(p *CardParamRequest) { p.Staging = 3 })},
		{"REGULAR incomplete", "CardParam.PeriodType", card(func(p *CardParamRequest) { p.PayTypeSub = "REGULAR"; p.PeriodType = "M" })},
		{"PeriodType", "CardParam.PeriodType", card(func(p *CardParamRequest) { p.PeriodType = "Q" })},
		{"CCToken quote", "CardParam.CCToken", card(func(p *CardParamRequest) { p.CCToken = `t"` })},
		{"mobile ExpMinutes", "MobileParam.ExpMinutes", OrderCreateRequest{OrderNo: "M1", Amount: 100, PayType: PayTypeMobile, PrdtName: "x",
			MobileParam: &MobileParamRequest{ExpMinutes: 40}}},
		{"mobile ChoosePay", "MobileParam.ChoosePay", OrderCreateRequest{OrderNo: "M1", Amount: 100, PayType: PayTypeMobile, PrdtName: "x",
			MobileParam: &MobileParamRequest{ChoosePay: "X"}}},
		{"wallet without param", "WalletParam.PayTypeSub", OrderCreateRequest{OrderNo: "W1", Amount: 100, PayType: PayTypeWallet, PrdtName: "x"}},
		{"wallet sub", "WalletParam.PayTypeSub", OrderCreateRequest{OrderNo: "W1", Amount: 100, PayType: PayTypeWallet, PrdtName: "x",
			WalletParam: &WalletParamRequest{PayTypeSub: "jko"}}},
	}
	bank := newMockBank(t).replyOrder(func(recorded) *reply {
		t.Error("no request may be sent for invalid input")
		return fail(CodeSystem, "unexpected")
	})
	c := bank.client(WithRetryPolicy(fastRetry))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.CreateOrder(t.Context(), tc.req)
			assert.Nil(t, r)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, ve.Error())
		})
	}
	assert.Zero(t, bank.calls(), "no HTTP request for invalid input")
}

func TestCreateOrderValidBoundaries(t *testing.T) {
	t.Parallel()
	base := OrderCreateRequest{OrderNo: strings.Repeat("A", 50), Amount: MaxATMAmount, PayType: PayTypeATM,
		ATMParam: &ATMParamRequest{ExpireDate: "20261130", ExpireTime: "2359"}, PrdtName: strings.Repeat("訂", 20),
		Memo: strings.Repeat("m", 30), Param1: strings.Repeat("p", 255), QRCodeStatus: "N", QRCodeSize: 350}
	require.NoError(t, base.Validate())
	base.QRCodeSize = 800
	require.NoError(t, base.Validate())
	c := OrderCreateRequest{OrderNo: "C1", Amount: TWD(100000), PayType: PayTypeCard, PrdtName: "x",
		CardParam: &CardParamRequest{AutoBilling: "N", ExpBillingDays: 30, ExpMinutes: 1, PayTypeSub: "REGULAR",
			PeriodType: "M", DeductFreq: 1, DeductTotalNum: 12}}
	require.NoError(t, c.Validate(), "cards have no ATM maximum")
}

func TestCreateOrderStatusF(t *testing.T) {
	t.Parallel()
	for _, code := range []Code{CodeAmount, CodeBadSign, CodeSystem} {
		t.Run(string(code), func(t *testing.T) {
			t.Parallel()
			bank := newMockBank(t).replyOrder(func(recorded) *reply { return fail(code, "失敗") })
			r, err := bank.client(WithRetryPolicy(fastRetry)).CreateOrder(t.Context(), specLike())
			assert.Nil(t, r)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, code, ae.Code)
			assert.Equal(t, "OrderCreate", ae.Service)
			assert.Len(t, bank.orders(), 1, "a create is neither resent nor settled after a Status F")
		})
	}
}

// A verified E0302 is settled by OrderQuery: the OrderNo holding this
// request's order (same Amount and PayType) means the bank created it, an
// earlier send of the same request; another order leaves the refusal.
func TestCreateOrderDuplicateSettled(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		query *reply
		check func(t *testing.T, r *ResponseOrderCreate, err error)
	}{
		{"same order", ok(storedOrder(TWD(500))), func(t *testing.T, r *ResponseOrderCreate, err error) {
			require.NoError(t, err)
			assert.True(t, r.Resolved)
			assert.Equal(t, "NA024900000210", r.TSNo)
		}},
		{"another amount", ok(storedOrder(TWD(900))), func(t *testing.T, r *ResponseOrderCreate, err error) {
			assert.Nil(t, r)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, CodeDuplicateOrder, ae.Code)
			var u *OutcomeUnknownError
			assert.False(t, errors.As(err, &u), "the bank's verified refusal, as it is")
		}},
		{"not visible yet", ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"}), func(t *testing.T, r *ResponseOrderCreate, err error) {
			assert.Nil(t, r)
			var u *OutcomeUnknownError
			require.ErrorAs(t, err, &u, "the bank holds some order under the OrderNo: whose is unknown")
			assert.ErrorIs(t, err, ErrNoTrace)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, CodeDuplicateOrder, ae.Code)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newMockBank(t).replyOrder(func(req recorded) *reply {
				if req.Env.APIService == "OrderCreate" {
					return fail(CodeDuplicateOrder, "訂單編號重複")
				}
				return tc.query
			})
			r, err := bank.client(WithRetryPolicy(fastRetry)).CreateOrder(t.Context(), specLike())
			tc.check(t, r, err)
			assert.Len(t, bank.orders(), 2, "one create, one query")
		})
	}
	t.Run("unsigned E0302 is no answer", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyOrder(func(req recorded) *reply {
			if req.Env.APIService == "OrderCreate" {
				return httpStatus(200, `{"Status":"F","Description":"E0302 – 訂單編號重複"}`)
			}
			return ok(storedOrder(TWD(900)))
		})
		_, err := bank.client(WithRetryPolicy(fastRetry)).CreateOrder(t.Context(), specLike())
		var u *OutcomeUnknownError
		require.ErrorAs(t, err, &u)
		assert.ErrorContains(t, u.QueryErr, "already holds an order of NT$900.00")
	})
}

func specLike() OrderCreateRequest {
	return OrderCreateRequest{OrderNo: "A202611260001", Amount: TWD(500), PayType: PayTypeATM,
		ATMParam: &ATMParamRequest{ExpireDate: "20261130"}, PrdtName: "虛擬帳號訂單"}
}

// storedOrder is the OrderQuery reply for a create that reached the bank.
func storedOrder(amount Amount) map[string]any {
	return map[string]any{"OrderList": []map[string]any{{
		"OrderNo": "A202611260001", "TSNo": "NA024900000210", "TSDate": "202611261000", "Amount": amount,
		"PayType": "A", "PayStatus": "1A200", "ExpireDate": "20261130", "PrdtName": "虛擬帳號訂單",
		"ATMParam": map[string]any{"AtmPayNo": "99922530174617", "WebAtmURL": "https://bank.invalid/webatm"},
	}}}
}

func TestCreateOrderUnknownOutcome(t *testing.T) {
	t.Parallel()
	lost := transportError(errConnReset)
	cases := []struct {
		name     string
		create   *reply
		query    func() *reply
		services []string
		check    func(t *testing.T, r *ResponseOrderCreate, err error)
	}{
		{
			name: "lost reply, order stored", create: lost,
			query:    func() *reply { return ok(storedOrder(TWD(500))) },
			services: []string{"OrderCreate", "OrderQuery"},
			check: func(t *testing.T, r *ResponseOrderCreate, err error) {
				require.NoError(t, err)
				assert.True(t, r.Resolved)
				assert.Equal(t, "NA024900000210", r.TSNo)
				assert.Equal(t, "99922530174617", r.ATMParam.AtmPayNo)
				assert.Equal(t, "S", r.Status)
				require.NotNil(t, r.Order)
				assert.Equal(t, PayStatus("1A200"), r.Order.PayStatus)
			},
		},
		{
			name: "504, order stored", create: httpStatus(504, "upstream timeout"),
			query:    func() *reply { return ok(storedOrder(TWD(500))) },
			services: []string{"OrderCreate", "OrderQuery"},
			check: func(t *testing.T, r *ResponseOrderCreate, err error) {
				require.NoError(t, err)
				assert.True(t, r.Resolved)
			},
		},
		{
			name: "lost reply, no order (yet)", create: lost,
			query:    func() *reply { return ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"}) },
			services: []string{"OrderCreate", "OrderQuery"},
			check: func(t *testing.T, r *ResponseOrderCreate, err error) {
				assert.Nil(t, r)
				assert.NotErrorIs(t, err, ErrNotProcessed, "the query may lag: absence is no proof")
				var oue *OutcomeUnknownError
				require.ErrorAs(t, err, &oue)
				assert.Equal(t, "A202611260001", oue.OrderNo)
				assert.ErrorIs(t, err, ErrNoTrace)
				assert.True(t, oue.SafeToResend())
				assert.WithinDuration(t, time.Now().Add(QueryLag), oue.CheckAfter, time.Minute)
				assert.Contains(t, err.Error(), "sending the same request again is safe")
				var ne *NetworkError
				require.ErrorAs(t, err, &ne, "the cause stays reachable")
				assert.True(t, ne.MaybeSent)
			},
		},
		{
			name: "lost reply, query fails", create: lost,
			query:    func() *reply { return fail(CodeQueryFailed, "查詢失敗") },
			services: []string{"OrderCreate", "OrderQuery"},
			check: func(t *testing.T, r *ResponseOrderCreate, err error) {
				assert.Nil(t, r)
				var oue *OutcomeUnknownError
				require.ErrorAs(t, err, &oue)
				assert.NotErrorIs(t, err, ErrNotProcessed)
				var ae *APIError
				require.ErrorAs(t, oue.QueryErr, &ae)
				assert.Equal(t, CodeQueryFailed, ae.Code)
			},
		},
		{
			name: "lost reply, OrderNo holds another order", create: lost,
			query:    func() *reply { return ok(storedOrder(TWD(900))) },
			services: []string{"OrderCreate", "OrderQuery"},
			check: func(t *testing.T, r *ResponseOrderCreate, err error) {
				var oue *OutcomeUnknownError
				require.ErrorAs(t, err, &oue)
			},
		},
		{
			// The settling query is the bank's verified word even when the
			// create's reply was forged: a found order is trusted.
			name: "bad sign, order stored", create: sealedReply(map[string]any{"Status": "S"}).tamper(forgeSign),
			query:    func() *reply { return ok(storedOrder(TWD(500))) },
			services: []string{"OrderCreate", "OrderQuery"},
			check: func(t *testing.T, r *ResponseOrderCreate, err error) {
				require.NoError(t, err)
				assert.True(t, r.Resolved)
			},
		},
		{
			name: "bad sign, no order", create: sealedReply(map[string]any{"Status": "S"}).tamper(forgeSign),
			query:    func() *reply { return ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"}) },
			services: []string{"OrderCreate", "OrderQuery"},
			check: func(t *testing.T, r *ResponseOrderCreate, err error) {
				var oue *OutcomeUnknownError
				require.ErrorAs(t, err, &oue)
				assert.ErrorIs(t, err, ErrSignatureMismatch)
				assert.ErrorIs(t, oue.QueryErr, ErrNoTrace)
			},
		},
		{
			name: "200 garbage", create: httpStatus(200, "<html>oops</html>"),
			query:    func() *reply { return ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"}) },
			services: []string{"OrderCreate", "OrderQuery"},
			check: func(t *testing.T, r *ResponseOrderCreate, err error) {
				var oue *OutcomeUnknownError
				require.ErrorAs(t, err, &oue)
			},
		},
		{
			// Only a verified reply decides: an HTTP status on the Order
			// POST, from whatever stands in front of the bank, does not.
			name: "403 on the Order POST", create: httpStatus(403, "forbidden"),
			query:    func() *reply { return ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"}) },
			services: []string{"OrderCreate", "OrderQuery"},
			check: func(t *testing.T, r *ResponseOrderCreate, err error) {
				var oue *OutcomeUnknownError
				require.ErrorAs(t, err, &oue)
				var ge *GatewayError
				require.ErrorAs(t, err, &ge)
				assert.Equal(t, 403, ge.StatusCode)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newMockBank(t).replyOrder(func(req recorded) *reply {
				if req.Env.APIService == "OrderCreate" {
					return tc.create
				}
				return tc.query()
			})
			r, err := bank.client(WithRetryPolicy(NoRetry())).CreateOrder(t.Context(), specLike())
			tc.check(t, r, err)
			got := bank.services()
			assert.Equal(t, tc.services, got, "never a second OrderCreate")
		})
	}
}

func TestCreateOrderUnknownOutcomeWithoutQuery(t *testing.T) {
	t.Parallel()
	t.Run("wallet orders are not queryable", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyOrder(func(recorded) *reply { return transportError(errConnReset) })
		_, err := bank.client(WithRetryPolicy(fastRetry)).CreateOrder(t.Context(), OrderCreateRequest{OrderNo: "W1", Amount: 100, PayType: PayTypeWallet,
			PrdtName: "x", WalletParam: &WalletParamRequest{PayTypeSub: "Jko"}})
		var oue *OutcomeUnknownError
		require.ErrorAs(t, err, &oue)
		assert.ErrorIs(t, oue.QueryErr, errWalletNotQueryable)
		assert.Len(t, bank.orders(), 1)
	})
	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		bank := newMockBank(t).replyOrder(func(recorded) *reply {
			cancel()
			return transportError(context.Canceled)
		})
		_, err := bank.client(WithRetryPolicy(fastRetry)).CreateOrder(ctx, specLike())
		var oue *OutcomeUnknownError
		require.ErrorAs(t, err, &oue)
		assert.ErrorIs(t, oue.QueryErr, context.Canceled)
		assert.Len(t, bank.orders(), 1)
	})
	t.Run("nonce refused: never sent, no query", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyNonce(func(recorded) *reply { return transportError(errConnReset) })
		_, err := bank.client(WithRetryPolicy(NoRetry())).CreateOrder(t.Context(), specLike())
		var ne *NetworkError
		require.ErrorAs(t, err, &ne)
		assert.False(t, ne.MaybeSent)
		assert.ErrorIs(t, err, ErrNotProcessed, "the Order request never existed")
		var oue *OutcomeUnknownError
		assert.False(t, errors.As(err, &oue))
		assert.Empty(t, bank.orders())
	})
}

// A create cut short by the caller's deadline after it reached the bank is
// still settled: the query runs detached from the expired deadline.
func TestCreateOrderDeadlineSettles(t *testing.T) {
	t.Parallel()
	for _, stored := range []bool{true, false} {
		t.Run(fmt.Sprint("stored=", stored), func(t *testing.T) {
			t.Parallel()
			bank := newMockBank(t).replyOrder(func(req recorded) *reply {
				if req.Env.APIService == "OrderQuery" {
					if stored {
						return ok(storedOrder(TWD(500)))
					}
					return ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"})
				}
				// The bank takes the create and then answers too late.
				return hold()
			})
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			r, err := bank.client(WithRetryPolicy(fastRetry)).CreateOrder(ctx, specLike())
			assert.Less(t, time.Since(start), 5*time.Second)
			if stored {
				require.NoError(t, err)
				assert.True(t, r.Resolved)
			} else {
				var oue *OutcomeUnknownError
				require.ErrorAs(t, err, &oue)
				assert.ErrorIs(t, err, ErrNoTrace)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			}
			got := bank.services()
			assert.Equal(t, []string{"OrderCreate", "OrderQuery"}, got)
		})
	}
}
