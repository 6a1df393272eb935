package qpaytest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// Every kind of reply (each service, success and refusal, and refusals of
// the envelope) has only the top-level scalars of the bank's reply model
// for its service, and its Sign verifies by the model rule, computed here
// apart from the server: the bank's .NET sample can verify all of them.
// The raw-JSON rule gives the same Sign except where the bank leaves an int
// out: an OrderCreate refusal has no Amount and is signed over Amount=0.
func TestEveryReplyVerifiesByTheModelRule(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei)
	s := newServer(t, qpaytest.WithClock(func() time.Time { return t0 }), qpaytest.WithDemoData())
	shop := s.ShopNo()
	s.AddOrders(pendingOrder("CARD1", sinopac.PayTypeCard, t0), pendingOrder("ATM1", sinopac.PayTypeATM, t0))
	if err := s.SetAutoBilling("CARD1", false); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Pay("CARD1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pay("ATM1"); err != nil {
		t.Fatal(err)
	}
	atm := map[string]any{"ShopNo": shop, "OrderNo": "A1", "Amount": 50000, "CurrencyID": "TWD", "PayType": "A",
		"ATMParam": map[string]string{"ExpireDate": "20261130"}, "PrdtName": "虛擬帳號訂單", "Param1": "p1", "QRCodeStatus": "Y"}
	card := map[string]any{"ShopNo": shop, "OrderNo": "C1", "Amount": 79900, "PayType": "C",
		"CardParam": map[string]string{"AutoBilling": "Y"}, "PrdtName": "T-shirt"}

	type call struct {
		name, service string
		payload       any
		status        string // S or F
		code          string // Description prefix
	}
	calls := []call{
		{"OrderQuery", "OrderQuery", map[string]string{"ShopNo": shop, "OrderNo": qpaytest.SeedOrderNo}, "S", "S0000"},
		{"OrderQuery no data", "OrderQuery", map[string]string{"ShopNo": shop, "OrderNo": "NOPE"}, "S", "S0001"},
		{"OrderQuery no condition", "OrderQuery", map[string]string{"ShopNo": shop}, "F", "E2101"},
		{"OrderQuery one end", "OrderQuery", map[string]string{"ShopNo": shop, "OrderDateTimeS": "202611010000"}, "F", "E1903"},
		{"OrderPayQuery", "OrderPayQuery", map[string]string{"ShopNo": shop, "PayToken": tok}, "S", "S0000"},
		{"OrderPayQuery unknown token", "OrderPayQuery", map[string]string{"ShopNo": shop, "PayToken": "NOPE"}, "F", "E2501"},
		{"OrderCreate ATM", "OrderCreate", atm, "S", "S0000"},
		{"OrderCreate card", "OrderCreate", card, "S", "S0000"},
		{"OrderCreate duplicate", "OrderCreate", atm, "F", "E0302"},
		{"OrderCreate amount", "OrderCreate", map[string]any{"ShopNo": shop, "OrderNo": "A2", "Amount": 12345, "PayType": "A",
			"ATMParam": map[string]string{"ExpireDate": "20261130"}, "PrdtName": "x"}, "F", "E0401"},
		{"OrderCreate other shop", "OrderCreate", map[string]any{"ShopNo": "XX0001_001", "OrderNo": "A3"}, "F", "E0100"},
		{"OrderMaintain capture", "OrderMaintain", map[string]string{"ShopNo": shop, "OrderNo": "CARD1", "Command": "P"}, "S", "S0000"},
		{"OrderMaintain refund token", "OrderMaintain", map[string]any{"ShopNo": shop, "OrderNo": "ATM1", "Command": "R", "Amount": 100}, "S", "S0000"},
		{"OrderMaintain unknown order", "OrderMaintain", map[string]any{"ShopNo": shop, "OrderNo": "NOPE", "Command": "R", "Amount": "100"}, "F", "E2601"},
		{"OrderMaintain bad command", "OrderMaintain", map[string]string{"ShopNo": shop, "OrderNo": "ATM1", "Command": "X"}, "F", "E0001"},
		{"OrderUnCapturedQuery", "OrderUnCapturedQuery", map[string]string{"ShopNo": shop}, "S", "S0"},
		{"OrderUnCapturedQuery other shop", "OrderUnCapturedQuery", map[string]string{"ShopNo": "XX0001_001"}, "F", "E0100"},
		{"BillQuery", "BillQuery", map[string]string{"ShopNo": shop, "BillDate": "20261015"}, "S", "S0000"},
		{"BillQuery bad date", "BillQuery", map[string]string{"ShopNo": shop, "BillDate": "2026-10-15"}, "F", "E0001"},
		{"AllotQuery", "AllotQuery", map[string]string{"ShopNo": shop, "AllotDateS": "20261016", "AllotDateE": "20261016", "PayType": "C"}, "S", "S0000"},
		{"AllotQuery no PayType", "AllotQuery", map[string]string{"ShopNo": shop, "AllotDateS": "20261016", "AllotDateE": "20261016"}, "F", "E0001"},
	}
	type sent struct {
		call
		body []byte
	}
	var all []sent
	for _, c := range calls {
		all = append(all, sent{c, sealed(t, s, c.service, c.payload, rawNonce(t, s))})
	}
	// Refusals of the envelope, shaped by the service's model too.
	badSign := sealed(t, s, "OrderCreate", atm, rawNonce(t, s))
	badSign = []byte(strings.Replace(string(badSign), `"Sign":"`, `"Sign":"0`, 1))
	all = append(all, sent{call{"bad sign", "OrderCreate", nil, "F", "E0000"}, badSign})
	reused := sealed(t, s, "OrderMaintain", map[string]string{"ShopNo": shop, "OrderNo": "NOPE", "Command": "P"}, rawNonce(t, s))
	post(t, s, "/Order", reused, nil)
	all = append(all, sent{call{"reused nonce", "OrderMaintain", nil, "F", "E3002"}, reused})
	env, err := sinopac.Seal("BillQuery", shop, map[string]string{"ShopNo": shop}, rawNonce(t, s), hashID(t, s.Keys()))
	if err != nil {
		t.Fatal(err)
	}
	env.Version = "2.0.0"
	v2, _ := json.Marshal(env)
	all = append(all, sent{call{"version", "BillQuery", nil, "F", "E3301"}, v2})
	all = append(all, sent{call{"unknown nonce", "OrderPayQuery", nil, "F", "E3001"},
		sealed(t, s, "OrderPayQuery", map[string]string{"ShopNo": shop, "PayToken": tok}, "bm90LWlzc3VlZA==")})
	all = append(all, sent{call{"unknown service", "NoSuchService", nil, "F", "E3401"},
		sealed(t, s, "NoSuchService", map[string]string{"ShopNo": shop}, rawNonce(t, s))})

	hid := hashID(t, s.Keys())
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			st, body := post(t, s, "/Order", c.body, nil)
			var env sinopac.APIMessage
			if err := json.Unmarshal(body, &env); st != 200 || err != nil || env.Message == "" {
				t.Fatalf("HTTP %d %s", st, body)
			}
			plain, err := sinopac.DecryptMessage(env.Message, hid, env.Nonce)
			if err != nil {
				t.Fatal(err)
			}
			model, ok := testReplyModels[c.service]
			if !ok {
				model = testReplyModels["OrderQuery"] // ShopNo, Date, Status, Description
			}
			names := map[string]bool{}
			for _, p := range model {
				names[p.name] = true
			}
			scalars := topScalars(t, plain)
			for k := range scalars {
				if !names[k] {
					t.Errorf("field %s is not in the %s reply model: %s", k, c.service, plain)
				}
			}
			if v := scalars["Status"]; v == nil || *v != c.status {
				t.Errorf("Status: %s", plain)
			}
			if v := scalars["Description"]; v == nil || !strings.HasPrefix(*v, c.code) {
				t.Errorf("Description: %s, want %s…", plain, c.code)
			}
			if v := scalars["ShopNo"]; v == nil || *v != shop {
				t.Errorf("ShopNo: %s", plain)
			}
			if env.APIService != c.service || env.ShopNo != shop || env.Version != "1.0.0" {
				t.Errorf("envelope %+v", env)
			}
			if want := modelRuleSign(t, model, plain, env.Nonce, hid); env.Sign != want {
				t.Errorf("Sign %s, the model rule gives %s for %s", env.Sign, want, plain)
			}
			omitsInt := c.service == "OrderCreate" && c.status == "F"
			if raw := rawRuleSign(t, plain, env.Nonce, hid); (raw == env.Sign) == omitsInt {
				t.Errorf("raw-JSON rule agrees: %v, want %v (%s)", raw == env.Sign, !omitsInt, plain)
			}
			if omitsInt {
				if _, has := scalars["Amount"]; has {
					t.Errorf("an OrderCreate refusal with Amount: %s", plain)
				}
			}
		})
	}
}

