package sinopac

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seedReply(t testing.TB) replyVector { return loadVectors(t).SeedOrderQueryReply }

func TestQueryOrdersWireAndSeedReply(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	seed := seedReply(t)
	bank.onOrder(func(recorded) *http.Response { return envelopeResponse(t, &seed.Envelope) })
	c := bank.client()

	r, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A202110507397", PayType: PayTypeATM, PayFlag: PayFlagPaid})
	require.NoError(t, err)

	// Both endpoints, in order, with the exact bodies and headers.
	recs := bank.recorded()
	require.Len(t, recs, 2)
	assert.Equal(t, "/Nonce", recs[0].Path)
	assert.JSONEq(t, `{"ShopNo":"NA0249_001"}`, string(recs[0].Body))
	assert.Equal(t, `{"ShopNo":"NA0249_001"}`, string(recs[0].Body))
	for _, rec := range recs {
		assert.Equal(t, testKeyID, rec.Header.Get("X-KeyID"))
		assert.Equal(t, "application/json", rec.Header.Get("Content-Type"))
	}
	order := recs[1]
	require.NoError(t, order.OpenErr)
	assert.Equal(t, APIMessage{Version: "1.0.0", ShopNo: testShop, APIService: "OrderQuery", Sign: order.Env.Sign, Nonce: nonceN(1), Message: order.Env.Message}, order.Env)
	assert.Equal(t, `{"ShopNo":"NA0249_001","OrderNo":"A202110507397","PayType":"A","PayFlag":"Y"}`, string(order.Plain))
	wantSign, err := Sign(order.Plain, nonceN(1), testHashID)
	require.NoError(t, err)
	assert.Equal(t, wantSign, order.Env.Sign)

	// The seed's reply, typed.
	assert.Equal(t, testShop, r.ShopNo)
	assert.Equal(t, "S", r.Status)
	assert.Equal(t, CodeOK, r.Code())
	assert.Equal(t, "202110032253", r.Date.String())
	assert.False(t, r.Truncated())
	require.Len(t, r.OrderList, 1)
	o := r.OrderList[0]
	assert.Equal(t, "A202110507397", o.OrderNo)
	assert.Equal(t, "NA024900000369", o.TSNo)
	assert.Equal(t, Amount(79900), o.Amount)
	assert.Equal(t, "NT$799.00", o.Amount.String())
	assert.Equal(t, PayTypeATM, o.PayType)
	assert.Equal(t, PayStatus("1A400"), o.PayStatus)
	assert.True(t, o.PayStatus.Paid())
	assert.True(t, time.Date(2021, 10, 1, 22, 45, 0, 0, Taipei).Equal(o.PayDate.Time()))
	assert.Equal(t, time.Date(2021, 10, 1, 14, 45, 0, 0, time.UTC), o.PayDate.Time().UTC())
	assert.Equal(t, "202110012243", o.TSDate.String())
	assert.Equal(t, "202110112359", o.ExpireDate.String())
	assert.True(t, o.RefundDate.IsZero())
	assert.Equal(t, RefundStatus(""), o.RefundStatus)
	assert.False(t, o.Refunded())
	assert.Equal(t, "虛擬帳號訂單", o.PrdtName)
	require.NotNil(t, o.ATMParam)
	assert.Equal(t, ATMParam{
		AtmPayNo:  "99922530175613",
		WebAtmURL: "https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayWebATM?TD=NA024900000369&TK=3a83b2d6-76d0-4e66-a32b-66d55ceb74f3",
		OtpURL:    "https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayOTP?TD=NA024900000369&TK=3a83b2d6-76d0-4e66-a32b-66d55ceb74f3",
		BankNo:    "807", AcctNo: "01700100003411",
	}, *o.ATMParam)
	assert.Nil(t, o.CardParam)
	assert.Nil(t, o.MobileParam)
}

