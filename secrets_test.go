package sinopac

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captureHandler keeps every record, at every level, rendered both as text
// and as JSON, so the sweep sees whatever a user's handler would.
type captureHandler struct {
	mu    *sync.Mutex
	buf   *bytes.Buffer
	text  slog.Handler
	jsonh slog.Handler
}

func newCapture() *captureHandler {
	buf := &bytes.Buffer{}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}
	return &captureHandler{mu: &sync.Mutex{}, buf: buf, text: slog.NewTextHandler(buf, opts), jsonh: slog.NewJSONHandler(buf, opts)}
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Also every attribute value with %v and %+v, as a careless handler might.
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(h.buf, "%v %+v\n", a.Value.Any(), a.Value.Any())
		return true
	})
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	return h.jsonh.Handle(ctx, r)
}
func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{mu: h.mu, buf: h.buf, text: h.text.WithAttrs(as), jsonh: h.jsonh.WithAttrs(as)}
}
func (h *captureHandler) WithGroup(name string) slog.Handler {
	return &captureHandler{mu: h.mu, buf: h.buf, text: h.text.WithGroup(name), jsonh: h.jsonh.WithGroup(name)}
}
func (h *captureHandler) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.buf.String()
}

// secretsOf lists what must never be printed: the four hash keys, the
// HashID, the X-KeyID, decrypted account and card numbers, and the IVs of
// every nonce the bank issued or sealed a reply with.
func secretsOf(b *mockBank) []string {
	s := []string{testKeys.A1, testKeys.A2, testKeys.B1, testKeys.B2, testHashID, testKeyID,
		secretAcctNo, secretAtmPayNo, secretCardNo, secretCardNo[:6] + "******" + secretCardNo[12:],
		groupedCard("-"), groupedCard(" "), groupedCard(".")}
	for _, n := range b.nonceValues() {
		s = append(s, IV(n))
	}
	return s
}

// assertNoSecret fails when any secret, in any letter case, or any
// 8-character piece of one (a secret cut at an excerpt boundary) appears.
func assertNoSecret(t *testing.T, where, out string, secrets []string) {
	t.Helper()
	low := strings.ToLower(out)
	for _, s := range secrets {
		s = strings.ToLower(s)
		const piece = 8
		if len(s) <= piece {
			if strings.Contains(low, s) {
				t.Errorf("%s reveals a secret: %q", where, out)
			}
			continue
		}
		for i := 0; i+piece <= len(s); i++ {
			if strings.Contains(low, s[i:i+piece]) {
				t.Errorf("%s reveals part of a secret (%q): %q", where, s[i:i+piece], out)
				break
			}
		}
	}
}

func errorForms(err error) map[string]string {
	return map[string]string{
		"Error()": err.Error(), "%v": fmt.Sprintf("%v", err), "%+v": fmt.Sprintf("%+v", err),
		"%#v": fmt.Sprintf("%#v", err), "%s": fmt.Sprintf("%s", err), "%q": fmt.Sprintf("%q", err),
	}
}

// groupedCard is the sandbox card number in groups of four, as people
// (and some error pages) write it.
func groupedCard(sep string) string {
	return secretCardNo[:4] + sep + secretCardNo[4:8] + sep + secretCardNo[8:12] + sep + secretCardNo[12:]
}

// echoHeaders answers status with prefix and every request header (the
// X-KeyID among them), as a careless proxy's error page might.
func echoHeaders(status int, prefix string) func(req recorded) *reply {
	return echoHeadersAs(status, prefix, func(s string) string { return s })
}

// echoHeadersAs echoes the headers after fold (strings.ToLower, …): a
// proxy may echo a secret in another letter case.
func echoHeadersAs(status int, prefix string, fold func(string) string) func(req recorded) *reply {
	return func(req recorded) *reply {
		var sb strings.Builder
		sb.WriteString(prefix)
		for k, v := range req.Header {
			fmt.Fprintf(&sb, "%s: %s\n", k, fold(strings.Join(v, ",")))
		}
		return httpStatus(status, sb.String())
	}
}

