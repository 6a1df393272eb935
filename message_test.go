package sinopac

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sealSigned encrypts plain as a reply of service with the given Sign,
// bypassing Seal (which signs by the raw rule and refuses duplicates).
func sealSigned(t *testing.T, service, plain, nonce, sign string) *APIMessage {
	t.Helper()
	msg, err := EncryptMessage([]byte(plain), testHashID, nonce)
	require.NoError(t, err)
	return &APIMessage{Version: Version, ShopNo: testShop, APIService: service, Sign: sign, Nonce: nonce, Message: msg}
}

// An OrderCreate E0302 reply as the bank signs it: from its model, where
// the absent Amount is 0.
const (
	e0302Reply      = `{"OrderNo":"A202110507397","ShopNo":"NA0249_001","Status":"F","Description":"E0302 – 訂單編號重複"}`
	e0302SignString = "Amount=0&Description=E0302 – 訂單編號重複&OrderNo=A202110507397&ShopNo=NA0249_001&Status=F"
)

func TestOpenReplyAcceptsEitherRule(t *testing.T) {
	t.Parallel()
	const nonce = "REPLY-NONCE-1"
	cases := map[string]struct {
		service, plain, signString string
	}{
		"absent int signed as 0": {"OrderCreate", e0302Reply, e0302SignString},
		"whitespace-only value left out": {"OrderMaintain", `{"OrderNo":"A1","Command":"R","Amount":100,"Status":"S","Description":"S0000 – 處理成功","RefundToken":" "}`,
			"Amount=100&Command=R&Description=S0000 – 處理成功&OrderNo=A1&Status=S"},
		"name in another case": {"OrderQuery", `{"shopNo":"NA0249_001","Status":"S","Description":"S0001 – 查無資料"}`,
			"Description=S0001 – 查無資料&ShopNo=NA0249_001&Status=S"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, tc.signString, rawSignString(t, tc.plain), "a case where the rules differ")
			env := sealSigned(t, tc.service, tc.plain, nonce, hashSignString(tc.signString, nonce, testHashID))

			plain, err := env.OpenReply(testHashID)
			require.NoError(t, err)
			assert.Equal(t, tc.plain, string(plain))

			_, err = env.Open(testHashID)
			assert.ErrorIs(t, err, ErrSignatureMismatch, "Open is the raw rule only")

			other := *env
			other.APIService = "SomeNewService"
			_, err = other.OpenReply(testHashID)
			assert.ErrorIs(t, err, ErrSignatureMismatch, "a service the SDK does not model: raw rule only")

			forged := *env
			forged.Sign = flipHex(env.Sign)
			_, err = forged.OpenReply(testHashID)
			assert.ErrorIs(t, err, ErrSignatureMismatch)

			// The raw rule still verifies the same plaintext.
			raw := sealSigned(t, tc.service, tc.plain, nonce, hashSignString(rawSignString(t, tc.plain), nonce, testHashID))
			_, err = raw.OpenReply(testHashID)
			assert.NoError(t, err)
		})
	}
}

// The case of issue #9: the bank's E0302 reply (Amount absent, signed as
// Amount=0) verifies, is settled like every E0302 (one OrderQuery), and,
// the OrderNo holding another order, comes back from CreateOrder as the
// *APIError it is — not as a signature mismatch, which would leave the
// create's outcome unknown.
func TestCreateOrderE0302SignedByModel(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t).replyOrder(func(req recorded) *reply {
		if req.Env.APIService == "OrderQuery" {
			// The settling query (any E0302 is settled: the request may be
			// our own earlier one): the OrderNo holds another order.
			plain := `{"ShopNo":"NA0249_001","Date":"202610011200","Status":"S","Description":"S0000 – 處理成功",` +
				`"OrderList":[{"OrderNo":"A202110507397","TSNo":"NA024900000001","Amount":50000,"PayType":"A","PayStatus":"1A200"}]}`
			return signedAs(plain, rawSignString(t, plain))
		}
		return signedAs(e0302Reply, e0302SignString)
	})
	c := bank.client()
	r, err := c.CreateOrder(t.Context(), OrderCreateRequest{OrderNo: "A202110507397", Amount: 79900, PayType: PayTypeATM,
		PrdtName: "商品", ATMParam: &ATMParamRequest{ExpireDate: "20261010"}})
	assert.Nil(t, r)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, CodeDuplicateOrder, ae.Code)
	assert.Equal(t, "OrderCreate", ae.Service)
	require.Len(t, bank.orders(), 2, "the create, then one settling OrderQuery")
	assert.Equal(t, "OrderQuery", bank.orders()[1].Env.APIService)

	// Client.Call for a service the SDK does not model verifies by the raw
	// rule only: the same reply is refused there.
	bank2 := newMockBank(t).replyOrder(func(recorded) *reply { return signedAs(e0302Reply, e0302SignString) })
	_, err = bank2.client().Call(t.Context(), "OrderCreateV2", map[string]string{"ShopNo": testShop})
	assert.ErrorIs(t, err, ErrSignatureMismatch)
}

