package qpaytest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// What code written against the bank sends, replayed byte for byte: the
// bank's PHP and .NET samples, a PHP SDK, a Node and a Python integration
// (found in public repositories; see the CHANGELOG). qpaytest must accept
// it where the bank does and refuse what the bank refuses.

// jo is a JSON object with its members in the order a client writes them.
type jo []jkv

type jkv struct {
	k string
	v any // string, int, jo, or rawJSON
}

type rawJSON string

// jsonStyle is how a client's JSON library writes.
type jsonStyle struct {
	php    bool // PHP json_encode: "/" as "\/", non-ASCII as \uXXXX
	indent bool // Python json.dumps(indent=4)
}

func (o jo) encode(st jsonStyle) []byte {
	var b bytes.Buffer
	o.write(&b, st, 0)
	return b.Bytes()
}

func (o jo) write(b *bytes.Buffer, st jsonStyle, depth int) {
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		if st.indent {
			b.WriteString("\n" + strings.Repeat("    ", depth+1))
		}
		writeString(b, m.k, st)
		b.WriteByte(':')
		if st.indent {
			b.WriteByte(' ')
		}
		switch v := m.v.(type) {
		case string:
			writeString(b, v, st)
		case int:
			b.WriteString(strconv.Itoa(v))
		case rawJSON:
			b.WriteString(string(v))
		case jo:
			v.write(b, st, depth+1)
		}
	}
	if st.indent && len(o) > 0 {
		b.WriteString("\n" + strings.Repeat("    ", depth))
	}
	b.WriteByte('}')
}

func writeString(b *bytes.Buffer, s string, st jsonStyle) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '/' && st.php:
			b.WriteString(`\/`)
		case r > 0x7e && st.php:
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(b, `\u%04x`, u)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// signOf hashes the pairs the way every client does once it has chosen
// them: "k=v" joined by "&" in the given order, + nonce + HashID.
func signOf(pairs []string, nonce, hashID string) string {
	return signString(kvOf(pairs), nonce, hashID)
}

func kvOf(pairs []string) map[string]string {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		m[k] = v
	}
	return m
}

// phpSign is the PHP samples' rule: array_filter (null, "", "0", 0 and
// empty arrays out), ksort (case-sensitive), scalars only.
func phpSign(o jo, nonce, hashID string) string {
	var keys []string
	vals := map[string]string{}
	for _, m := range o {
		switch v := m.v.(type) {
		case string:
			if v != "" && v != "0" {
				keys, vals[m.k] = append(keys, m.k), v
			}
		case int:
			if v != 0 {
				keys, vals[m.k] = append(keys, m.k), strconv.Itoa(v)
			}
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+vals[k])
	}
	return sha256Upper(strings.Join(parts, "&") + nonce + hashID)
}

// client posts like a client of the bank: to base+path with its headers.
type client struct {
	t       *testing.T
	s       *qpaytest.Server
	base    string // the client's base URL, maybe ending in "/"
	headers map[string]string
}

func (c *client) post(path string, body []byte) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// nonce fetches a nonce with body.
func (c *client) nonce(path string, body []byte) string {
	c.t.Helper()
	st, b := c.post(path, body)
	var r struct{ Nonce string }
	if st != 200 || json.Unmarshal(b, &r) != nil || len(r.Nonce) != 108 {
		c.t.Fatalf("nonce: HTTP %d %s", st, b)
	}
	return r.Nonce
}

// order posts an envelope built from the plaintext msg with sign and
// returns the decrypted reply and its envelope.
func (c *client) order(path string, envelope func(sign, nonce, message string) []byte, msg []byte, sign func(nonce string) string, nonce string) ([]byte, sinopac.APIMessage) {
	c.t.Helper()
	hid := hashID(c.t, c.s.Keys())
	m, err := sinopac.EncryptMessage(msg, hid, nonce)
	if err != nil {
		c.t.Fatal(err)
	}
	st, body := c.post(path, envelope(sign(nonce), nonce, m))
	if st != 200 {
		c.t.Fatalf("HTTP %d %s", st, body)
	}
	plain, env, _ := openReplyModel(c.t, c.s, body)
	return plain, env
}

