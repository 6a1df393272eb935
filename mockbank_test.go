package sinopac

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// The mock bank is the one bank double of this package's unit tests;
// end-to-end flows use the simulator qpaytest (in package sinopac_test).
// It is built only from the SDK's exported Seal, EncryptMessage and
// APIMessage.Open and this package's test helpers, never from qpaytest, so
// a bug shared by the client and the simulator cannot hide.
//
// It is a jarcoal/httpmock transport serving the bank at testBase, a base
// URL with a deliberately non-empty path, so that URL mistakes fail loudly
// (listen puts the same bank behind a loopback HTTP server, for the few
// tests about net/http itself). Every request is recorded (path, headers,
// raw body, arrival; for /Order the envelope and its verified plaintext)
// and checked as the bank checks it: the X-KeyID (401), the nonce request's
// body, the envelope's Sign (E0000), Version (E3301) and ShopNo (E0100),
// and a nonce the bank issued and nobody used yet (E3002). Then:
//
//   - /Nonce answers a fresh numbered nonce (nonceN), unless replyNonce's
//     function returns a reply;
//   - /Order answers what replyOrder's (or onOrder's) function returns for
//     the opened request; with none, or a nil reply, a success: the seed's
//     order for OrderQuery (its OrderNo the request's), the OrderNo echoed
//     for any other service.
type mockBank struct {
	t   testing.TB
	mt  *httpmock.MockTransport
	srv *httptest.Server // set by listen

	mu          sync.Mutex
	requests    []recorded
	attempts    map[string]int  // requests per path, unsent ones included
	issued      map[string]bool // nonce the bank issued → used
	replyNonces []string        // the nonces its replies were sealed with
	reused      int             // Order requests that presented a used nonce
	nonceFn     func(recorded) *reply
	orderFn     func(recorded) *reply
	unsentFn    func(path string, n int) error
}

// recorded is one request as the bank received it.
type recorded struct {
	Path    string // "/Nonce" or "/Order"
	N       int    // the client's n-th request to Path (1-based; failUnsent's count)
	At      time.Time
	Header  http.Header
	Body    []byte     // raw POST body
	Env     APIMessage // for /Order
	Plain   []byte     // the opened and verified request JSON, for /Order
	OpenErr error
}

// The sandbox demo shop of the vectors file; its keys are public test
// values. mockOrigin+mockPath is the bank's base URL.
const (
	testShop   = "NA0249_001"
	testHashID = "87282A2FA0E209EBE1B3713AB56A06C2"
	testKeyID  = "5f0d3b1e-7c2a-4c1e-9a77-0c7b1d2e3f40"
	mockOrigin = "https://qpay.test"
	mockPath   = "/funBIZ/QPay.WebAPI/api"
	testBase   = mockOrigin + mockPath
)

var testKeys = HashKeys{A1: "86D50DEF3EB7400E", A2: "01FD27C09E5549E5", B1: "9E004965F4244953", B2: "7FB3385F414E4F91"}

// fastRetry is a policy with tiny waits so retry tests stay fast.
var fastRetry = RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxElapsed: 5 * time.Second}

func newMockBank(t testing.TB) *mockBank {
	b := &mockBank{t: t, mt: httpmock.NewMockTransport(), attempts: map[string]int{}, issued: map[string]bool{}}
	b.mt.RegisterResponder(http.MethodPost, testBase+"/Nonce", b.responder("/Nonce"))
	b.mt.RegisterResponder(http.MethodPost, testBase+"/Order", b.responder("/Order"))
	return b
}

func nonceN(n int) string { return "TEST-NONCE-" + strconv.Itoa(n) }

// replyNonce installs the /Nonce answer; a nil reply is a fresh nonce.
func (b *mockBank) replyNonce(fn func(req recorded) *reply) *mockBank {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nonceFn = fn
	return b
}