// plainReply answers status with a body of contentType.
func plainReply(status int, contentType, body string) func(req recorded) *reply {
	return func(recorded) *reply {
		r := httpStatus(status, body)
		if contentType != "" {
			r = r.withHeader("Content-Type", contentType)
		}
		return r
	}
}

// replyContents is what an unsealed body might carry of a reply: account
// numbers, the card number in every grouping, a payment-page token.
var replyContents = `{"OrderNo":"A202110507397","AtmPayNo":"` + secretAtmPayNo + `","AcctNo":"` + secretAcctNo +
	`","CardNo":"` + secretCardNo + `","Card":"` + groupedCard("-") + `","Printed":"` + groupedCard(" ") + `","Dotted":"` + groupedCard(".") +
	`","WebAtmURL":"https://sandbox.sinopac.com/PayWebATM?TK=4d9057aa-3df1-48cb-8165-e5f7a12cc775"}`

func TestSecretSweep(t *testing.T) {
	t.Parallel()
	order := seedOrder()
	order["CardParam"] = map[string]any{"LeftCCNo": secretCardNo[:6], "RightCCNo": secretCardNo[12:], "CCToken": secretCardNo}
	listWith := func(status, desc string) map[string]any {
		return map[string]any{"ShopNo": testShop, "Date": "202611260905", "Status": status, "Description": desc, "OrderList": []any{order}}
	}
	// An order whose fields do not decode: the decode error must not
	// quote the neighbouring account numbers.
	badOrder := seedOrder()
	badOrder["Amount"] = "79900" + secretAcctNo + "x"
	badOrder["ATMParam"] = map[string]any{"AtmPayNo": 99922530175613, "AcctNo": secretAcctNo}
	badList := map[string]any{"ShopNo": testShop, "Status": "S", "Description": "S0000 – 處理成功", "OrderList": []any{badOrder}}
	typeMismatch := map[string]any{"ShopNo": testShop, "Status": "S", "Description": "S0000 – 處理成功",
		"OrderList": []any{map[string]any{"OrderNo": "A1", "ATMParam": secretAcctNo, "TSDate": secretAcctNo}}}

	cases := map[string]struct {
		nonce *reply
		order *reply
		// handler answers the Order request instead.
		handler func(req recorded) *reply
		q       QueryConditions
		ctx     func() (context.Context, context.CancelFunc)
		call    string // "" QueryOrders, else Client.Call of this service
		// typed replaces QueryOrders with a call of another typed method.
		typed   func(ctx context.Context, c *Client) error
		wantErr bool
		anyErr  bool // the outcome does not matter, only what it prints
	}{
		"success":               {wantErr: false},
		"validation OrderNo":    {q: QueryConditions{OrderNo: secretAcctNo + "%"}, wantErr: true},
		"validation long":       {q: QueryConditions{OrderNo: strings.Repeat(secretCardNo, 4)}, wantErr: true},
		"validation PayType":    {q: QueryConditions{PayType: "X"}, wantErr: true},
		"validation PayFlag":    {q: QueryConditions{PayFlag: "paid"}, wantErr: true},
		"validation range":      {q: QueryConditions{OrderDateTimeS: time.Now()}, wantErr: true},
		"validation nothing":    {q: QueryConditions{}, wantErr: true},
		"401 echoing headers":   {handler: echoHeaders(401, "Access denied\n"), wantErr: true},
		"403 echoing headers":   {handler: echoHeaders(403, "<html><body><h1>403</h1><pre>"), wantErr: true},
		"429 echoing headers":   {handler: echoHeaders(429, `{"statusCode":429,"headers":"`), wantErr: true},
		"500 echoing headers":   {handler: echoHeaders(500, ""), wantErr: true},
		"502 echoing headers":   {handler: echoHeaders(502, "<html>Bad Gateway</html>"), wantErr: true},
		"503 echoing headers":   {handler: echoHeaders(503, ""), wantErr: true},
		"200 HTML echo":         {handler: echoHeaders(200, "<!DOCTYPE html><html>"), wantErr: true},
		"key at excerpt edge":   {handler: echoHeaders(503, strings.Repeat("x", 240)), wantErr: true},
		"key at excerpt edge 2": {handler: echoHeaders(503, strings.Repeat("x", 250)), wantErr: true},
		"key after spaces": {handler: func(req recorded) *reply {
			// Runs of blanks are squeezed in the excerpt: the key must not slip in.
			return httpStatus(503, fmt.Sprintf("%s%s", strings.Repeat(" \t", 200), req.Header.Get("X-KeyID")))
		}, wantErr: true},
		"key across the excerpt's end": {handler: func(req recorded) *reply {
			return httpStatus(503, fmt.Sprintf("%sX-KeyID: %s", strings.Repeat("x", excerptLen-27), req.Header.Get("X-KeyID")))
		}, wantErr: true},
		"401 echoing headers in lower case": {handler: echoHeadersAs(401, "Access denied\n", strings.ToLower), wantErr: true},
		"503 echoing headers in upper case": {handler: echoHeadersAs(503, "", strings.ToUpper), wantErr: true},
		"200 echoing headers in lower case": {handler: echoHeadersAs(200, "", strings.ToLower), wantErr: true},
		"lower-case key across the excerpt's end": {handler: func(req recorded) *reply {
			return httpStatus(503, fmt.Sprintf("%sx-keyid: %s", strings.Repeat("x", excerptLen-27), strings.ToLower(req.Header.Get("X-KeyID"))))
		}, wantErr: true},
		"200 JSON with account numbers":     {handler: plainReply(200, "application/json", replyContents), wantErr: true},
		"200 text with account numbers":     {handler: plainReply(200, "text/plain", "AcctNo "+secretAcctNo+" card "+groupedCard(" ")), wantErr: true},
		"400 JSON with account numbers":     {handler: plainReply(400, "application/json", replyContents), wantErr: true},
		"404 text with account numbers":     {handler: plainReply(404, "", "no order for account "+secretAcctNo+", card "+groupedCard("-")), wantErr: true},
		"500 JSON with account numbers":     {handler: plainReply(500, "application/json; charset=utf-8", replyContents), wantErr: true},
		"502 HTML with account numbers":     {handler: plainReply(502, "text/html", "<html><head><title>Bad Gateway "+secretAcctNo+"</title></head><body>"+replyContents+"</body></html>"), wantErr: true},
		"200 HTML sniffed, account numbers": {handler: plainReply(200, "", "<!DOCTYPE html><html><body><pre>"+replyContents+"</pre></body></html>"), wantErr: true},
		"HTML 500":                          {order: httpStatus(500, "<html><body>Server Error</body></html>"), wantErr: true},
		"forged Sign": {order: sealedReply(listWith("S", "S0000 – 處理成功")).tamper(func(m *APIMessage) {
			m.Sign = strings.Repeat("AB", 32)
		}), wantErr: true},
		"wrong keys":      {order: otherKeys(listWith("S", "S0000 – 處理成功")), wantErr: true},
		"truncated":       {order: truncatedReply(listWith("S", "S0000 – 處理成功"), 33), wantErr: true},
		"odd length":      {order: truncatedReply(listWith("S", "S0000 – 處理成功"), 1), wantErr: true},
		"not hex":         {order: truncatedReply(listWith("S", "S0000 – 處理成功"), -1), wantErr: true},
		"F code":          {order: sealedReply(listWith("F", "E2199 – 查詢失敗")), wantErr: true},
		"F busy":          {order: sealedReply(listWith("F", "E9900 – 系統忙碌中")), wantErr: true},
		"plain F":         {order: unsignedJSON(`{"Status":"F","Description":"E0001 – 請求格式錯誤"}`), wantErr: true},
		"bad field value": {order: sealedReply(badList), wantErr: true},
		"type mismatch":   {order: sealedReply(typeMismatch), wantErr: true},
		"dropped":         {order: hangUp(), wantErr: true},
		"nonce dropped":   {nonce: hangUp(), wantErr: true},
		"nonce F":         {nonce: unsignedJSON(`{"Status":"F","Description":"E0101 – 商店不存在"}`), wantErr: true},
		"nonce garbage":   {nonce: unsignedJSON(`{"Nonce":"bad nonce \u0001"}`), wantErr: true},
		"cancelled": {order: hold(), ctx: func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, wantErr: true},
		"deadline": {order: hold(), ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, wantErr: true},
		"create dropped":         {order: hangUp(), call: "OrderCreate", wantErr: true},
		"raw call F":             {order: sealedReply(listWith("F", "E2601 – 資料不存在")), call: "OrderPayQuery", wantErr: true},
		"CreateOrder reply lost": {order: hangUp(), typed: createOrder(secretCardNo), anyErr: true},
		"CreateOrder F":          {order: sealedReply(listWith("F", "E0302 – 訂單編號重複")), typed: createOrder(secretCardNo), wantErr: true},
		"CreateOrder validation": {typed: createOrder(secretCardNo + "%" + testKeyID), wantErr: true},
		"Refund reply lost":      {order: hangUp(), typed: refund, anyErr: true},
		"Refund F":               {order: sealedReply(listWith("F", "E9999 – 系統錯誤")), typed: refund, wantErr: true},
		"QueryPayment F":         {order: sealedReply(listWith("F", "E2501 – 付款查詢 Token 錯誤")), typed: queryPayment(secretCardNo), wantErr: true},
		"QueryPayment bad token": {typed: queryPayment(secretCardNo + " " + secretAcctNo + "%"), wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newMockBank(t)
			b.replyNonce(func(recorded) *reply { return tc.nonce })
			b.replyOrder(func(req recorded) *reply {
				if tc.handler != nil {
					return tc.handler(req)
				}
				return tc.order
			})
			logs := newCapture()
			c := b.client(WithLogger(slog.New(logs)), WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
			ctx, cancel := context.WithCancel(t.Context())
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			q := tc.q
			if q == (QueryConditions{}) && !strings.HasPrefix(name, "validation") {
				q = QueryConditions{OrderNo: "A202110507397"}
			}
			var err error
			if tc.typed != nil {
				err = tc.typed(ctx, c)
			} else if tc.call != "" {
				_, err = c.Call(ctx, tc.call, map[string]any{"ShopNo": testShop, "OrderNo": "A202110507397", "PayToken": secretCardNo})
			} else {
				var r *ResponseOrderQuery
				r, err = c.QueryOrders(ctx, q)
				if err == nil {
					// The data itself is there (the test is not vacuous) …
					require.NotNil(t, r.OrderList[0].ATMParam)
					assert.Equal(t, secretAcctNo, r.OrderList[0].ATMParam.AcctNo)
				}
			}
			switch {
			case tc.anyErr:
			case tc.wantErr:
				require.Error(t, err)
			default:
				require.NoError(t, err)
			}
			secrets := secretsOf(b)
			if err != nil {
				for form, out := range errorForms(err) {
					assertNoSecret(t, "error "+form, out, secrets)
				}
				t.Logf("%T: %v", err, err)
			}
			out := logs.String()
			if !strings.Contains(name, "validation") && !strings.Contains(name, "bad token") {
				assert.Contains(t, out, "qpay call", "the logger was used")
			}
			// … but never in the logs.
			assertNoSecret(t, "log", out, secrets)
		})
	}
}