func phpEnvelope(service, shop string) func(sign, nonce, message string) []byte {
	return func(sign, nonce, message string) []byte {
		return jo{{"Version", "1.0.0"}, {"ShopNo", shop}, {"APIService", service}, {"Sign", sign}, {"Nonce", nonce}, {"Message", message}}.encode(jsonStyle{php: true})
	}
}

func status(t *testing.T, plain []byte) string {
	t.Helper()
	return jsonField(t, plain, "Status") + " " + strings.SplitN(jsonField(t, plain, "Description"), " ", 2)[0]
}

// The bank's PHP sample (QPayToolkit.php): its base URL ends in "/" and it
// appends "/Nonce" and "/Order"; json_encode escapes "/" and non-ASCII;
// the Sign is array_filter + ksort over the object; no X-KeyID (the
// sample predates it) and "Content-type: application/json; charset=utf-8".
func TestBankPHPSample(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	shop := s.ShopNo()
	c := &client{t: t, s: s, base: s.URL() + "/", headers: map[string]string{"Content-type": "application/json; charset=utf-8"}}
	create := jo{{"ShopNo", shop}, {"OrderNo", "TEST20261201001"}, {"Amount", 50000}, {"CurrencyID", "TWD"},
		{"PrdtName", "虛擬帳號訂單"}, {"ReturnURL", "http://10.11.22.113:8803/QPay.ApiClient/Store/Return"},
		{"BackendURL", "http://10.11.22.113:8803/QPay.ApiClient/AutoPush/PushSuccess"}, {"PayType", "A"},
		{"ATMParam", jo{{"ExpireDate", "20301231"}}}}
	n := c.nonce("/Nonce", jo{{"ShopNo", shop}}.encode(jsonStyle{php: true}))
	msg := create.encode(jsonStyle{php: true})
	if !bytes.Contains(msg, []byte(`http:\/\/`)) || !bytes.Contains(msg, []byte(`\u865b`)) {
		t.Fatalf("not PHP's escaping: %s", msg)
	}
	plain, _ := c.order("/Order", phpEnvelope("OrderCreate", shop), msg, func(n string) string { return phpSign(create, n, hashID(t, s.Keys())) }, n)
	if got := status(t, plain); got != "S S0000" {
		t.Fatalf("OrderCreate: %s", plain)
	}
	if o, ok := s.Order("TEST20261201001"); !ok || o.PrdtName != "虛擬帳號訂單" || o.Amount != 50000 {
		t.Fatalf("booked %+v", o)
	}
	query := jo{{"ShopNo", shop}, {"OrderNo", "TEST20261201001"}}
	n = c.nonce("/Nonce", jo{{"ShopNo", shop}}.encode(jsonStyle{php: true}))
	plain, _ = c.order("/Order", phpEnvelope("OrderQuery", shop), query.encode(jsonStyle{php: true}),
		func(n string) string { return phpSign(query, n, hashID(t, s.Keys())) }, n)
	if got := status(t, plain); got != "S S0000" || !bytes.Contains(plain, []byte(`"OrderNo":"TEST20261201001"`)) {
		t.Fatalf("OrderQuery: %s", plain)
	}
}

