package sinopac

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// The sandbox demo shop of the vectors file; its keys are public test values.
const (
	testShop   = "NA0249_001"
	testHashID = "87282A2FA0E209EBE1B3713AB56A06C2"
	testKeyID  = "5f0d3b1e-7c2a-4c1e-9a77-0c7b1d2e3f40"
	testBase   = "https://qpay.test/funBIZ/QPay.WebAPI/api"
)

var testKeys = HashKeys{A1: "86D50DEF3EB7400E", A2: "01FD27C09E5549E5", B1: "9E004965F4244953", B2: "7FB3385F414E4F91"}

// mockBank is an httpmock transport answering /Nonce with numbered nonces
// and /Order with a function of the opened request, recording what it saw.
type mockBank struct {
	t  testing.TB
	mt *httpmock.MockTransport

	mu       sync.Mutex
	nonces   int
	requests []recorded
}

type recorded struct {
	Path    string
	Header  http.Header
	Body    []byte     // raw POST body
	Env     APIMessage // for /Order
	Plain   []byte     // the opened request JSON, for /Order
	OpenErr error
}

func newMockBank(t testing.TB) *mockBank {
	b := &mockBank{t: t, mt: httpmock.NewMockTransport()}
	b.mt.RegisterResponder(http.MethodPost, testBase+"/Nonce", func(r *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.nonces++
		n := b.nonces
		b.requests = append(b.requests, recorded{Path: "/Nonce", Header: r.Header.Clone(), Body: body})
		b.mu.Unlock()
		return httpmock.NewJsonResponse(200, map[string]string{"Nonce": nonceN(n)})
	})
	return b
}

func nonceN(n int) string { return "TEST-NONCE-" + strconv.Itoa(n) }

// onOrder installs the /Order answer: fn gets the opened request JSON.
func (b *mockBank) onOrder(fn func(req recorded) *http.Response) {
	b.mt.RegisterResponder(http.MethodPost, testBase+"/Order", func(r *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(r.Body)
		rec := recorded{Path: "/Order", Header: r.Header.Clone(), Body: body}
		if err := json.Unmarshal(body, &rec.Env); err != nil {
			rec.OpenErr = err
		} else {
			rec.Plain, rec.OpenErr = rec.Env.Open(testHashID)
		}
		b.mu.Lock()
		b.requests = append(b.requests, rec)
		b.mu.Unlock()
		return fn(rec), nil
	})
}

// replyJSON answers with plaintext sealed under a fresh reply nonce.
func (b *mockBank) replyJSON(service, plaintext string) *http.Response {
	env, err := Seal(service, testShop, json.RawMessage(plaintext), "REPLY-NONCE-1", testHashID)
	require.NoError(b.t, err)
	return envelopeResponse(b.t, env)
}

func envelopeResponse(t testing.TB, env *APIMessage) *http.Response {
	js, err := json.Marshal(env)
	require.NoError(t, err)
	return httpmock.NewBytesResponse(200, js)
}

func (b *mockBank) client(opts ...Option) *Client {
	b.t.Helper()
	opts = append([]Option{WithBaseURL(testBase), WithHTTPClient(&http.Client{Transport: b.mt}), WithKeyID(testKeyID),
		WithRetryPolicy(NoRetry())}, opts...)
	c, err := NewClient(testShop, testKeys, opts...)
	require.NoError(b.t, err)
	return c
}

func (b *mockBank) recorded() []recorded {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]recorded(nil), b.requests...)
}

func (b *mockBank) orders() []recorded {
	var out []recorded
	for _, r := range b.recorded() {
		if r.Path == "/Order" {
			out = append(out, r)
		}
	}
	return out
}
