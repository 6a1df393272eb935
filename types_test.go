package sinopac

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAmountDecoding(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Amount{
		`79900`: 79900, `"79900"`: 79900, `"9440300"`: 9440300, `0`: 0, `"0"`: 0, `""`: 0, `null`: 0,
		`999999999999999999`: 999999999999999999, `"100"`: 100,
	} {
		a := Amount(-7)
		require.NoError(t, json.Unmarshal([]byte(in), &a), in)
		assert.Equal(t, want, a, in)
	}
	// Nothing that cannot be money: a sign (even -0), leading zeros, a
	// fraction or exponent, more than 18 digits, other characters, "null"
	// as a string, other JSON kinds.
	for _, in := range []string{`-500`, `"-500"`, `-0`, `"-0"`, `"+5"`, `00`, `"00"`, `0799`, `"0799"`, `12.5`, `"12.50"`,
		`1e3`, `"1e3"`, `"abc"`, `" 5"`, `"5 "`, `"null"`, `true`, `"-"`, `"9999999999999999999"`, `1000000000000000000`, `{}`, `[]`} {
		a := Amount(-7)
		err := json.Unmarshal([]byte(in), &a)
		require.Error(t, err, in)
		assert.Equal(t, Amount(-7), a, "a refused input leaves the value alone: %s", in)
		assert.NotContains(t, err.Error(), strings.Trim(in, `"`), "the error does not quote the input: %s", in)
	}
	// The error names the field (encoding/json fills it in).
	var o struct{ OrderList []Order }
	err := json.Unmarshal([]byte(`{"OrderList":[{"Amount":-500}]}`), &o)
	var ute *json.UnmarshalTypeError
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "OrderList.Amount", ute.Field)

	// AllotQuery's net sums alone take a minus sign.
	for in, want := range map[string]signedAmount{`-30000`: -30000, `"-30000"`: -30000, `30000`: 30000, `""`: 0, `null`: 0, `0`: 0} {
		var s signedAmount
		require.NoError(t, json.Unmarshal([]byte(in), &s), in)
		assert.Equal(t, want, s, in)
	}
	for _, in := range []string{`-0`, `"-0"`, `-00`, `-0100`, `"+5"`, `--5`, `"-"`, `"-null"`, `-1.5`} {
		var s signedAmount
		assert.Error(t, json.Unmarshal([]byte(in), &s), in)
	}
}

