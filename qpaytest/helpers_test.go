package qpaytest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newServer starts a server closed at the end of the test.
func newServer(t testing.TB, opts ...qpaytest.Option) *qpaytest.Server {
	t.Helper()
	s := qpaytest.NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// newClient is a client for s; retries are off unless opts say otherwise,
// so that request counts are exact.
func newClient(t testing.TB, s *qpaytest.Server, opts ...sinopac.Option) *sinopac.Client {
	t.Helper()
	c, err := s.NewClient(append([]sinopac.Option{sinopac.WithRetryPolicy(sinopac.NoRetry())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hashID(t testing.TB, k sinopac.HashKeys) string {
	t.Helper()
	h, err := k.HashID()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// post sends a raw JSON POST to {s.URL()}/path and returns status and body.
func post(t testing.TB, s *qpaytest.Server, path string, body []byte, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// rawNonce fetches a nonce without the SDK.
func rawNonce(t testing.TB, s *qpaytest.Server) string {
	t.Helper()
	st, b := post(t, s, "/Nonce", []byte(`{"ShopNo":"`+s.ShopNo()+`"}`), nil)
	var r struct{ Nonce string }
	if st != 200 || json.Unmarshal(b, &r) != nil || r.Nonce == "" {
		t.Fatalf("nonce: HTTP %d %s", st, b)
	}
	return r.Nonce
}

// sealed builds the /Order body for service and payload with nonce.
func sealed(t testing.TB, s *qpaytest.Server, service string, payload any, nonce string) []byte {
	t.Helper()
	env, err := sinopac.Seal(service, s.ShopNo(), payload, nonce, hashID(t, s.Keys()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openReply opens a sealed /Order reply and returns its plaintext fields.
func openReply(t testing.TB, s *qpaytest.Server, body []byte) (plain []byte, status, desc string) {
	t.Helper()
	var env sinopac.APIMessage
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("reply is not an envelope: %s", body)
	}
	plain, err := env.Open(hashID(t, s.Keys()))
	if err != nil {
		t.Fatalf("open reply: %v", err)
	}
	var r struct{ Status, Description string }
	if err := json.Unmarshal(plain, &r); err != nil {
		t.Fatal(err)
	}
	return plain, r.Status, r.Description
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// jsonField is the string field name of a JSON object ("" if absent).
func jsonField(t testing.TB, b []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	v, _ := m[name].(string)
	return v
}