// replyOrder installs the /Order answer: fn gets the opened request; a nil
// reply is the default success.
func (b *mockBank) replyOrder(fn func(req recorded) *reply) *mockBank {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.orderFn = fn
	return b
}

// failUnsent makes the transport fail a request before writing it when
// fn returns an error for its path and number (as recorded.N counts): a
// refused dial. Such a request never reaches the bank, which does not
// record it. (A reply cannot do this: the bank replies to a request it
// has, and the test's reply function may act on it, e.g. cancel the
// caller's context, only once it was written.)
func (b *mockBank) failUnsent(fn func(path string, n int) error) *mockBank {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unsentFn = fn
	return b
}

// onOrder installs an /Order answer given as an HTTP response.
func (b *mockBank) onOrder(fn func(req recorded) *http.Response) {
	b.replyOrder(func(req recorded) *reply { return &reply{resp: fn(req)} })
}

// replyJSON answers with plaintext sealed under a fresh reply nonce.
func (b *mockBank) replyJSON(service, plaintext string) *http.Response {
	env, err := Seal(service, testShop, json.RawMessage(plaintext), b.newReplyNonce(), testHashID)
	require.NoError(b.t, err)
	return envelopeResponse(b.t, env)
}

func envelopeResponse(t testing.TB, env *APIMessage) *http.Response {
	js, err := json.Marshal(env)
	require.NoError(t, err)
	resp := httpmock.NewBytesResponse(200, js)
	resp.Header.Set("Content-Type", "application/json")
	return resp
}

// client is a Client of the bank's shop wired to the bank, without
// retries unless opts say otherwise; opts come after the wiring.
func (b *mockBank) client(opts ...Option) *Client {
	b.t.Helper()
	wiring := []Option{WithBaseURL(b.base()), WithKeyID(testKeyID), WithRetryPolicy(NoRetry())}
	if b.srv == nil {
		wiring = append(wiring, WithHTTPClient(&http.Client{Transport: b.mt}))
	}
	c, err := NewClient(testShop, testKeys, append(wiring, opts...)...)
	require.NoError(b.t, err)
	if b.srv != nil {
		b.t.Cleanup(c.hc.CloseIdleConnections)
	}
	return c
}

func (b *mockBank) base() string {
	if b.srv != nil {
		return b.srv.URL + mockPath
	}
	return testBase
}

// listen puts the bank behind a loopback HTTP server: clients made after
// it reach the bank through a real net/http transport and connection. A
// transport error of a reply (hangUp, transportError) closes the
// connection without an answer. For tests of net/http's own behaviour
// (dial failures, dropped connections); unit tests use the transport.
func (b *mockBank) listen() {
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := http.NewRequestWithContext(r.Context(), r.Method, mockOrigin+r.URL.Path, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := b.mt.RoundTrip(out)
		if err != nil {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		defer resp.Body.Close()
		maps.Copy(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	b.t.Cleanup(b.srv.Close)
}

// recorded returns every request the bank received, in order.
func (b *mockBank) recorded() []recorded {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests)
}

// orders returns the /Order requests.
func (b *mockBank) orders() []recorded {
	var out []recorded
	for _, r := range b.recorded() {
		if r.Path == "/Order" {
			out = append(out, r)
		}
	}
	return out
}

// services lists the APIService of each /Order request, in order.
func (b *mockBank) services() []string {
	var out []string
	for _, r := range b.orders() {
		out = append(out, r.Env.APIService)
	}
	return out
}

// counts returns how many /Nonce and /Order requests arrived.
func (b *mockBank) counts() (nonces, orders int) {
	for _, r := range b.recorded() {
		if r.Path == "/Nonce" {
			nonces++
		} else {
			orders++
		}
	}
	return nonces, orders
}

// calls counts every request that arrived.
func (b *mockBank) calls() int { return len(b.recorded()) }

// arrivals are the arrival times of every request, in order.
func (b *mockBank) arrivals() []time.Time {
	var out []time.Time
	for _, r := range b.recorded() {
		out = append(out, r.At)
	}
	return out
}

// reusedNonces counts the Order requests that presented a nonce already used.
func (b *mockBank) reusedNonces() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reused
}

// forgetNonces makes the bank forget every nonce it issued (a restart):
// each is refused with E3002 from now on.
func (b *mockBank) forgetNonces() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.issued = map[string]bool{}
}