func TestQueryOrdersSendsTaipeiMinutes(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	bank.onOrder(func(recorded) *http.Response {
		return bank.replyJSON("OrderQuery", `{"ShopNo":"NA0249_001","Date":"202610312359","Status":"S","Description":"S0001 – 處理成功，查無資料"}`)
	})
	c := bank.client()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600)
	}
	q := QueryConditions{
		OrderDateTimeS: time.Date(2026, 9, 30, 16, 0, 59, 999, time.UTC), // 10-01 00:00 in Taipei
		OrderDateTimeE: time.Date(2026, 10, 31, 11, 59, 30, 0, ny),       // 10-31 23:59 in Taipei (EDT)
		PayDateTimeS:   time.Date(2026, 10, 1, 8, 0, 0, 0, Taipei),
		PayDateTimeE:   time.Date(2026, 10, 1, 8, 0, 0, 0, Taipei),
		PayType:        PayTypeCard,
		PayFlag:        PayFlagUnpaid,
	}
	r, err := c.QueryOrders(t.Context(), q)
	require.NoError(t, err)
	assert.Equal(t, CodeNoData, r.Code())
	assert.NotNil(t, r.OrderList, "S0001 is an empty list, not nil")
	assert.Empty(t, r.OrderList)
	assert.Equal(t, `{"ShopNo":"NA0249_001","PayType":"C","OrderDateTimeS":"202610010000","OrderDateTimeE":"202610312359","PayDateTimeS":"202610010800","PayDateTimeE":"202610010800","PayFlag":"N"}`,
		string(bank.orders()[0].Plain))
}

func TestQueryOrdersFiltersWhatTheBankIgnores(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	seed := seedReply(t)
	bank.onOrder(func(recorded) *http.Response { return envelopeResponse(t, &seed.Envelope) })
	c := bank.client()
	paid := time.Date(2021, 10, 1, 22, 45, 0, 0, Taipei)
	cases := []struct {
		name string
		q    QueryConditions
		want int
	}{
		{"OrderNo alone", QueryConditions{OrderNo: "A202110507397"}, 1},
		{"matching PayType", QueryConditions{OrderNo: "A202110507397", PayType: PayTypeATM}, 1},
		{"other PayType", QueryConditions{OrderNo: "A202110507397", PayType: PayTypeCard}, 0},
		{"PayFlag unpaid", QueryConditions{OrderNo: "A202110507397", PayFlag: PayFlagUnpaid}, 0},
		{"PayFlag expired", QueryConditions{OrderNo: "A202110507397", PayFlag: PayFlagExpired}, 0},
		{"pay range hit, inclusive", QueryConditions{OrderNo: "A202110507397", PayDateTimeS: paid, PayDateTimeE: paid}, 1},
		{"pay range miss", QueryConditions{OrderNo: "A202110507397", PayDateTimeS: paid.Add(time.Minute), PayDateTimeE: paid.Add(time.Hour)}, 0},
		{"order range hit", QueryConditions{OrderNo: "A202110507397", OrderDateTimeS: paid.Add(-2 * time.Minute), OrderDateTimeE: paid}, 1},
		{"order range miss", QueryConditions{OrderNo: "A202110507397", OrderDateTimeS: paid, OrderDateTimeE: paid.Add(time.Hour)}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.QueryOrders(t.Context(), tc.q)
			require.NoError(t, err)
			assert.Len(t, r.OrderList, tc.want)
		})
	}
}

func TestQueryOrdersTruncated(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	var list []string
	for i := 0; i < MaxOrdersPerQuery; i++ {
		list = append(list, fmt.Sprintf(`{"OrderNo":"T%04d","TSNo":"TS%04d","TSDate":"202610011200","Amount":"10000","PayType":"C","PayStatus":"1C400"}`, i, i))
	}
	bank.onOrder(func(recorded) *http.Response {
		return bank.replyJSON("OrderQuery", `{"ShopNo":"NA0249_001","Date":"202610312359","Status":"S","Description":"S0000 – 處理成功","OrderList":[`+strings.Join(list, ",")+`]}`)
	})
	r, err := bank.client().QueryOrders(t.Context(), QueryConditions{PayType: PayTypeCard})
	require.NoError(t, err)
	assert.Len(t, r.OrderList, 300)
	assert.True(t, r.Truncated())
	assert.Equal(t, Amount(10000), r.OrderList[299].Amount, "a string Amount decodes too")
}