func createOrder(prdtName string) func(ctx context.Context, c *Client) error {
	return func(ctx context.Context, c *Client) error {
		_, err := c.CreateOrder(ctx, OrderCreateRequest{OrderNo: "C202611260001", Amount: TWD(799), PayType: PayTypeATM,
			PrdtName: prdtName, ATMParam: &ATMParamRequest{ExpireDate: time.Now().Add(72 * time.Hour).In(Taipei).Format("20060102")}})
		return err
	}
}

func refund(ctx context.Context, c *Client) error {
	_, err := c.Refund(ctx, "A202110507397", TWD(100))
	return err
}

func queryPayment(token string) func(ctx context.Context, c *Client) error {
	return func(ctx context.Context, c *Client) error {
		_, err := c.QueryPayment(ctx, token)
		return err
	}
}

// truncatedReply seals v and then cuts cut characters off the Message
// (cut -1: replaces hex with non-hex).
func truncatedReply(v any, cut int) *reply {
	return sealedReply(v).tamper(func(env *APIMessage) {
		if cut < 0 {
			env.Message = "ZZ" + env.Message[2:]
		} else {
			env.Message = env.Message[:len(env.Message)-cut]
		}
	})
}

// Errors from the exported building blocks, with wrong keys and hostile
// input, carry no secret either.
func TestSecretSweepBuildingBlocks(t *testing.T) {
	t.Parallel()
	b := newMockBank(t)
	secrets := secretsOf(b)
	plain, err := json.Marshal(map[string]any{"Status": "S", "AcctNo": secretAcctNo, "CCNo": secretCardNo})
	require.NoError(t, err)
	env, err := Seal("OrderQuery", testShop, plain, "N-1", testHashID)
	require.NoError(t, err)
	secrets = append(secrets, IV("N-1"))

	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	wrong, _ := HashKeys{A1: "0000000000000000", A2: "1111111111111111", B1: "2222222222222222", B2: "3333333333333333"}.HashID()
	_, err = env.Open(wrong)
	add(err)
	forged := *env
	forged.Sign = strings.Repeat("0", 64)
	_, err = forged.Open(testHashID)
	add(err)
	cut := *env
	cut.Message = cut.Message[:len(cut.Message)-32]
	_, err = cut.Open(testHashID)
	add(err)
	_, err = DecryptMessage(env.Message, testHashID[:31], "N-1")
	add(err)
	_, err = DecryptMessage(env.Message, wrong, "N-1")
	add(err)
	_, err = Sign([]byte(`{"AcctNo":"`+secretAcctNo+`",`), "N-1", testHashID)
	add(err)
	_, err = Sign([]byte(`{"AcctNo":"`+secretAcctNo+`\x"}`), "N-1", testHashID)
	add(err)
	for _, k := range []HashKeys{
		{A1: testKeys.A1 + "0", A2: testKeys.A2, B1: testKeys.B1, B2: testKeys.B2},
		{A1: testKeys.A1, A2: testKeys.A2[:15] + "G", B1: testKeys.B1, B2: testKeys.B2},
		{A1: testKeys.A1, A2: testKeys.A2, B1: "", B2: testKeys.B2},
	} {
		_, err := NewClient(testShop, k)
		add(err)
		_, err = k.HashID()
		add(err)
	}
	_, err = NewClient(testShop, testKeys, WithKeyID(testKeyID+"\n"+testKeyID))
	add(err)
	_, err = NewClient(secretAcctNo+secretCardNo, testKeys)
	add(err)
	require.Len(t, errs, 15)
	for _, err := range errs {
		for form, out := range errorForms(err) {
			assertNoSecret(t, "error "+form, out, secrets)
		}
	}
	// The client itself prints nothing secret either.
	c := b.client()
	var logbuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logbuf, nil)).Info("client", "c", c)
	for _, out := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
		fmt.Sprintf("%+v", []*Client{c}), logbuf.String()} {
		assertNoSecret(t, "client", out, secrets)
		assert.Contains(t, out, testShop)
	}
}