// nonceValues lists every nonce the bank issued or sealed a reply with.
func (b *mockBank) nonceValues() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append(slices.Collect(maps.Keys(b.issued)), b.replyNonces...)
}

func (b *mockBank) newReplyNonce() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := fmt.Sprintf("REPLY-NONCE-%d", len(b.replyNonces)+1)
	b.replyNonces = append(b.replyNonces, n)
	return n
}

// responder records and answers the requests to path. It reports to the
// request's httptrace as a transport does: a connection taken, then the
// request written, unless failUnsent says it never left.
func (b *mockBank) responder(path string) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		trace := httptrace.ContextClientTrace(r.Context())
		if trace != nil && trace.GetConn != nil {
			trace.GetConn(r.URL.Host)
		}
		b.mu.Lock()
		b.attempts[path]++
		n, unsent := b.attempts[path], b.unsentFn
		b.mu.Unlock()
		if unsent != nil {
			if err := unsent(path, n); err != nil {
				return nil, err
			}
		}
		if trace != nil && trace.WroteHeaders != nil {
			trace.WroteHeaders()
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		rec := recorded{Path: path, N: n, At: time.Now(), Header: r.Header.Clone(), Body: body}
		badEnvelope := false
		if path == "/Order" {
			if rec.OpenErr = json.Unmarshal(body, &rec.Env); rec.OpenErr != nil {
				badEnvelope = true
			} else {
				rec.Plain, rec.OpenErr = rec.Env.Open(testHashID)
			}
		}
		b.mu.Lock()
		b.requests = append(b.requests, rec)
		rep := b.check(rec, badEnvelope)
		fn := b.orderFn
		if path == "/Nonce" {
			fn = b.nonceFn
		}
		b.mu.Unlock()
		if rep == nil && fn != nil {
			rep = fn(rec)
		}
		if rep == nil {
			rep = b.standard(rec)
		}
		return b.answer(r, rec, rep)
	}
}

// check is the bank's own refusal of a request, or nil. It marks the
// request's nonce used.
func (b *mockBank) check(rec recorded, badEnvelope bool) *reply {
	if rec.Header.Get("X-KeyID") != testKeyID {
		return httpStatus(http.StatusUnauthorized, `{"statusCode":401,"message":"Access denied due to invalid subscription key."}`)
	}
	if rec.Path == "/Nonce" {
		var req struct{ ShopNo string }
		if json.Unmarshal(rec.Body, &req) != nil || req.ShopNo != testShop {
			return httpStatus(http.StatusBadRequest, "bad nonce request")
		}
		return nil
	}
	switch {
	case badEnvelope:
		return httpStatus(http.StatusBadRequest, "bad envelope")
	case rec.OpenErr != nil:
		return fail(CodeBadSign, CodeBadSign.Text())
	case rec.Env.Version != Version:
		return fail(CodeVersion, CodeVersion.Text())
	case rec.Env.ShopNo != testShop:
		return fail(CodeShopWrong, CodeShopWrong.Text())
	}
	used, known := b.issued[rec.Env.Nonce]
	if used {
		b.reused++
	}
	if !known || used {
		return fail(CodeNonceInvalid, CodeNonceInvalid.Text())
	}
	b.issued[rec.Env.Nonce] = true
	return nil
}