func TestQueryOrdersValidation(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, Taipei)
	cases := []struct {
		name  string
		q     QueryConditions
		field string
	}{
		{"no condition", QueryConditions{}, "QueryConditions"},
		{"order range without end", QueryConditions{OrderDateTimeS: now}, "OrderDateTimeE"},
		{"order range without start", QueryConditions{OrderDateTimeE: now}, "OrderDateTimeS"},
		{"order range reversed", QueryConditions{OrderDateTimeS: now.Add(time.Minute), OrderDateTimeE: now}, "OrderDateTimeS"},
		{"pay range without end", QueryConditions{PayDateTimeS: now}, "PayDateTimeE"},
		{"pay range reversed", QueryConditions{PayDateTimeS: now.Add(24 * time.Hour), PayDateTimeE: now}, "PayDateTimeS"},
		{"PayType W", QueryConditions{PayType: PayTypeWallet}, "PayType"},
		{"PayType lower case", QueryConditions{PayType: "a"}, "PayType"},
		{"PayType with space", QueryConditions{PayType: "A "}, "PayType"},
		{"PayFlag unknown", QueryConditions{PayFlag: "X"}, "PayFlag"},
		{"OrderNo too long", QueryConditions{OrderNo: strings.Repeat("A", 51)}, "OrderNo"},
		{"OrderNo too many bytes", QueryConditions{OrderNo: strings.Repeat("訂", 17)}, "OrderNo"},
		{"OrderNo quote", QueryConditions{OrderNo: "A1'"}, "OrderNo"},
		{"OrderNo double quote", QueryConditions{OrderNo: `A1"`}, "OrderNo"},
		{"OrderNo percent", QueryConditions{OrderNo: "A%1"}, "OrderNo"},
		{"OrderNo leading space", QueryConditions{OrderNo: " A1"}, "OrderNo"},
		{"OrderNo trailing space", QueryConditions{OrderNo: "A1 "}, "OrderNo"},
		{"OrderNo newline", QueryConditions{OrderNo: "A\n1"}, "OrderNo"},
	}
	bank := newMockBank(t)
	bank.onOrder(func(recorded) *http.Response { return httpmock.NewStringResponse(500, "must not be called") })
	c := bank.client()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.QueryOrders(t.Context(), tc.q)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.Contains(t, err.Error(), tc.field)
			assert.Equal(t, tc.q.Validate(), err, "Validate gives the same error")
		})
	}
	assert.Zero(t, bank.mt.GetTotalCallCount(), "no request for bad input")
	// Exactly 50 bytes and a single-minute range are fine.
	assert.NoError(t, QueryConditions{OrderNo: strings.Repeat("A", 50)}.Validate())
	assert.NoError(t, QueryConditions{OrderDateTimeS: now, OrderDateTimeE: now.Add(59 * time.Second)}.Validate())
}

