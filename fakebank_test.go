package sinopac

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBank is an independent QPay server for the retry, limit and secret
// tests. It is deliberately not qpaytest: it is built only from the
// exported Seal and APIMessage.Open, so a bug shared by the client and the
// simulator cannot hide here. Each request may be answered by a hook.
type fakeBank struct {
	t      testing.TB
	shopNo string
	keys   HashKeys
	hashID string
	keyID  string
	srv    *httptest.Server

	mu        sync.Mutex
	nonceReqs int
	orderReqs int
	issued    map[string]bool // nonce → used
	reused    int
	seq       int
	times     []time.Time // arrival of every request, in order
	// nonceHook answers the n-th (1-based) nonce request instead of the
	// bank when it returns non-nil.
	nonceHook func(n int) *fakeReply
	// orderHook answers the n-th Order request (already opened and
	// verified) instead of the bank when it returns non-nil.
	orderHook func(n int, service string, plain []byte) *fakeReply
	// payload is the sealed success reply to a service (the default
	// echoes the seed's order for OrderQuery and OrderNo for the rest).
	payload func(service string, req map[string]any) any
}

// fakeReply is one scripted answer.
type fakeReply struct {
	status int               // HTTP status (0 = 200)
	header map[string]string // extra headers
	body   string            // raw body (used when seal is nil)
	seal   any               // payload sealed and signed with the bank's keys
	badKey bool              // seal with other keys
	delay  time.Duration     // wait first (the request's context honoured)
	drop   bool              // hijack and close the connection without a reply
}

const fakeBase = "/funBIZ/QPay.WebAPI/api"

// Known secrets of the fake bank's shop (the sweep looks for every one).
var fakeKeys = HashKeys{A1: "1F2E3D4C5B6A7988", A2: "0A1B2C3D4E5F6071", B1: "C0FFEE1234567890", B2: "7788990011AABBCC"}

const fakeKeyID = "3c9e1a57-5d2b-4f0e-9a61-b7d4e2c8f013"

func newFakeBank(t testing.TB) *fakeBank {
	t.Helper()
	hashID, err := fakeKeys.HashID()
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBank{t: t, shopNo: "NA0001_001", keys: fakeKeys, hashID: hashID, keyID: fakeKeyID, issued: map[string]bool{}}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	return b
}

// client returns a client wired to the bank; opts come after the wiring.
func (b *fakeBank) client(opts ...Option) *Client {
	b.t.Helper()
	all := append([]Option{WithBaseURL(b.srv.URL + fakeBase), WithKeyID(b.keyID)}, opts...)
	c, err := NewClient(b.shopNo, b.keys, all...)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { c.hc.CloseIdleConnections() })
	return c
}

func (b *fakeBank) counts() (nonces, orders int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nonceReqs, b.orderReqs
}

func (b *fakeBank) arrivals() []time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]time.Time(nil), b.times...)
}

func (b *fakeBank) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("X-KeyID") != b.keyID {
		http.Error(w, `{"statusCode":401,"message":"Access denied due to invalid subscription key."}`, http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	switch r.URL.Path {
	case fakeBase + "/Nonce":
		b.mu.Lock()
		b.nonceReqs++
		n := b.nonceReqs
		b.times = append(b.times, time.Now())
		hook := b.nonceHook
		b.mu.Unlock()
		if hook != nil {
			if rep := hook(n); rep != nil {
				b.write(w, r, "Nonce", rep)
				return
			}
		}
		var req struct{ ShopNo string }
		if json.Unmarshal(body, &req) != nil || req.ShopNo != b.shopNo {
			http.Error(w, "bad nonce request", http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]string{"Nonce": b.newNonce()})
	case fakeBase + "/Order":
		b.mu.Lock()
		b.orderReqs++
		n := b.orderReqs
		b.times = append(b.times, time.Now())
		hook := b.orderHook
		b.mu.Unlock()
		var env APIMessage
		if err := json.Unmarshal(body, &env); err != nil {
			http.Error(w, "bad envelope", http.StatusBadRequest)
			return
		}
		plain, err := env.Open(b.hashID)
		if err != nil {
			b.write(w, r, env.APIService, &fakeReply{seal: map[string]any{"Status": "F", "Description": "E0000 – 安全簽章錯誤"}})
			return
		}
		b.mu.Lock()
		used, known := b.issued[env.Nonce]
		b.issued[env.Nonce] = true
		if used {
			b.reused++
		}
		b.mu.Unlock()
		if !known || used {
			b.write(w, r, env.APIService, &fakeReply{seal: map[string]any{"Status": "F", "Description": "E3002 – Nonce 無效"}})
			return
		}
		if hook != nil {
			if rep := hook(n, env.APIService, plain); rep != nil {
				b.write(w, r, env.APIService, rep)
				return
			}
		}
		var req map[string]any
		_ = json.Unmarshal(plain, &req)
		b.write(w, r, env.APIService, &fakeReply{seal: b.success(env.APIService, req)})
	default:
		http.NotFound(w, r)
	}
}

func (b *fakeBank) newNonce() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	n := fmt.Sprintf("NjM4%012dMDk5LjE5NTY1Mzg6MDA%04d", b.seq, b.seq%10000)
	b.issued[n] = false
	return n
}

func (b *fakeBank) success(service string, req map[string]any) any {
	if b.payload != nil {
		return b.payload(service, req)
	}
	orderNo, _ := req["OrderNo"].(string)
	if service == "OrderQuery" {
		o := seedOrder()
		if orderNo != "" {
			o["OrderNo"] = orderNo
		}
		return map[string]any{"ShopNo": b.shopNo, "Date": "202611260905", "Status": "S",
			"Description": "S0000 – 處理成功", "OrderList": []any{o}}
	}
	return map[string]any{"ShopNo": b.shopNo, "OrderNo": orderNo, "TSNo": "NA024900000001", "Status": "S", "Description": "S0000 – 處理成功"}
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

func (b *fakeBank) write(w http.ResponseWriter, r *http.Request, service string, rep *fakeReply) {
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	if rep.drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	if rep.seal != nil {
		hashID := b.hashID
		if rep.badKey {
			hashID = "00112233445566778899AABBCCDDEEFF"
		}
		env, err := Seal(service, b.shopNo, rep.seal, b.newNonce(), hashID)
		if err != nil {
			b.t.Error(err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(env)
		return
	}
	if strings.HasPrefix(rep.body, "<") {
		w.Header().Set("Content-Type", "text/html")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, rep.body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// fastRetry is a policy with tiny waits so retry tests stay fast.
var fastRetry = RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxElapsed: 5 * time.Second}
