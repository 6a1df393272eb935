package sinopac

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// mockBase has a non-empty path so that URL mistakes fail loudly.
const mockBase = "https://bank.invalid/funBIZ/QPay.WebAPI/api"

var mockKeys = HashKeys{A1: "86D50DEF3EB7400E", A2: "01FD27C09E5549E5", B1: "9E004965F4244953", B2: "7FB3385F414E4F91"}

const mockShop = "NA0249_001"

// bankReply is what a surfaceBank handler answers: a payload sealed as a
// signed reply, an HTTP error, or a transport error.
type bankReply struct {
	payload any    // sealed and signed (json.RawMessage taken verbatim)
	status  int    // non-zero: answer this HTTP status with body instead
	body    string //
	err     error  // non-nil: the transport fails (the request was sent)
	badSign bool   // seal, then spoil the Sign
}

// sealedReq is one Order request as the bank decrypted and verified it.
type sealedReq struct {
	Service string
	Plain   []byte
}

// surfaceBank is the bank behind httpmock: it checks every envelope like the
// bank (Sign verified with the request's nonce), records the plaintext and
// answers what handle says.
type surfaceBank struct {
	t      testing.TB
	mt     *httpmock.MockTransport
	hashID string
	mu     sync.Mutex
	nonces int
	reqs   []sealedReq
	handle func(service string, plain []byte) bankReply
	// slow names a service whose requests the bank records and then
	// answers only when the client gives up (its context ends).
	slow string
}

func newSurfaceBank(t testing.TB, handle func(service string, plain []byte) bankReply) *surfaceBank {
	t.Helper()
	hashID, err := mockKeys.HashID()
	require.NoError(t, err)
	b := &surfaceBank{t: t, mt: httpmock.NewMockTransport(), hashID: hashID, handle: handle}
	b.mt.RegisterResponder(http.MethodPost, mockBase+"/Nonce", func(r *http.Request) (*http.Response, error) {
		b.mu.Lock()
		b.nonces++
		n := b.nonces
		b.mu.Unlock()
		return httpmock.NewJsonResponse(200, map[string]string{"Nonce": fmt.Sprintf("MOCKNONCE-%06d", n)})
	})
	b.mt.RegisterResponder(http.MethodPost, mockBase+"/Order", b.order)
	return b
}

func (b *surfaceBank) order(r *http.Request) (*http.Response, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var env APIMessage
	if err := json.Unmarshal(raw, &env); err != nil {
		return httpmock.NewStringResponse(400, "bad envelope"), nil
	}
	plain, err := env.Open(b.hashID)
	if err != nil {
		b.t.Errorf("mock bank: request does not open: %v", err)
		return httpmock.NewStringResponse(400, "bad sign"), nil
	}
	if env.Version != Version || env.ShopNo != mockShop {
		b.t.Errorf("mock bank: envelope Version %q ShopNo %q", env.Version, env.ShopNo)
	}
	b.mu.Lock()
	b.reqs = append(b.reqs, sealedReq{env.APIService, plain})
	n := len(b.reqs)
	b.mu.Unlock()
	if env.APIService == b.slow {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	rep := b.handle(env.APIService, plain)
	switch {
	case rep.err != nil:
		return nil, rep.err
	case rep.status != 0:
		return httpmock.NewStringResponse(rep.status, rep.body), nil
	}
	out, err := Seal(env.APIService, mockShop, rep.payload, fmt.Sprintf("REPLYNONCE-%06d", n), b.hashID)
	if err != nil {
		return nil, err
	}
	if rep.badSign {
		out.Sign = strings.Repeat("A", 64)
	}
	return httpmock.NewJsonResponse(200, out)
}

// client is a Client wired to the mock bank, with quick retries.
func (b *surfaceBank) client(opts ...Option) *Client {
	b.t.Helper()
	all := append([]Option{
		WithBaseURL(mockBase),
		WithHTTPClient(&http.Client{Transport: b.mt}),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 3, MinBackoff: 1, MaxBackoff: 2}),
	}, opts...)
	c, err := NewClient(mockShop, mockKeys, all...)
	require.NoError(b.t, err)
	return c
}

// requests returns the Order requests received so far.
func (b *surfaceBank) requests() []sealedReq {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]sealedReq(nil), b.reqs...)
}

// calls counts every HTTP request (Nonce and Order) the transport saw.
func (b *surfaceBank) calls() int { return b.mt.GetTotalCallCount() }

// ok is a sealed reply: fields plus Status S and the S0000 Description.
func ok(fields map[string]any) bankReply {
	m := map[string]any{"Status": "S", "Description": "S0000 – 處理成功"}
	for k, v := range fields {
		m[k] = v
	}
	return bankReply{payload: m}
}

// fail is a sealed Status F reply with code.
func fail(code Code, text string) bankReply {
	return bankReply{payload: map[string]any{"Status": "F", "Description": string(code) + " – " + text}}
}

// fixture answers with a reply file from testdata/replies, verbatim.
func fixture(t *testing.T, name string) bankReply {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "replies", name))
	require.NoError(t, err)
	return bankReply{payload: json.RawMessage(b)}
}

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

var errConnReset = errors.New("connection reset by peer")