// standard is the answer when the test gives none.
func (b *mockBank) standard(rec recorded) *reply {
	if rec.Path == "/Nonce" {
		n := nonceN(rec.N)
		b.mu.Lock()
		b.issued[n] = false
		b.mu.Unlock()
		return &reply{body: `{"Nonce":"` + n + `"}`, header: http.Header{"Content-Type": {"application/json"}}}
	}
	var req map[string]any
	_ = json.Unmarshal(rec.Plain, &req)
	orderNo, _ := req["OrderNo"].(string)
	if rec.Env.APIService == "OrderQuery" {
		o := seedOrder()
		if orderNo != "" {
			o["OrderNo"] = orderNo
		}
		return sealedReply(map[string]any{"ShopNo": testShop, "Date": "202611260905", "Status": "S",
			"Description": "S0000 – 處理成功", "OrderList": []any{o}})
	}
	return sealedReply(map[string]any{"ShopNo": testShop, "OrderNo": orderNo, "TSNo": "NA024900000001", "Status": "S", "Description": "S0000 – 處理成功"})
}

// seedOrder is the seed document's order (an ATM payment) with its
// account numbers, which must never appear in an error or a log.
func seedOrder() map[string]any {
	return map[string]any{
		"OrderNo": "A202110507397", "TSNo": "NA024900000319", "TSDate": "202110011708", "PayDate": "202110012245",
		"Amount": 79900, "PayType": "A", "PayStatus": "1A400", "ExpireDate": "202110041708", "PrdtName": "虛擬帳號訂單",
		"ATMParam": map[string]any{"AtmPayNo": secretAtmPayNo, "WebAtmURL": "https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayWebATM?TD=NA024900000319&TK=x",
			"BankNo": "807", "AcctNo": secretAcctNo},
	}
}

const (
	secretAtmPayNo = "99922530175613"
	secretAcctNo   = "01700100003411"
	secretCardNo   = "4143520001870127" // the sandbox test card
)