// A Client prints as its shop and base URL only, however it is held and
// whatever the verb: by value, by pointer, in slices, maps and interfaces,
// in an exported field (fmt calls Format) and in an unexported one (fmt
// cannot, and prints the fields: the secrets are two pointers away).
func TestSecretSweepClientValue(t *testing.T) {
	t.Parallel()
	b := newMockBank(t)
	secrets := secretsOf(b)
	c := b.client()
	v := *c
	type hidden struct{ c Client } // fmt cannot call methods on c
	type Shown struct {
		C Client
		P *Client
	}
	holders := map[string]any{
		"value": v, "pointer": c, "slice": []Client{v}, "pointer slice": []*Client{c}, "map": map[string]Client{"a": v},
		"unexported field": hidden{v}, "unexported field by pointer": &hidden{v}, "exported fields": Shown{C: v, P: c},
		"nested": struct{ h hidden }{hidden{v}}, "array": [1]hidden{{v}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%t", "%x", "%X", "%d", "%p", "%10.4s", "%T"}
	for name, h := range holders {
		for _, verb := range verbs {
			assertNoSecret(t, name+" "+verb, fmt.Sprintf(verb, h), secrets)
		}
		assertNoSecret(t, name+" Sprint", fmt.Sprint(h), secrets)
		assertNoSecret(t, name+" Sprintln", fmt.Sprintln(h), secrets)
		js, _ := json.Marshal(h) // no exported fields: nothing to encode
		assertNoSecret(t, name+" JSON", string(js), secrets)
		for _, handler := range []func(io.Writer) slog.Handler{
			func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
			func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
		} {
			var buf bytes.Buffer
			slog.New(handler(&buf)).Info("client", "c", h)
			assertNoSecret(t, name+" slog", buf.String(), secrets)
		}
	}
	// The test is not vacuous: the shop shows, and the secrets are in there.
	assert.Equal(t, "sinopac.Client{ShopNo:NA0249_001 BaseURL:"+c.BaseURL()+"}", fmt.Sprintf("%s", v))
	assert.Equal(t, fmt.Sprintf("%q", c), fmt.Sprintf("%q", v))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("client", "c", v)
	assert.Contains(t, buf.String(), `"c":{"shop_no":"NA0249_001","base_url":"`)
	assert.Equal(t, testHashID, v.cred.hashID)
	assert.Equal(t, testKeyID, v.cred.keyID)
}

// WithBaseURL refuses a URL carrying credentials, a query or a fragment,
// and its error never repeats the URL.
func TestWithBaseURLRefusesCredentials(t *testing.T) {
	t.Parallel()
	const password = "s3cr3t-Passw0rd"
	for _, base := range []string{
		"https://qpay:" + password + "@proxy.example/funBIZ/QPay.WebAPI/api",
		"https://" + password + "@proxy.example/api",
		"http://qpay:" + password + "@127.0.0.1:8080/api",
		"https://proxy.example/api?key=" + password,
		"https://proxy.example/api?",
		"https://proxy.example/api#" + password,
		"https://proxy.example/api#",
	} {
		_, err := NewClient(testShop, testKeys, WithBaseURL(base))
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, base)
		assert.Equal(t, "BaseURL", ve.Field)
		for form, out := range errorForms(err) {
			assertNoSecret(t, base+" error "+form, out, []string{password})
			assert.NotContains(t, out, "proxy.example", form)
		}
	}
	c, err := NewClient(testShop, testKeys, WithBaseURL("https://proxy.example:8443/funBIZ/QPay.WebAPI/api/"))
	require.NoError(t, err)
	assert.Equal(t, "https://proxy.example:8443/funBIZ/QPay.WebAPI/api", c.BaseURL())
}

// What a gateway error shows: the status, the media type and an excerpt
// in which the client's secrets (in any letter case) and every number or
// token a reply could hold are masked, of an HTML page only its title.
func TestGatewayErrorExcerpt(t *testing.T) {
	t.Parallel()
	b := newMockBank(t)
	c := b.client()
	cases := []struct {
		name, contentType, body string
		status                  int
		wantType, want          string
	}{
		{"APIM message kept", "application/json; charset=utf-8", `{ "statusCode": 401, "message": "Access denied due to invalid subscription key." }`,
			401, "application/json", `{ "statusCode": 401, "message": "Access denied due to invalid subscription key." }`},
		{"short codes kept", "application/json", `{"code":9998,"Description":"E0401 – 金額錯誤","at":"2026"}`,
			499, "application/json", `{"code":9998,"Description":"E0401 – 金額錯誤","at":"2026"}`},
		{"account number", "text/plain", "AcctNo=" + secretAcctNo + "; ATM " + secretAtmPayNo,
			404, "text/plain", "AcctNo=##############; ATM ##############"},
		{"card in groups", "", "card " + groupedCard(" ") + " / " + groupedCard("-") + " / " + groupedCard(".") + " declined",
			402, "", "card #### #### #### #### / ################### / ####.####.####.#### declined"},
		{"token", "", "TK=4d9057aa-3df1-48cb-8165-e5f7a12cc775&BindToken=BT7d1e0a9c3f5b2e4d", 400, "",
			"TK=####################################&BindToken=##################"},
		{"HashID in lower case", "", "Sign salt " + strings.ToLower(testHashID) + " end", 500, "", "Sign salt [redacted] end"},
		{"X-KeyID in upper case", "", "X-KeyID: " + strings.ToUpper(testKeyID), 401, "", "X-KeyID: [redacted]"},
		{"X-KeyID in mixed case", "", "key=" + strings.ToUpper(testKeyID[:9]) + testKeyID[9:], 401, "", "key=[redacted]"},
		{"HTML reduced to its title", "text/html; charset=utf-8",
			"<html><head><TITLE>403 - Forbidden: Access is denied &amp; logged</TITLE></head><body><pre>X-KeyID: " + testKeyID + "\n" + replyContents + "</pre></body></html>",
			403, "text/html", "403 - Forbidden: Access is denied & logged"},
		{"HTML sniffed, title masked", "", "\n <!DOCTYPE html><html><title>Account " + secretAcctNo + "</title><body>" + replyContents,
			200, "", "Account ##############"},
		{"HTML without a title", "text/html", "<html><body><h1>502 Bad Gateway</h1>" + replyContents + "</body></html>", 502, "text/html", ""},
		{"spaces squeezed", "", "a \t\r\n  b\x00c", 503, "", "a b c"},
		{"malformed content type", "text/html; ;;=", "plain", 503, "", "plain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hdr := http.Header{}
			if tc.contentType != "" {
				hdr.Set("Content-Type", tc.contentType)
			}
			ge := c.gatewayError("OrderQuery", tc.status, hdr, []byte(tc.body))
			assert.Equal(t, tc.status, ge.StatusCode)
			assert.Equal(t, tc.wantType, ge.ContentType)
			assert.Equal(t, tc.want, ge.Excerpt)
			assert.LessOrEqual(t, len(ge.Excerpt), excerptLen)
			if tc.wantType != "" {
				assert.Contains(t, ge.Error(), "("+tc.wantType+")")
			}
			assertNoSecret(t, "excerpt", ge.Error(), secretsOf(b))
		})
	}
	// A long body is cut at excerptLen, on a rune boundary.
	ge := c.gatewayError("OrderQuery", 503, http.Header{}, []byte(strings.Repeat("錯", 200)))
	assert.LessOrEqual(t, len(ge.Excerpt), excerptLen)
	assert.True(t, utf8.ValidString(ge.Excerpt))
	// A number cut by the window's end is masked even if only a few of its
	// digits fall inside.
	ge = c.gatewayError("OrderQuery", 503, http.Header{}, []byte(strings.Repeat("x ", (excerptLen+len(testHashID)+len(testKeyID))/2-2)+secretAcctNo))
	assert.NotContains(t, ge.Excerpt, secretAcctNo[:3])
}