// Each amount field's rule (see Amount): an order's own amount must be
// present and positive, a refund that exists has an amount, optional
// amounts read absence as 0, AllotQuery's net sums may be negative, and no
// other field takes a sign.
func TestAmountFieldRules(t *testing.T) {
	t.Parallel()
	order := func(kv ...any) map[string]any {
		o := map[string]any{"OrderNo": "A1", "TSNo": "T1", "Amount": 79900, "PayType": "A", "PayStatus": "1A400", "RefundFlag": "N"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(o, kv[i].(string))
				continue
			}
			o[kv[i].(string)] = kv[i+1]
		}
		return o
	}
	type tc struct {
		name    string
		reply   *reply
		call    func(ctx context.Context, c *Client) error
		field   string // "" success; else the *MessageError's field
		decode  bool   // refused while decoding (a sign): the error names the field in its text
		service string
	}
	list := func(orders ...map[string]any) *reply { return ok(map[string]any{"OrderList": orders}) }
	query := func(ctx context.Context, c *Client) error {
		_, err := c.QueryOrders(ctx, QueryConditions{PayType: PayTypeATM})
		return err
	}
	created := func(amount any) *reply {
		m := map[string]any{"OrderNo": "A1", "ShopNo": testShop, "TSNo": "T1", "PayType": "A",
			"ATMParam": map[string]any{"AtmPayNo": "99922530174617"}}
		if amount != nil {
			m["Amount"] = amount
		}
		return ok(m)
	}
	create := func(ctx context.Context, c *Client) error {
		_, err := c.CreateOrder(ctx, OrderCreateRequest{OrderNo: "A1", Amount: TWD(799), PayType: PayTypeATM, PrdtName: "x",
			ATMParam: &ATMParamRequest{ExpireDate: "20991231"}})
		return err
	}
	paid := func(apType string, amount any) *reply {
		ts := map[string]any{"APType": apType, "TSNo": "T1", "OrderNo": "A1", "ShopNo": testShop, "PayType": "A", "Status": "S",
			"Description": "S0000 – 處理成功"}
		if amount != nil {
			ts["Amount"] = amount
		}
		return ok(map[string]any{"ShopNo": testShop, "PayToken": fixtureToken, "TSResultContent": ts})
	}
	payment := func(ctx context.Context, c *Client) error {
		_, err := c.QueryPayment(ctx, fixtureToken)
		return err
	}
	allot := func(net, ext any, kv ...any) *reply {
		a := map[string]any{"AllotNo": "AL1", "AllotDate": "20261126", "PayType": "A",
			"PayAmount": 0, "RefundAmount": 30000, "FeeAmount": 0, "ExtAllotAmount": ext, "AllotAmount": net,
			"List": []any{map[string]any{"TSNO": "T1", "OrderNO": "A1", "Amount": 30000, "Fee": 0, "TSType": "R"}}}
		for i := 0; i < len(kv); i += 2 {
			a[kv[i].(string)] = kv[i+1]
		}
		return ok(map[string]any{"Allot": []any{a}})
	}
	allotCall := func(want Amount) func(ctx context.Context, c *Client) error {
		return func(ctx context.Context, c *Client) error {
			r, err := c.QueryAllot(ctx, AllotQuery{AllotDateS: time.Now(), AllotDateE: time.Now(), PayType: PayTypeATM})
			if err == nil && r.Allot[0].AllotAmount != want {
				return fmt.Errorf("AllotAmount %v, want %v", r.Allot[0].AllotAmount, want)
			}
			return err
		}
	}
	refund := func(amount any) map[string]any {
		r := map[string]any{"RefundNo": "R1", "RefundDate": "202611261000", "RefundStatus": "2A900"}
		if amount != nil {
			r["RefundAmount"] = amount
		}
		return r
	}
	cases := []tc{
		// OrderQuery: the order's own Amount.
		{"order amount", list(order()), query, "", false, ""},
		{"order amount as string", list(order("Amount", "79900")), query, "", false, ""},
		{"order amount absent", list(order("Amount", nil)), query, "OrderList[0].Amount", false, "OrderQuery"},
		{"order amount null", list(order("Amount", json.RawMessage("null"))), query, "OrderList[0].Amount", false, "OrderQuery"},
		{"order amount empty", list(order("Amount", "")), query, "OrderList[0].Amount", false, "OrderQuery"},
		{"order amount zero", list(order(), order("OrderNo", "A2", "Amount", 0)), query, "OrderList[1].Amount", false, "OrderQuery"},
		{"order amount negative", list(order("Amount", -79900)), query, "OrderList.Amount", true, "OrderQuery"},
		{"order amount -0", list(order("Amount", json.RawMessage("-0"))), query, "OrderList.Amount", true, "OrderQuery"},
		{"order amount zero-padded", list(order("Amount", "0079900")), query, "OrderList.Amount", true, "OrderQuery"},
		// RefundAmount: absent for an order never refunded, required for one refunded.
		{"never refunded, no RefundAmount", list(order("RefundAmount", nil)), query, "", false, ""},
		{"never refunded, RefundAmount null", list(order("RefundAmount", json.RawMessage("null"))), query, "", false, ""},
		{"never refunded, RefundAmount empty", list(order("RefundAmount", "")), query, "", false, ""},
		{"refunded with RefundAmount", list(order("RefundFlag", "Y", "RefundAmount", 10000)), query, "", false, ""},
		{"refunded without RefundAmount", list(order("RefundFlag", "Y")), query, "OrderList[0].RefundAmount", false, "OrderQuery"},
		{"refunded, RefundList tells", list(order("RefundFlag", "Y", "RefundList", []any{refund(10000)})), query, "", false, ""},
		{"RefundList entry without amount", list(order("RefundFlag", "Y", "RefundList", []any{refund(10000), refund(nil)})), query,
			"OrderList[0].RefundList[1].RefundAmount", false, "OrderQuery"},
		{"RefundAmount negative", list(order("RefundAmount", -100)), query, "OrderList.RefundAmount", true, "OrderQuery"},
		// Optional card amounts and points.
		{"card amounts absent or empty", list(order("PayType", "C", "PayStatus", "1C400",
			"CardParam", map[string]any{"StagingFirstAmount": "", "BonusAmount": nil, "BonusCount": 0})), query, "", false, ""},
		{"card amount negative", list(order("PayType", "C", "PayStatus", "1C400",
			"CardParam", map[string]any{"BonusAmount": -100})), query, "OrderList.CardParam.BonusAmount", true, "OrderQuery"},
		// OrderCreate: the created order's Amount.
		{"create amount", created(79900), create, "", false, ""},
		{"create amount absent", created(nil), create, "Amount", false, "OrderCreate"},
		{"create amount empty", created(""), create, "Amount", false, "OrderCreate"},
		{"create amount zero", created(0), create, "Amount", false, "OrderCreate"},
		{"create amount negative", created(-79900), create, "Amount", true, "OrderCreate"},
		// OrderPayQuery: an amount where money moves; none needed otherwise.
		{"payment amount", paid(APTypePayOut, "9440300"), payment, "", false, ""},
		{"payment amount absent", paid(APTypePayOut, nil), payment, "TSResultContent.Amount", false, "OrderPayQuery"},
		{"payment amount empty", paid(APTypePayOut, ""), payment, "TSResultContent.Amount", false, "OrderPayQuery"},
		{"payment amount zero", paid(APTypePayOut, "0"), payment, "TSResultContent.Amount", false, "OrderPayQuery"},
		{"capture amount absent", paid(APTypeCaptureOut, nil), payment, "TSResultContent.Amount", false, "OrderPayQuery"},
		{"deduction amount absent", paid(APTypeRegularOut, ""), payment, "TSResultContent.Amount", false, "OrderPayQuery"},
		{"VA refund amount absent", paid(APTypeVARefundOut, nil), payment, "TSResultContent.Amount", false, "OrderPayQuery"},
		{"payment amount negative", paid(APTypePayOut, "-9440300"), payment, "TSResultContent.Amount", true, "OrderPayQuery"},
		{"payment amount -0", paid(APTypePayOut, "-0"), payment, "TSResultContent.Amount", true, "OrderPayQuery"},
		{"card binding without amount", paid(APTypeCardBindOut, ""), payment, "", false, ""},
		{"recurring end without amount", paid(APTypeRegularEnd, nil), payment, "", false, ""},
		// AllotQuery: net sums may be negative; nothing else may.
		{"negative net payout", allot(-30000, 0), allotCall(TWD(-300)), "", false, ""},
		{"negative net payout as string", allot("-30000", "-10000"), allotCall(TWD(-300)), "", false, ""},
		{"net adjustment -0", allot(0, "-0"), allotCall(0), "Allot.ExtAllotAmount", true, "AllotQuery"},
		{"negative payment sum", allot(0, 0, "PayAmount", -100), allotCall(0), "Allot.PayAmount", true, "AllotQuery"},
		{"net payout absent", allot(nil, nil), allotCall(0), "", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newMockBank(t).replyOrder(func(recorded) *reply { return tc.reply })
			err := tc.call(t.Context(), bank.client(WithRetryPolicy(NoRetry())))
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var me *MessageError
			require.ErrorAs(t, err, &me, "a *MessageError, not a silent 0")
			assert.Equal(t, tc.service, me.Service)
			if tc.decode {
				assert.Contains(t, me.Error(), "field "+tc.field+":")
			} else {
				assert.Equal(t, tc.field, me.Field)
				assert.Contains(t, me.Error(), tc.field+" must be present and positive")
			}
		})
	}
}