func TestQueryOrdersReplyErrors(t *testing.T) {
	t.Parallel()
	seed := seedReply(t)
	mutated := func(f func(*APIMessage)) func(*mockBank) *http.Response {
		return func(*mockBank) *http.Response {
			env := seed.Envelope
			f(&env)
			return envelopeResponse(t, &env)
		}
	}
	html := "<html><head><title>500 Internal Server Error</title></head><body>" + strings.Repeat("x", 2000) + "</body></html>"
	type check func(t *testing.T, err error)
	gateway := func(status int) check {
		return func(t *testing.T, err error) {
			var ge *GatewayError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, status, ge.StatusCode)
			assert.Equal(t, "OrderQuery", ge.Service)
			assert.LessOrEqual(t, len(ge.Excerpt), excerptLen)
		}
	}
	apiErr := func(code Code) check {
		return func(t *testing.T, err error) {
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, code, ae.Code)
			assert.Equal(t, "F", ae.Status)
			assert.Equal(t, "OrderQuery", ae.Service)
			assert.Contains(t, err.Error(), code)
		}
	}
	malformed := func(t *testing.T, err error) {
		var me *MessageError
		require.ErrorAs(t, err, &me)
		assert.ErrorIs(t, err, ErrMalformedMessage)
		assert.NotErrorIs(t, err, ErrSignatureMismatch)
	}
	cases := []struct {
		name  string
		reply func(*mockBank) *http.Response
		check check
	}{
		{"401", func(*mockBank) *http.Response {
			return httpmock.NewStringResponse(401, `{"statusCode":401,"message":"Access denied due to missing subscription key."}`)
		}, gateway(401)},
		{"403", func(*mockBank) *http.Response { return httpmock.NewStringResponse(403, "Forbidden") }, gateway(403)},
		{"429", func(*mockBank) *http.Response { return httpmock.NewStringResponse(429, "Rate limit is exceeded.") }, gateway(429)},
		{"500 HTML", func(*mockBank) *http.Response { return httpmock.NewStringResponse(500, html) }, gateway(500)},
		{"502", func(*mockBank) *http.Response { return httpmock.NewStringResponse(502, "") }, gateway(502)},
		{"200 HTML", func(*mockBank) *http.Response { return httpmock.NewStringResponse(200, html) }, gateway(200)},
		{"200 empty", func(*mockBank) *http.Response { return httpmock.NewStringResponse(200, "") }, gateway(200)},
		{"200 other JSON", func(*mockBank) *http.Response { return httpmock.NewStringResponse(200, `{"hello":"world"}`) }, gateway(200)},
		{"Status F sealed", func(b *mockBank) *http.Response {
			return b.replyJSON("OrderQuery", `{"ShopNo":"NA0249_001","Date":"202610010000","Status":"F","Description":"E2101 – 訂單查詢條件不足"}`)
		}, apiErr(CodeNoCondition)},
		{"Status F plain", func(*mockBank) *http.Response {
			return httpmock.NewStringResponse(200, `{"Status":"F","Description":"E0000 – 安全簽章錯誤"}`)
		}, apiErr(CodeBadSign)},
		{"forged Sign", mutated(func(m *APIMessage) { m.Sign = strings.Repeat("A", 64) }), func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrSignatureMismatch)
		}},
		{"re-signed with other nonce", mutated(func(m *APIMessage) {
			m.Sign, _ = Sign([]byte(seed.Plaintext), "another nonce", testHashID)
		}), func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrSignatureMismatch) }},
		{"truncated Message", mutated(func(m *APIMessage) { m.Message = m.Message[:len(m.Message)/2] }), malformed},
		{"odd-length Message", mutated(func(m *APIMessage) { m.Message += "A" }), malformed},
		{"non-hex Message", mutated(func(m *APIMessage) { m.Message = strings.Repeat("G", len(m.Message)) }), malformed},
		{"wrong padding", func(b *mockBank) *http.Response {
			// A whole block whose last byte is 0: never valid PKCS#7.
			buf := []byte(`{"Status":"S"}` + "\x00\x00")
			block, err := aes.NewCipher([]byte(testHashID))
			require.NoError(t, err)
			cipher.NewCBCEncrypter(block, []byte(IV("N"))).CryptBlocks(buf, buf)
			return envelopeResponse(t, &APIMessage{Version: Version, ShopNo: testShop, APIService: "OrderQuery", Sign: "00", Nonce: "N", Message: strings.ToUpper(hex.EncodeToString(buf))})
		}, malformed},
		{"missing Sign", mutated(func(m *APIMessage) { m.Sign = "" }), malformed},
		{"other service", mutated(func(m *APIMessage) { m.APIService = "OrderCreate" }), malformed},
		{"plaintext not the right shape", func(b *mockBank) *http.Response {
			return b.replyJSON("OrderQuery", `{"Status":"S","Description":"S0000 – 處理成功","OrderList":"oops"}`)
		}, malformed},
		{"no Status", func(b *mockBank) *http.Response { return b.replyJSON("OrderQuery", `{"ShopNo":"NA0249_001"}`) }, malformed},
		{"bad Amount", func(b *mockBank) *http.Response {
			return b.replyJSON("OrderQuery", `{"Status":"S","Description":"S0000 – 處理成功","OrderList":[{"OrderNo":"X","Amount":"12.5"}]}`)
		}, malformed},
		{"bad Timestamp", func(b *mockBank) *http.Response {
			return b.replyJSON("OrderQuery", `{"Status":"S","Description":"S0000 – 處理成功","OrderList":[{"OrderNo":"X","PayDate":"2021-10-01"}]}`)
		}, malformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newMockBank(t)
			bank.onOrder(func(recorded) *http.Response { return tc.reply(bank) })
			r, err := bank.client().QueryOrders(t.Context(), QueryConditions{OrderNo: "A202110507397"})
			require.Error(t, err)
			assert.Nil(t, r, "no partial result")
			tc.check(t, err)
			for _, secret := range []string{testHashID, testKeyID, testKeys.A1, "01700100003411"} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestQueryOrdersWrongKeys(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	seed := seedReply(t)
	bank.onOrder(func(recorded) *http.Response { return envelopeResponse(t, &seed.Envelope) })
	other := HashKeys{A1: "4D9709D699CA40EE", A2: "5A4FEF83140C4E9E", B1: "BC74301945134CB4", B2: "961F67F8FCA44AB9"}
	c, err := NewClient(testShop, other, WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: bank.mt}), WithKeyID(testKeyID), WithRetryPolicy(NoRetry()))
	require.NoError(t, err)
	_, err = c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A202110507397"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrMalformedMessage) || errors.Is(err, ErrSignatureMismatch), "got %v", err)
}

func TestNonceEndpointErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, err error)
	}{
		{"401", 401, `{"statusCode":401}`, func(t *testing.T, err error) {
			var ge *GatewayError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, 401, ge.StatusCode)
			assert.Equal(t, "Nonce", ge.Service)
		}},
		{"HTML 200", 200, "<html>maintenance</html>", func(t *testing.T, err error) {
			var ge *GatewayError
			require.ErrorAs(t, err, &ge)
		}},
		{"F reply", 200, `{"Status":"F","Description":"E0101 – 商店代號錯誤"}`, func(t *testing.T, err error) {
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, CodeShopUnknown, ae.Code)
		}},
		{"empty nonce", 200, `{"Nonce":""}`, func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrMalformedMessage) }},
		{"nonce with spaces", 200, `{"Nonce":"a b"}`, func(t *testing.T, err error) { assert.ErrorIs(t, err, ErrMalformedMessage) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newMockBank(t).replyNonce(func(recorded) *reply { return httpStatus(tc.status, tc.body) })
			_, err := bank.client().QueryOrders(t.Context(), QueryConditions{OrderNo: "A1"})
			tc.check(t, err)
			assert.Equal(t, 1, bank.mt.GetTotalCallCount(), "no /Order without a nonce")
		})
	}
}

func TestQueryOrdersContextCancelled(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	bank.onOrder(func(recorded) *http.Response { return httpmock.NewStringResponse(500, "unreachable") })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := bank.client(WithRetryPolicy(DefaultRetryPolicy())).QueryOrders(ctx, QueryConditions{OrderNo: "A1"})
	assert.ErrorIs(t, err, context.Canceled)
	var ne *NetworkError
	assert.ErrorAs(t, err, &ne)
	assert.Empty(t, bank.orders())
}