// The bank's .NET sample (QPayToolkit.cs): Json.NET with null and default
// values left out, and the Sign over its typed model, so an int it leaves
// out of the JSON (OrderMaintain's Amount of a full refund, OrderCreate's
// QRCodeSize when not set) is signed as 0 and a white-space-only value is
// not signed. It verifies every reply by the same model rule.
func TestBankDotNetSample(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	shop := s.ShopNo()
	hid := hashID(t, s.Keys())
	c := &client{t: t, s: s, base: s.URL() + "/", headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}}
	envelope := func(service string) func(sign, nonce, message string) []byte {
		return func(sign, nonce, message string) []byte {
			return jo{{"Version", "1.0.0"}, {"ShopNo", shop}, {"APIService", service}, {"Sign", sign}, {"Nonce", nonce}, {"Message", message}}.encode(jsonStyle{})
		}
	}
	nonceBody := jo{{"ShopNo", shop}}.encode(jsonStyle{})
	call := func(service string, msg jo, signed []string) []byte {
		t.Helper()
		plain, env := c.order("Order", envelope(service), msg.encode(jsonStyle{}), func(n string) string { return signOf(signed, n, hid) }, c.nonce("Nonce", nonceBody))
		if want := modelRuleSign(t, testReplyModels[service], plain, env.Nonce, hid); env.Sign != want {
			t.Fatalf("the sample cannot verify the %s reply %s", service, plain)
		}
		return plain
	}
	// CreOrderReq: Memo " " is sent but not signed; QRCodeSize (int) is
	// not sent but signed as 0.
	plain := call("OrderCreate", jo{{"ShopNo", shop}, {"OrderNo", "C20261201001"}, {"Amount", 79900}, {"CurrencyID", "TWD"},
		{"PayType", "C"}, {"CardParam", jo{{"AutoBilling", "Y"}, {"Staging", "3"}, {"PayTypeSub", "STAGING"}}},
		{"PrdtName", "T-shirt"}, {"ReturnURL", "https://shop.example/return"}, {"Memo", " "}},
		[]string{"Amount=79900", "CurrencyID=TWD", "OrderNo=C20261201001", "PayType=C", "PrdtName=T-shirt",
			"QRCodeSize=0", "ReturnURL=https://shop.example/return", "ShopNo=" + shop})
	if got := status(t, plain); got != "S S0000" {
		t.Fatalf("OrderCreate: %s", plain)
	}
	if _, err := s.Pay("C20261201001"); err != nil {
		t.Fatal(err)
	}
	// OrderMaintainReq with an int Amount: a full refund leaves it out of
	// the JSON and signs Amount=0.
	plain = call("OrderMaintain", jo{{"ShopNo", shop}, {"OrderNo", "C20261201001"}, {"Command", "R"}},
		[]string{"Amount=0", "Command=R", "OrderNo=C20261201001", "ShopNo=" + shop})
	if got := status(t, plain); got != "S S0000" {
		t.Fatalf("OrderMaintain: %s", plain)
	}
	if o, _ := s.Order("C20261201001"); o.RefundAmount != 79900 {
		t.Fatalf("refunded %d", o.RefundAmount)
	}
	// A duplicate: the refusal has no Amount and the sample still verifies it.
	plain = call("OrderCreate", jo{{"ShopNo", shop}, {"OrderNo", "C20261201001"}, {"Amount", 79900}, {"PayType", "C"},
		{"CardParam", jo{{"AutoBilling", "Y"}}}, {"PrdtName", "T-shirt"}},
		[]string{"Amount=79900", "OrderNo=C20261201001", "PayType=C", "PrdtName=T-shirt", "QRCodeSize=0", "ShopNo=" + shop})
	if got := status(t, plain); got != "F E0302" {
		t.Fatalf("duplicate OrderCreate: %s", plain)
	}
}