// A reply that names a field twice is refused however it is signed. Before,
// the Sign check read the first exact "Status" (S: success) while
// encoding/json kept the last case-insensitive one: QueryOrders returned
// success with r.Status == "F".
func TestDuplicateFieldsRefused(t *testing.T) {
	t.Parallel()
	const head = `{"ShopNo":"NA0249_001","Date":"202110032253","Status":"S","Description":"S0000 – 處理成功",`
	cases := map[string]struct {
		plain, signString string
	}{
		"Status and status": {head + `"OrderList":[],"status":"F"}`,
			"Date=202110032253&Description=S0000 – 處理成功&ShopNo=NA0249_001&Status=S&status=F"},
		"Status and status, model-signed": {head + `"OrderList":[],"status":"F"}`,
			"Date=202110032253&Description=S0000 – 處理成功&ShopNo=NA0249_001&Status=S"},
		"two OrderList": {head + `"OrderList":[],"OrderList":[{"OrderNo":"X1","Amount":100,"PayStatus":"1A400"}]}`,
			"Date=202110032253&Description=S0000 – 處理成功&ShopNo=NA0249_001&Status=S"},
		"Unicode fold (ſ, U+017F)": {head + `"ſtatus":"F"}`,
			"Date=202110032253&Description=S0000 – 處理成功&ShopNo=NA0249_001&Status=S&ſtatus=F"},
		"exact twice": {head + `"Status":"F"}`,
			"Date=202110032253&Description=S0000 – 處理成功&ShopNo=NA0249_001&Status=S&Status=F"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			bank := newMockBank(t).replyOrder(func(recorded) *reply { return signedAs(tc.plain, tc.signString) })
			r, err := bank.client().QueryOrders(t.Context(), QueryConditions{OrderNo: "A202110507397"})
			assert.Nil(t, r)
			require.ErrorIs(t, err, ErrDuplicateField)
			assert.ErrorIs(t, err, ErrMalformedMessage)
			var me *MessageError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, "OrderQuery", me.Service)

			_, err = Sign([]byte(tc.plain), "N", testHashID)
			assert.ErrorIs(t, err, ErrDuplicateField, "Sign refuses it too")
		})
	}
}