// answer turns a reply into the transport's result.
func (b *mockBank) answer(r *http.Request, rec recorded, rep *reply) (*http.Response, error) {
	if rep.delay != 0 {
		var wait <-chan time.Time
		if rep.delay > 0 {
			t := time.NewTimer(rep.delay)
			defer t.Stop()
			wait = t.C
		}
		select {
		case <-wait:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	switch {
	case rep.err != nil:
		return nil, rep.err
	case rep.resp != nil:
		return rep.resp, nil
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	var resp *http.Response
	if rep.seal != nil {
		env, err := b.seal(rec, rep)
		if err == nil {
			var js []byte
			if js, err = json.Marshal(env); err == nil {
				resp = httpmock.NewBytesResponse(status, js)
			}
		}
		if err != nil {
			// A test's bad reply must not pass for a lost one.
			b.t.Errorf("mock bank: cannot seal the reply: %v", err)
			return nil, err
		}
		resp.Header.Set("Content-Type", "application/json")
	} else {
		resp = httpmock.NewStringResponse(status, rep.body)
	}
	for k, v := range rep.header {
		resp.Header[k] = slices.Clone(v)
	}
	return resp, nil
}

// seal is the envelope of a sealed reply, under a fresh reply nonce.
func (b *mockBank) seal(rec recorded, rep *reply) (*APIMessage, error) {
	service := rec.Env.APIService
	if rec.Path == "/Nonce" {
		service = nonceEndpoint
	}
	hashID := cmp.Or(rep.hashID, testHashID)
	nonce := b.newReplyNonce()
	var env *APIMessage
	if rep.signString != "" {
		plain, err := marshalPayload(rep.seal)
		if err != nil {
			return nil, err
		}
		msg, err := EncryptMessage(plain, hashID, nonce)
		if err != nil {
			return nil, err
		}
		env = &APIMessage{Version: Version, ShopNo: testShop, APIService: service, Sign: hashSignString(rep.signString, nonce, hashID), Nonce: nonce, Message: msg}
	} else {
		var err error
		if env, err = Seal(service, testShop, rep.seal, nonce, hashID); err != nil {
			return nil, err
		}
	}
	if rep.tamperFn != nil {
		rep.tamperFn(env)
	}
	return env, nil
}

// A reply is how the mock bank answers one request: built by the
// functions below, adjusted by its methods (each returns a copy).
type reply struct {
	status     int         // HTTP status (0: 200)
	header     http.Header // set on the response
	body       string      // the body, unless seal
	seal       any         // sealed and signed with the shop's keys (a json.RawMessage verbatim)
	signString string      // with seal: the Sign is over this sign string (the model rule)
	hashID     string      // with seal: other keys
	tamperFn   func(*APIMessage)
	resp       *http.Response // verbatim (onOrder)
	err        error          // the transport fails, the request written
	delay      time.Duration  // wait first, the request's context honoured (<0: until it ends)
}

// sealedReply is payload sealed and signed by the raw rule with the shop's keys.
func sealedReply(payload any) *reply { return &reply{seal: payload} }

// ok is a sealed reply: fields plus Status S and the S0000 Description.
func ok(fields map[string]any) *reply {
	m := map[string]any{"Status": "S", "Description": "S0000 – 處理成功"}
	maps.Copy(m, fields)
	return sealedReply(m)
}

// fail is a sealed Status F reply with code.
func fail(code Code, text string) *reply {
	return sealedReply(map[string]any{"Status": "F", "Description": string(code) + " – " + text})
}

// signedAs is plain encrypted with the shop's keys and signed over
// signString, written out by hand: the bank's model rule, or a Sign that
// Seal would refuse to make.
func signedAs(plain, signString string) *reply {
	return &reply{seal: json.RawMessage(plain), signString: signString}
}

// otherKeys is payload sealed and signed with keys that are not the shop's.
func otherKeys(payload any) *reply {
	return &reply{seal: payload, hashID: "00112233445566778899AABBCCDDEEFF"}
}

// fixture is a reply file of testdata/replies, sealed verbatim.
func fixture(t testing.TB, name string) *reply {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "replies", name))
	require.NoError(t, err)
	return sealedReply(json.RawMessage(b))
}

// unsignedJSON is an unsigned, unencrypted JSON body (HTTP 200).
func unsignedJSON(body string) *reply {
	return &reply{body: body, header: http.Header{"Content-Type": {"application/json"}}}
}

// httpStatus is any HTTP status with a raw body.
func httpStatus(status int, body string) *reply { return &reply{status: status, body: body} }

// transportError fails the request after it was written: the bank may
// have it. (failUnsent fails one before it was written.)
func transportError(err error) *reply { return &reply{err: err} }

// hangUp closes the connection after the request arrived, without a reply.
func hangUp() *reply { return transportError(io.EOF) }

// hold keeps the request until the client gives up (its context ends).
func hold() *reply { return &reply{delay: -1} }

// after waits d before answering, unless the request's context ends first.
func (r *reply) after(d time.Duration) *reply { c := *r; c.delay = d; return &c }

// withHeader sets a response header.
func (r *reply) withHeader(key, value string) *reply {
	c := *r
	c.header = c.header.Clone()
	if c.header == nil {
		c.header = http.Header{}
	}
	c.header.Set(key, value)
	return &c
}

// tamper changes a sealed reply's envelope after sealing.
func (r *reply) tamper(fn func(*APIMessage)) *reply { c := *r; c.tamperFn = fn; return &c }

// forgeSign replaces the Sign with one the keys did not make.
func forgeSign(m *APIMessage) { m.Sign = strings.Repeat("A", 64) }

var errConnReset = errors.New("connection reset by peer")

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// golden compares got with testdata/wire/name byte for byte (-update
// rewrites it).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "wire", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, append(append([]byte(nil), got...), '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, strings.TrimSuffix(string(want), "\n"), string(got), "wire JSON differs from %s", path)
}