// Numbers and names as Json.NET binds them: numbers sent as strings, ""
// for an absent number, numbers where the model has a string (a PHP
// client's integer OrderNo, a Java client's Integer ExpireDate), property
// names in any case, in the envelope too; Python's json.dumps(indent=4).
func TestJsonNetBinding(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	shop := s.ShopNo()
	hid := hashID(t, s.Keys())
	c := &client{t: t, s: s, base: s.URL(), headers: map[string]string{"Content-Type": "application/json"}}
	nonceBody := jo{{"shopNo", shop}}.encode(jsonStyle{indent: true})
	send := func(service string, msg jo, st jsonStyle) []byte {
		t.Helper()
		env := func(sign, nonce, message string) []byte {
			return jo{{"version", "1.0.0"}, {"shopno", shop}, {"apiService", service}, {"sign", strings.ToLower(sign)},
				{"nonce", nonce}, {"message", message}}.encode(st)
		}
		b := msg.encode(st)
		plain, _ := c.order("/Order", env, b, func(n string) string { return rawRuleSign(t, b, n, hid) }, c.nonce("/Nonce", nonceBody))
		return plain
	}
	plain := send("OrderCreate", jo{{"shopNo", shop}, {"orderNo", rawJSON("20261201002")}, {"amount", "50000"},
		{"payType", "A"}, {"atmParam", jo{{"expireDate", rawJSON("20301231")}, {"ExpireTime", ""}}},
		{"prdtName", "年度會員"}, {"QRCodeStatus", "Y"}, {"QRCodeSize", "350"}}, jsonStyle{indent: true})
	if got := status(t, plain); got != "S S0000" {
		t.Fatalf("OrderCreate: %s", plain)
	}
	o, ok := s.Order("20261201002")
	if !ok || o.Amount != 50000 || o.ExpireDate.String() != "203012312359" || o.PrdtName != "年度會員" {
		t.Fatalf("booked %+v", o)
	}
	plain = send("OrderCreate", jo{{"ShopNo", shop}, {"OrderNo", "C2"}, {"Amount", 79900}, {"PayType", "C"},
		{"QRCodeSize", ""}, {"CardParam", jo{{"AutoBilling", "N"}, {"ExpBillingDays", "7"}, {"ExpMinutes", ""},
			{"PayTypeSub", "STAGING"}, {"Staging", "3"}}}, {"PrdtName", "x"}}, jsonStyle{php: true})
	if got := status(t, plain); got != "S S0000" {
		t.Fatalf("OrderCreate with string numbers: %s", plain)
	}
	plain = send("OrderCreate", jo{{"ShopNo", shop}, {"OrderNo", "C3"}, {"Amount", "lots"}, {"PayType", "C"},
		{"CardParam", jo{{"AutoBilling", "Y"}}}, {"PrdtName", "x"}}, jsonStyle{})
	if got := status(t, plain); got != "F E0001" {
		t.Fatalf("an Amount that is no number: %s", plain)
	}
	plain = send("OrderQuery", jo{{"SHOPNO", shop}, {"orderno", rawJSON("20261201002")}}, jsonStyle{})
	if got := status(t, plain); got != "S S0000" || !bytes.Contains(plain, []byte(`"OrderNo":"20261201002"`)) {
		t.Fatalf("OrderQuery: %s", plain)
	}
}

// terrylinooo/sinopac-php-sdk sends OrderQuery's PayFlag under the key
// "PayFlag " (a trailing space) and signs it so: the Sign verifies by the
// raw-JSON rule, and the bank, binding no such property, ignores the
// condition.
func TestPHPSDKPayFlagWithASpace(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithKeyID("b5e6986d-8636-4aa0-8c93-441ad14b2098"))
	shop := s.ShopNo()
	now := taipei(2026, 10, 5, 9, 0)
	s.AddOrders(pendingOrder("A1", sinopac.PayTypeATM, now), pendingOrder("A2", sinopac.PayTypeATM, now))
	if _, err := s.Pay("A1"); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, s: s, base: s.URL(), headers: map[string]string{"Content-Type": "application/json",
		"X-KeyID": "b5e6986d-8636-4aa0-8c93-441ad14b2098", "User-Agent": "sinopac-php-sdk/0.0.1"}}
	q := jo{{"ShopNo", shop}, {"PayType", "A"}, {"OrderDateTimeS", "202610050000"}, {"OrderDateTimeE", "202610052359"}, {"PayFlag ", "Y"}}
	plain, _ := c.order("/Order", phpEnvelope("OrderQuery", shop), q.encode(jsonStyle{php: true}),
		func(n string) string { return phpSign(q, n, hashID(t, s.Keys())) }, c.nonce("/Nonce", jo{{"ShopNo", shop}}.encode(jsonStyle{php: true})))
	var r sinopac.ResponseOrderQuery
	if err := json.Unmarshal(plain, &r); err != nil || r.Status != "S" || len(r.OrderList) != 2 {
		t.Fatalf("OrderQuery with \"PayFlag \": %s", plain)
	}
}