// Each way a reply can fail to open has its sentinel, carried by a
// *MessageError that names the service and still matches
// ErrMalformedMessage.
func TestOpenErrorKinds(t *testing.T) {
	t.Parallel()
	const nonce = "N1"
	good := sealSigned(t, "OrderQuery", `{"Status":"S"}`, nonce, "")
	cases := map[string]struct {
		env  func() *APIMessage
		hash string
		kind error
	}{
		"not hex":       {func() *APIMessage { e := *good; e.Message = "ZZ" + e.Message[2:]; return &e }, testHashID, ErrMessageNotHex},
		"empty":         {func() *APIMessage { e := *good; e.Message = ""; return &e }, testHashID, ErrMessageTruncated},
		"odd length":    {func() *APIMessage { e := *good; e.Message = e.Message[1:]; return &e }, testHashID, ErrMessageTruncated},
		"partial block": {func() *APIMessage { e := *good; e.Message = e.Message + "00"; return &e }, testHashID, ErrMessageTruncated},
		"bad padding":   {func() *APIMessage { return good }, "17D8E6558DC60E702A6B57E1B9B7060D", ErrBadPadding},
		"not UTF-8":     {func() *APIMessage { return sealSigned(t, "OrderQuery", "{\"Status\":\"\xff\"}", nonce, "") }, testHashID, ErrNotUTF8},
		"an array":      {func() *APIMessage { return sealSigned(t, "OrderQuery", `[]`, nonce, "") }, testHashID, ErrNotJSONObject},
		"invalid JSON":  {func() *APIMessage { return sealSigned(t, "OrderQuery", `{"Status":S}`, nonce, "") }, testHashID, ErrNotJSONObject},
		"trailing data": {func() *APIMessage { return sealSigned(t, "OrderQuery", `{} {}`, nonce, "") }, testHashID, ErrNotJSONObject},
		"bad escape":    {func() *APIMessage { return sealSigned(t, "OrderQuery", `{"Status":"\u12"}`, nonce, "") }, testHashID, ErrNotJSONObject},
		"duplicate":     {func() *APIMessage { return sealSigned(t, "OrderQuery", `{"a":1,"A":2}`, nonce, "") }, testHashID, ErrDuplicateField},
	}
	kinds := []error{ErrMessageNotHex, ErrMessageTruncated, ErrBadPadding, ErrNotUTF8, ErrNotJSONObject, ErrDuplicateField, ErrSignatureMismatch}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, open := range []func(*APIMessage, string) ([]byte, error){(*APIMessage).Open, (*APIMessage).OpenReply} {
				plain, err := open(tc.env(), tc.hash)
				assert.Nil(t, plain)
				assert.ErrorIs(t, err, ErrMalformedMessage)
				for _, k := range kinds {
					assert.Equal(t, k == tc.kind, errors.Is(err, k), "errors.Is(%v, %v)", err, k)
				}
				var me *MessageError
				require.ErrorAs(t, err, &me)
				assert.Equal(t, "OrderQuery", me.Service)
			}
		})
	}
	// DecryptMessage reports the same kinds, without a service.
	_, err := DecryptMessage("ABC", testHashID, nonce)
	assert.ErrorIs(t, err, ErrMessageTruncated)
	assert.Equal(t, "sinopac: malformed message: Message has odd length 3 (truncated hex?)", err.Error())
	// A forged Sign is ErrSignatureMismatch and nothing else.
	_, err = good.Open(testHashID)
	assert.ErrorIs(t, err, ErrSignatureMismatch)
	assert.NotErrorIs(t, err, ErrMalformedMessage)
}

// Errors are built where they happen and never annotated in place. Before,
// the package-level "not a JSON object" error was given the Service of the
// first Open that hit it, and every later Sign reported "OrderQuery:
// malformed reply" (a data race under concurrent use).
func TestOpenErrorsAreNotShared(t *testing.T) {
	t.Parallel()
	arr := sealSigned(t, "OrderQuery", `[]`, "N1", "")
	const signErr = "sinopac: malformed message: message is not a JSON object"
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 50 {
				_, err := arr.Open(testHashID)
				if err == nil || err.Error() != "sinopac: OrderQuery: malformed reply: message is not a JSON object" {
					t.Errorf("Open: %v", err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				_, err := Sign([]byte("[]"), "n", testHashID)
				if err == nil || err.Error() != signErr {
					t.Errorf("Sign after Open: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	_, err := Sign([]byte("[]"), "n", testHashID)
	assert.EqualError(t, err, signErr)
}

// Under the model rule only the model's properties are signed, so every
// top-level scalar a typed reply decodes must be one of them: nothing the
// SDK hands out at the top level is unsigned, whichever rule verified it.
func TestReplyModelsCoverDecodedFields(t *testing.T) {
	t.Parallel()
	unmarshaler := reflect.TypeFor[interface{ UnmarshalJSON([]byte) error }]()
	for svc, reply := range map[*service]any{
		orderQueryService: ResponseOrderQuery{}, orderPayQueryService: ResponseOrderPayQuery{},
		orderCreateService: ResponseOrderCreate{}, orderMaintainService: ResponseOrderMaintain{},
		unCapturedQueryService: ResponseOrderUnCapturedQuery{}, billQueryService: ResponseBillQuery{},
		allotQueryService: ResponseAllotQuery{},
	} {
		assert.Same(t, svc, lookupService(svc.name), "%s is in the services table", svc.name)
		rt := reflect.TypeOf(reply)
		for i := range rt.NumField() {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			ft := f.Type
			nested := ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Map ||
				ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshaler)
			if nested {
				continue // never signed, by either rule
			}
			var found *modelField
			for j := range svc.reply {
				if svc.reply[j].name == name {
					found = &svc.reply[j]
				}
			}
			if assert.NotNil(t, found, "%s.%s is decoded but not in the %s reply model", rt.Name(), name, svc.name) {
				isInt := ft.Kind() == reflect.Int64 || ft.Kind() == reflect.Int
				assert.Equal(t, isInt, found.number, "%s.%s: int in the model exactly when a number here", rt.Name(), name)
			}
		}
	}
}