func TestQueryOrdersFreshNoncePerCall(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	seed := seedReply(t)
	bank.onOrder(func(recorded) *http.Response { return envelopeResponse(t, &seed.Envelope) })
	c := bank.client()
	for i := 0; i < 5; i++ {
		_, err := c.QueryOrders(t.Context(), QueryConditions{OrderNo: "A202110507397"})
		require.NoError(t, err)
	}
	seen := map[string]bool{}
	for _, r := range bank.orders() {
		assert.False(t, seen[r.Env.Nonce], "nonce %s reused", r.Env.Nonce)
		seen[r.Env.Nonce] = true
	}
	assert.Len(t, seen, 5)
}

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		shop  string
		keys  HashKeys
		opts  []Option
		field string
	}{
		{"empty shop", "", testKeys, nil, "ShopNo"},
		{"shop with space", "NA0249 001", testKeys, nil, "ShopNo"},
		{"long shop", strings.Repeat("N", 21), testKeys, nil, "ShopNo"},
		{"bad key", testShop, HashKeys{A1: "x"}, nil, "HashKeys.A1"},
		{"relative base", testShop, testKeys, []Option{WithBaseURL("/api")}, "BaseURL"},
		{"ftp base", testShop, testKeys, []Option{WithBaseURL("ftp://x/api")}, "BaseURL"},
		{"empty key id", testShop, testKeys, []Option{WithKeyID("  ")}, "X-KeyID"},
		{"nil http client", testShop, testKeys, []Option{WithHTTPClient(nil)}, "HTTPClient"},
		{"bad retry", testShop, testKeys, []Option{WithRetryPolicy(RetryPolicy{})}, "RetryPolicy"},
		{"bad rate", testShop, testKeys, []Option{WithRateLimit(0, 1)}, "RateLimit"},
		{"bad prefetch", testShop, testKeys, []Option{WithNoncePrefetch(0)}, "NoncePrefetch"},
		{"small reply limit", testShop, testKeys, []Option{WithMaxReplyBytes(10)}, "MaxReplyBytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.shop, tc.keys, tc.opts...)
			assert.Nil(t, c)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
		})
	}
	c, err := NewClient(testShop, testKeys)
	require.NoError(t, err)
	assert.Equal(t, ProductionURL, c.BaseURL())
	c, err = NewClient(testShop, testKeys, WithSandbox(), WithKeyID(" "+testKeyID+"\t"))
	require.NoError(t, err)
	assert.Equal(t, SandboxURL, c.BaseURL())
	assert.Equal(t, testKeyID, c.cred.keyID, "X-KeyID is trimmed")
	assert.Equal(t, testShop, c.ShopNo())
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", c)} {
		assert.NotContains(t, s, testKeyID)
		assert.NotContains(t, s, testHashID)
	}
}

func TestParseDescription(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"S0000 – 處理成功":        {"S0000", "處理成功"},
		"S0001 – 處理成功，查無資料…":  {"S0001", "處理成功，查無資料…"},
		"E2101 - 訂單查詢條件不足":    {"E2101", "訂單查詢條件不足"},
		"E9900 系統忙碌中":         {"E9900", "系統忙碌中"},
		"M0001":               {"M0001", ""},
		"something else – hi": {"", "something else – hi"},
		"":                    {"", ""},
	} {
		code, msg := parseDescription(in)
		assert.Equal(t, want, [2]string{string(code), msg}, in)
	}
}

func TestResponseJSONRoundTrip(t *testing.T) {
	t.Parallel()
	seed := seedReply(t)
	var r ResponseOrderQuery
	require.NoError(t, json.Unmarshal([]byte(seed.Plaintext), &r))
	js, err := json.Marshal(r)
	require.NoError(t, err)
	var back ResponseOrderQuery
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, r, back)
}