// A refusal repeats what the bank knows from the request: OrderCreate its
// OrderNo, OrderMaintain its OrderNo, Command and Amount (numbers given as
// strings too), OrderPayQuery its PayToken, BillQuery its BillDate.
func TestRefusalsRepeatTheRequest(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	shop := s.ShopNo()
	for _, tc := range []struct {
		service string
		payload map[string]any
		want    string
	}{
		{"OrderCreate", map[string]any{"ShopNo": shop, "OrderNo": "A9", "Amount": 1}, `{"OrderNo":"A9","ShopNo":"NA0249_001","Status":"F","Description":"E0401 – 金額錯誤 (Amount)"}`},
		{"OrderMaintain", map[string]any{"ShopNo": shop, "OrderNo": "M9", "Command": "R", "Amount": "100"},
			`{"OrderNo":"M9","ShopNo":"NA0249_001","Command":"R","Amount":100,"Date":"DATE","Status":"F","Description":"E2601 – 資料不存在"}`},
		{"OrderPayQuery", map[string]any{"ShopNo": shop, "PayToken": "T9"}, `{"ShopNo":"NA0249_001","PayToken":"T9","Date":"DATE","Status":"F","Description":"E2501 – 付款查詢 Token 錯誤"}`},
		{"BillQuery", map[string]any{"ShopNo": shop, "BillDate": "x"}, `{"ShopNo":"NA0249_001","Date":"DATE","Status":"F","Description":"E0001 – 請求格式錯誤 (BillDate)","BillDate":"x"}`},
	} {
		_, body := post(t, s, "/Order", sealed(t, s, tc.service, tc.payload, rawNonce(t, s)), nil)
		plain, _, _ := openReplyModel(t, s, body)
		got := string(plain)
		if d := jsonField(t, plain, "Date"); d != "" {
			got = strings.Replace(got, d, "DATE", 1)
		}
		if got != tc.want {
			t.Errorf("%s refusal\n got %s\nwant %s", tc.service, got, tc.want)
		}
	}
}

// openReplyModel decrypts a reply without checking its Sign (the caller
// checks it by the rule it means).
func openReplyModel(t testing.TB, s *qpaytest.Server, body []byte) (plain []byte, env sinopac.APIMessage, hid string) {
	t.Helper()
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("reply is not an envelope: %s", body)
	}
	hid = hashID(t, s.Keys())
	plain, err := sinopac.DecryptMessage(env.Message, hid, env.Nonce)
	if err != nil {
		t.Fatal(err)
	}
	return plain, env, hid
}
