package qpaytest_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

func TestURLHasBasePath(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	if !strings.HasSuffix(s.URL(), "/funBIZ/QPay.WebAPI/api") || !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q", s.URL())
	}
}

func TestGateway(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithKeyID("key-1"))
	base := strings.TrimSuffix(s.URL(), qpaytest.BasePath)
	nonceBody := `{"ShopNo":"` + qpaytest.DemoShopNo + `"}`
	tests := []struct {
		name, method, url, ctype, keyID string
		want                            int
	}{
		{"ok", "POST", s.URL() + "/Nonce", "application/json; charset=utf-8", "key-1", 200},
		{"key with spaces", "POST", s.URL() + "/Nonce", "application/json", " key-1 ", 200},
		{"no key", "POST", s.URL() + "/Nonce", "application/json", "", 401},
		{"wrong key", "POST", s.URL() + "/Order", "application/json", "key-2", 401},
		{"unknown path", "POST", s.URL() + "/Orders", "application/json", "key-1", 404},
		{"no base path", "POST", base + "/Nonce", "application/json", "key-1", 404},
		{"path case", "POST", base + "/funbiz/QPay.WebAPI/api/Nonce", "application/json", "key-1", 404},
		{"GET", "GET", s.URL() + "/Nonce", "", "key-1", 405},
		{"form body", "POST", s.URL() + "/Nonce", "application/x-www-form-urlencoded", "key-1", 415},
		{"no content type is read as JSON", "POST", s.URL() + "/Nonce", "", "key-1", 200},
		{"text body", "POST", s.URL() + "/Order", "text/plain", "key-1", 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(nonceBody))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.keyID != "" {
				req.Header.Set("X-KeyID", tt.keyID)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// bankNonce is the bank's nonce inside the base64: 14 digits of
// milliseconds, a single digit, 64 lower-case hex digits.
var bankNonce = regexp.MustCompile(`^[0-9]{14}\.[0-9]:[0-9a-f]{64}$`)

func TestNoncesUnique(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	seen := map[string]bool{}
	for range 50 {
		n := rawNonce(t, s)
		if seen[n] {
			t.Fatalf("nonce %q issued twice", n)
		}
		seen[n] = true
		raw, err := base64.StdEncoding.DecodeString(n)
		if err != nil || len(n) != 108 || !bankNonce.Match(raw) {
			t.Fatalf("nonce %q (%s) is not 108 characters of base64(ticks.n:hex)", n, raw)
		}
	}
	if got := s.Stats().NoncesIssued; got != 50 {
		t.Fatalf("NoncesIssued = %d", got)
	}
}

func TestKeyID(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithKeyID("3f1c1d2e-0000-4000-8000-000000000001"), qpaytest.WithDemoData())
	q := sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo}

	// Without X-KeyID the gateway refuses the nonce request.
	c, err := sinopac.NewClient(s.ShopNo(), s.Keys(), sinopac.WithBaseURL(s.URL()), sinopac.WithRetryPolicy(sinopac.NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.QueryOrders(t.Context(), q)
	var ge *sinopac.GatewayError
	if !errors.As(err, &ge) || ge.StatusCode != 401 {
		t.Fatalf("without X-KeyID: %v, want *GatewayError 401", err)
	}
	if strings.Contains(err.Error(), "3f1c1d2e") {
		t.Fatal("error shows the key ID")
	}
	// NewClient sends it.
	r, err := newClient(t, s).QueryOrders(t.Context(), q)
	if err != nil || len(r.OrderList) != 1 {
		t.Fatalf("with X-KeyID: %v %v", r, err)
	}
}

func TestWrongKeys(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	other := sinopac.HashKeys{A1: "4D9709D699CA40EE", A2: "5A4FEF83140C4E9E", B1: "BC74301945134CB4", B2: "961F67F8FCA44AB9"}
	c, err := sinopac.NewClient(s.ShopNo(), other, sinopac.WithBaseURL(s.URL()), sinopac.WithRetryPolicy(sinopac.NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	if err == nil {
		t.Fatalf("query with wrong keys succeeded: %+v", r)
	}
	if !errors.Is(err, sinopac.ErrMalformedMessage) && !errors.Is(err, sinopac.ErrSignatureMismatch) {
		t.Fatalf("wrong keys: %v, want a malformed or unverifiable reply", err)
	}
	if got := s.Stats().BadSigns; got != 1 {
		t.Fatalf("BadSigns = %d, want 1", got)
	}
}

func TestBadSignIsE0000(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	body := sealed(t, s, "OrderQuery", map[string]string{"ShopNo": s.ShopNo(), "OrderNo": qpaytest.SeedOrderNo}, rawNonce(t, s))
	body = []byte(strings.Replace(string(body), `"Sign":"`, `"Sign":"00`, 1))
	st, reply := post(t, s, "/Order", body, nil)
	if st != 200 {
		t.Fatalf("HTTP %d", st)
	}
	if _, status, desc := openReply(t, s, reply); status != "F" || desc != "E0000 – 安全簽章錯誤" {
		t.Fatalf("reply %s %q", status, desc)
	}
}

func TestNonceReuseRejected(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	body := sealed(t, s, "OrderQuery", map[string]string{"ShopNo": s.ShopNo(), "OrderNo": qpaytest.SeedOrderNo}, rawNonce(t, s))

	_, reply := post(t, s, "/Order", body, nil)
	if _, status, desc := openReply(t, s, reply); status != "S" {
		t.Fatalf("first use: %s %s", status, desc)
	}
	_, reply = post(t, s, "/Order", body, nil)
	if _, status, desc := openReply(t, s, reply); status != "F" || !strings.HasPrefix(desc, "E3002 – ") {
		t.Fatalf("second use: %s %q, want F E3002", status, desc)
	}
	if got := s.Stats().NoncesReused; got != 1 {
		t.Fatalf("NoncesReused = %d, want 1", got)
	}
	// A nonce the server never issued.
	body = sealed(t, s, "OrderQuery", map[string]string{"ShopNo": s.ShopNo(), "OrderNo": "X"}, "bm90LWlzc3VlZA==")
	_, reply = post(t, s, "/Order", body, nil)
	if _, status, desc := openReply(t, s, reply); status != "F" || !strings.HasPrefix(desc, "E3001 – ") {
		t.Fatalf("unknown nonce: %s %q, want F E3001", status, desc)
	}
}

func TestNonceExpires(t *testing.T) {
	t.Parallel()
	clock := newClock(time.Date(2026, 10, 5, 12, 0, 0, 0, sinopac.Taipei))
	s := newServer(t, qpaytest.WithClock(clock.Now), qpaytest.WithDemoData())
	payload := map[string]string{"ShopNo": s.ShopNo(), "OrderNo": qpaytest.SeedOrderNo}

	n := rawNonce(t, s)
	if raw, _ := base64.StdEncoding.DecodeString(n); !strings.HasPrefix(string(raw), "63926798400000.1:") {
		t.Fatalf("nonce issued at %s: %s, want the ticks 63926798400000", clock.Now(), raw)
	}
	clock.Advance(60 * time.Second) // still valid at exactly 60 s
	_, reply := post(t, s, "/Order", sealed(t, s, "OrderQuery", payload, n), nil)
	if _, status, desc := openReply(t, s, reply); status != "S" {
		t.Fatalf("at 60 s: %s %s", status, desc)
	}
	n = rawNonce(t, s)
	clock.Advance(61 * time.Second)
	_, reply = post(t, s, "/Order", sealed(t, s, "OrderQuery", payload, n), nil)
	if _, status, desc := openReply(t, s, reply); status != "F" || !strings.HasPrefix(desc, "E3003 – ") {
		t.Fatalf("at 61 s: %s %q, want F E3003", status, desc)
	}
	if st := s.Stats(); st.NoncesExpired != 1 || st.NoncesReused != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)

	_, err := c.Call(t.Context(), "NoSuchService", map[string]string{"ShopNo": s.ShopNo()})
	var ae *sinopac.APIError
	if !errors.As(err, &ae) || ae.Code != sinopac.CodeNoService {
		t.Fatalf("unknown service: %v", err)
	}

	env, _ := sinopac.Seal("OrderQuery", s.ShopNo(), []byte(`{"ShopNo":"NA0249_001","PayType":"A"}`), rawNonce(t, s), hashID(t, s.Keys()))
	env.Version = "2.0.0"
	b, _ := jsonMarshal(env)
	_, reply := post(t, s, "/Order", b, nil)
	if _, status, desc := openReply(t, s, reply); status != "F" || !strings.HasPrefix(desc, "E3301 – ") {
		t.Fatalf("version: %s %q", status, desc)
	}

	st, reply := post(t, s, "/Order", []byte(`{"Version":`), nil)
	if st != 200 || string(reply) != `{"Status":"F","Description":"E0001 – 請求格式錯誤"}` {
		t.Fatalf("bad JSON: HTTP %d %s", st, reply)
	}

	// Another shop: the server has no keys for it and answers in plain text.
	other, err := sinopac.NewClient("XX0001_001", s.Keys(), sinopac.WithBaseURL(s.URL()), sinopac.WithRetryPolicy(sinopac.NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.QueryOrders(t.Context(), sinopac.QueryConditions{PayType: sinopac.PayTypeATM})
	if !errors.As(err, &ae) || ae.Code != sinopac.CodeShopUnknown {
		t.Fatalf("other shop: %v", err)
	}
}

// The reply JSON keeps '&', '<', '>' literal (no HTML escaping), and its
// Sign covers exactly those bytes.
func TestReplyWithoutHTMLEscaping(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddOrders(sinopac.Order{OrderNo: "H1", PayType: sinopac.PayTypeATM, PayStatus: "1A200", PrdtName: "A&B <C>",
		TSDate: sinopac.At(time.Date(2026, 10, 1, 0, 0, 0, 0, sinopac.Taipei))})
	_, reply := post(t, s, "/Order", sealed(t, s, "OrderQuery", map[string]string{"ShopNo": s.ShopNo(), "OrderNo": "H1"}, rawNonce(t, s)), nil)
	plain, _, _ := openReply(t, s, reply)
	if !strings.Contains(string(plain), `"PrdtName":"A&B <C>"`) {
		t.Fatalf("reply %s", plain)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithLatency(30*time.Millisecond), qpaytest.WithDemoData())
	start := time.Now()
	if _, err := newClient(t, s).QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Fatalf("query took %v, want ≥ 60ms (two requests)", d)
	}
	// A cancelled request stops waiting.
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(5*time.Millisecond, cancel)
	_, err := newClient(t, s).QueryOrders(ctx, sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestCloseTwice(t *testing.T) {
	s := qpaytest.NewServer()
	s.Close()
	s.Close()
}

func TestStart(t *testing.T) {
	s, err := qpaytest.Start("127.0.0.1:0", qpaytest.WithDemoData())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := newClient(t, s).QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	if err != nil || len(r.OrderList) != 1 {
		t.Fatalf("%v %v", r, err)
	}
	all, err := qpaytest.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	if !strings.HasPrefix(all.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL of a server on every interface: %s", all.URL())
	}
	if _, err := newClient(t, all).QueryOrders(t.Context(), sinopac.QueryConditions{PayType: sinopac.PayTypeATM}); err != nil {
		t.Fatal(err)
	}
	if _, err := qpaytest.Start("256.0.0.1:1"); err == nil {
		t.Fatal("Start on a bad address succeeded")
	}
	if _, err := qpaytest.Start("127.0.0.1:0", qpaytest.WithShop("X", sinopac.HashKeys{A1: "zz"})); err == nil {
		t.Fatal("Start with bad keys succeeded")
	}
}

func TestStatsIsSnapshot(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rawNonce(t, s)
	st := s.Stats()
	st.Requests["Nonce"] = 100
	if got := s.Stats().Requests["Nonce"]; got != 1 {
		t.Fatalf("Requests[Nonce] = %d", got)
	}
}

func TestWithShop(t *testing.T) {
	t.Parallel()
	// The spec's shop, its keys given in GUID form (first 16 hex digits used).
	keys := sinopac.HashKeys{A1: "4D9709D6-99CA-40EE-AAAA-000000000000", A2: "5A4FEF83140C4E9E", B1: "BC74301945134CB4", B2: "961F67F8FCA44AB9"}
	s := newServer(t, qpaytest.WithShop("BA0026_001", keys))
	s.AddOrders(pendingOrder("S1", sinopac.PayTypeATM, taipei(2026, 10, 1, 0, 0)))
	if s.ShopNo() != "BA0026_001" {
		t.Fatalf("ShopNo %q", s.ShopNo())
	}
	r, err := newClient(t, s).QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "S1"})
	if err != nil || len(r.OrderList) != 1 || r.ShopNo != "BA0026_001" {
		t.Fatalf("%+v %v", r, err)
	}
	demo, err := sinopac.NewClient("BA0026_001", qpaytest.DemoKeys, sinopac.WithBaseURL(s.URL()), sinopac.WithRetryPolicy(sinopac.NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "S1"}); err == nil {
		t.Fatal("the demo keys work for another shop")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewServer with malformed keys did not panic")
		}
	}()
	qpaytest.NewServer(qpaytest.WithShop("X", sinopac.HashKeys{A1: "nothex"}))
}