// A Node integration (fetch, JSON.stringify, X-KeyID, names sorted by
// toLowerCase().localeCompare) checks each reply's Sign by the raw-JSON
// rule: it verifies every success, and, as against the bank, not an
// OrderCreate refusal (no Amount, signed over Amount=0).
func TestNodeIntegration(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithKeyID("00000000-0000-0000-0000-000000000001"))
	shop := s.ShopNo()
	hid := hashID(t, s.Keys())
	c := &client{t: t, s: s, base: s.URL(), headers: map[string]string{"Content-Type": "application/json",
		"X-KeyID": "00000000-0000-0000-0000-000000000001"}}
	body := jo{{"ShopNo", shop}, {"OrderNo", "N1"}, {"Amount", 120000}, {"CurrencyID", "TWD"}, {"PrdtName", "ECLADO訂單"},
		{"PayType", "A"}, {"ReturnURL", "https://pay.example/return"}, {"BackendURL", "https://pay.example/api/sinopac/notify"},
		{"QRCodeStatus", "Y"}, {"QRCodeSize", 350}, {"ATMParam", jo{{"ExpireDate", "20301231"}, {"ExpireTime", "2359"}}}}
	env := func(sign, nonce, message string) []byte {
		return jo{{"Version", "1.0.0"}, {"ShopNo", shop}, {"APIService", "OrderCreate"}, {"Nonce", nonce}, {"Message", message}, {"Sign", sign}}.encode(jsonStyle{})
	}
	nonceBody := jo{{"ShopNo", shop}}.encode(jsonStyle{})
	b := body.encode(jsonStyle{})
	for i, want := range []string{"S S0000", "F E0302"} {
		plain, reply := c.order("/Order", env, b, func(n string) string { return rawRuleSign(t, b, n, hid) }, c.nonce("/Nonce", nonceBody))
		if got := status(t, plain); got != want {
			t.Fatalf("call %d: %s", i+1, plain)
		}
		if verified := rawRuleSign(t, plain, reply.Nonce, hid) == reply.Sign; verified != (i == 0) {
			t.Fatalf("call %d: raw-JSON rule verifies: %v (%s)", i+1, verified, plain)
		}
	}
}

// What the bank refuses stays refused: a Sign by neither rule (E0000), a
// reused nonce (E3002), paths other than "/" or "//" before the endpoint.
func TestClientsStillRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	shop := s.ShopNo()
	hid := hashID(t, s.Keys())
	c := &client{t: t, s: s, base: s.URL(), headers: map[string]string{"Content-Type": "application/json"}}
	nonceBody := jo{{"ShopNo", shop}}.encode(jsonStyle{})
	q := jo{{"ShopNo", shop}, {"PayType", "A"}}
	env := func(sign, nonce, message string) []byte {
		return jo{{"Version", "1.0.0"}, {"ShopNo", shop}, {"APIService", "OrderQuery"}, {"Sign", sign}, {"Nonce", nonce}, {"Message", message}}.encode(jsonStyle{})
	}
	// Signed with the names' case changed: neither rule gives that.
	plain, _ := c.order("/Order", env, q.encode(jsonStyle{}), func(n string) string {
		return signOf([]string{"PAYTYPE=A", "SHOPNO=" + shop}, n, hid)
	}, c.nonce("/Nonce", nonceBody))
	if got := status(t, plain); got != "F E0000" {
		t.Fatalf("bad Sign: %s", plain)
	}
	n := c.nonce("//Nonce", nonceBody)
	sign := func(n string) string { return rawRuleSign(t, q.encode(jsonStyle{}), n, hid) }
	for i, want := range []string{"S S0001", "F E3002"} {
		plain, _ := c.order("//Order", env, q.encode(jsonStyle{}), sign, n)
		if got := status(t, plain); got != want {
			t.Fatalf("use %d of one nonce: %s", i+1, plain)
		}
	}
	for _, path := range []string{"///Nonce", "/Nonce/", "/nonce", "//order"} {
		if st, _ := c.post(path, nonceBody); st != http.StatusNotFound {
			t.Errorf("POST %s: HTTP %d, want 404", path, st)
		}
	}
}