func TestAmountString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "NT$799.00", Amount(79900).String())
	assert.Equal(t, "NT$0.05", Amount(5).String())
	assert.Equal(t, "-NT$12.34", Amount(-1234).String())
	assert.Equal(t, Amount(79900), TWD(799))
	js, err := json.Marshal(struct{ A Amount }{TWD(500)})
	require.NoError(t, err)
	assert.Equal(t, `{"A":50000}`, string(js))
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in       string
		want     time.Time
		wire     string
		dateOnly bool
	}{
		{`"202110012245"`, time.Date(2021, 10, 1, 22, 45, 0, 0, Taipei), "202110012245", false},
		{`"20211001"`, time.Date(2021, 10, 1, 0, 0, 0, 0, Taipei), "20211001", true},
		{`"20211001224559"`, time.Date(2021, 10, 1, 22, 45, 59, 0, Taipei), "20211001224559", false},
		{`""`, time.Time{}, "", false},
		{`null`, time.Time{}, "", false},
	}
	for _, tc := range cases {
		var ts Timestamp
		require.NoError(t, json.Unmarshal([]byte(tc.in), &ts), tc.in)
		assert.True(t, tc.want.Equal(ts.Time()), tc.in)
		assert.Equal(t, tc.wire, ts.String())
		assert.Equal(t, tc.dateOnly, ts.DateOnly())
		assert.Equal(t, tc.want.IsZero(), ts.IsZero())
		js, err := json.Marshal(ts)
		require.NoError(t, err)
		assert.Equal(t, `"`+tc.wire+`"`, string(js))
	}
	for _, in := range []string{`"2021-10-01"`, `"20211301"`, `"20210231"`, `"202110012460"`, `"2021100122"`, `"abcdefgh"`, `12`, `"20211001 2245"`} {
		var ts Timestamp
		assert.Error(t, json.Unmarshal([]byte(in), &ts), in)
		assert.True(t, ts.IsZero(), "a failed decode leaves no half value: %s", in)
	}
	utc := time.Date(2026, 10, 31, 16, 30, 45, 0, time.UTC)
	assert.Equal(t, "202611010030", At(utc).String(), "At converts to Taipei and truncates to the minute")
	assert.Equal(t, "20261101", Date(utc).String())
	assert.True(t, At(time.Time{}).IsZero())
	p, err := ParseTimestamp("202610010000")
	require.NoError(t, err)
	assert.True(t, p.Equal(At(time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC))))
}

func TestPayStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s                                          PayStatus
		paid, expired, pending, authorized, cancel bool
		flag                                       PayFlag
		label                                      string
	}{
		{"1A200", false, false, true, false, false, PayFlagUnpaid, "待付款 (awaiting payment)"},
		{"1A250", false, true, false, false, false, PayFlagExpired, "帳號逾期 (account expired)"},
		{"1A400", true, false, false, false, false, PayFlagPaid, "付款完成 (paid)"},
		{"1A900", true, false, false, false, false, PayFlagPaid, "已撥款 (paid out to shop)"},
		{"1C300", false, false, false, true, false, PayFlagUnpaid, "已授權未請款 (authorised, not captured)"},
		{"1C351", false, false, false, false, true, PayFlagUnpaid, "取消授權 (authorisation cancelled)"},
		{"1C400", true, false, false, false, false, PayFlagPaid, "請款完成 (captured)"},
		{"1M250", false, true, false, false, false, PayFlagExpired, "訂單逾期 (order expired)"},
		{"1P777", false, false, false, false, false, PayFlagUnpaid, "1P777"},
		{"", false, false, false, false, false, PayFlagUnpaid, ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.paid, tc.s.Paid(), tc.s)
		assert.Equal(t, tc.expired, tc.s.Expired(), tc.s)
		assert.Equal(t, tc.pending, tc.s.Pending(), tc.s)
		assert.Equal(t, tc.authorized, tc.s.Authorized(), tc.s)
		assert.Equal(t, tc.cancel, tc.s.Cancelled(), tc.s)
		assert.Equal(t, tc.flag, tc.s.Flag(), tc.s)
		assert.Equal(t, tc.label, tc.s.Label(), tc.s)
	}
	assert.True(t, RefundStatus("2A900").Done())
	assert.True(t, RefundStatus("2C290").Failed())
	assert.Equal(t, "退款處理中 (refund in progress)", RefundStatus("2M400").Label())
	assert.Equal(t, "2X123", RefundStatus("2X123").Label())
}
