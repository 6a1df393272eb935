package qpaytest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

type adminAnswer struct {
	Simulator, ShopNo, OrderNo, PayType, PayStatus, PayToken, RefundStatus, Error string
}

func adminCall(t *testing.T, srv *qpaytest.Server, method, action, body string, hdr map[string]string) (int, adminAnswer) {
	t.Helper()
	base := strings.TrimSuffix(srv.URL(), qpaytest.BasePath)
	req, err := http.NewRequest(method, base+qpaytest.AdminPath+action, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a adminAnswer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return resp.StatusCode, a
}

// The admin endpoint is there only with WithAdmin, never on the bank's
// paths, and acts as the bank: pay, expire, refund, new PayTokens.
func TestAdmin(t *testing.T) {
	t.Parallel()
	plain := newServer(t)
	if st, _ := adminCall(t, plain, "GET", "", "", nil); st != http.StatusNotFound {
		t.Fatalf("without WithAdmin: HTTP %d", st)
	}

	clock := qpaytest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei))
	srv := newServer(t, qpaytest.WithAdmin(), qpaytest.WithClock(clock))
	be := newAnswering(t, answer{200, `{"Status":"S"}`})
	now := clock.Now()
	va := pendingOrder("VA1", sinopac.PayTypeATM, now)
	card := pendingOrder("C1", sinopac.PayTypeCard, now)
	late := pendingOrder("LATE", sinopac.PayTypeCard, now.Add(-time.Hour))
	late.ExpireDate = sinopac.At(now.Add(-30 * time.Minute))
	srv.AddOrders(va, card, late, pendingOrder("X1", sinopac.PayTypeATM, now))
	_ = srv.SetCallbackURLs("VA1", "", be.URL)

	if st, a := adminCall(t, srv, "GET", "", "", nil); st != 200 || a.Simulator != qpaytest.AdminName || a.ShopNo != srv.ShopNo() {
		t.Fatalf("GET: %d %+v", st, a)
	}
	st, a := adminCall(t, srv, "POST", "pay", `{"OrderNo":"VA1"}`, nil)
	if st != 200 || a.PayStatus != "1A400" || a.PayToken == "" {
		t.Fatalf("pay: %d %+v", st, a)
	}
	if err := srv.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := srv.Deliveries(); len(d) != 1 || d[0].PayToken != a.PayToken {
		t.Fatalf("pay notified %+v", d)
	}
	if st, a := adminCall(t, srv, "POST", "pay", `{"OrderNo":"VA1"}`, nil); st != http.StatusConflict || !strings.Contains(a.Error, "cannot be paid") {
		t.Fatalf("paying twice: %d %+v", st, a)
	}
	if st, a := adminCall(t, srv, "POST", "pay", `{"OrderNo":"LATE"}`, nil); st != http.StatusConflict || a.PayStatus != "1C250" {
		t.Fatalf("paying past the deadline: %d %+v", st, a)
	}
	if st, a := adminCall(t, srv, "POST", "refund", `{"OrderNo":"VA1","Amount":50000}`, nil); st != 200 || a.RefundStatus != "2A400" {
		t.Fatalf("refund: %d %+v", st, a)
	}
	if o, _ := srv.Order("VA1"); o.RefundAmount != 50000 || len(o.RefundList) != 1 {
		t.Fatalf("after the refund: %+v", o)
	}
	if st, a := adminCall(t, srv, "POST", "refund", `{"OrderNo":"C1"}`, nil); st != http.StatusConflict || !strings.Contains(a.Error, "E2602") {
		t.Fatalf("refunding an unpaid order: %d %+v", st, a)
	}
	if st, a := adminCall(t, srv, "POST", "expire", `{"OrderNo":"X1"}`, nil); st != 200 || a.PayStatus != "1A250" {
		t.Fatalf("expire: %d %+v", st, a)
	}
	st, a = adminCall(t, srv, "POST", "token", `{"OrderNo":"C1"}`, nil)
	if st != 200 || a.PayToken == "" {
		t.Fatalf("token: %d %+v", st, a)
	}
	c := newClient(t, srv)
	if pq, err := c.QueryPayment(t.Context(), a.PayToken); err != nil || !pq.Failed() || pq.TSResultContent.OrderNo != "C1" {
		t.Fatalf("a token of an unpaid order: %+v %v", pq, err)
	}
	for name, tc := range map[string]struct {
		method, action, body string
		hdr                  map[string]string
		status               int
	}{
		"unknown order":   {"POST", "pay", `{"OrderNo":"NOPE"}`, nil, http.StatusNotFound},
		"no OrderNo":      {"POST", "pay", `{}`, nil, http.StatusBadRequest},
		"not JSON":        {"POST", "pay", `OrderNo=VA1`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		"GET an action":   {"GET", "pay", ``, nil, http.StatusMethodNotAllowed},
		"unknown action":  {"POST", "explode", `{"OrderNo":"VA1"}`, nil, http.StatusNotFound},
		"negative amount": {"POST", "refund", `{"OrderNo":"VA1","Amount":-100}`, nil, http.StatusBadRequest},
	} {
		if st, _ := adminCall(t, srv, tc.method, tc.action, tc.body, tc.hdr); st != tc.status {
			t.Errorf("%s: HTTP %d, want %d", name, st, tc.status)
		}
	}

	keyed := newServer(t, qpaytest.WithAdmin(), qpaytest.WithKeyID("k-1"))
	if st, _ := adminCall(t, keyed, "GET", "", "", nil); st != http.StatusUnauthorized {
		t.Fatalf("without the X-KeyID: HTTP %d", st)
	}
	if st, _ := adminCall(t, keyed, "GET", "", "", map[string]string{"X-KeyID": "k-1"}); st != 200 {
		t.Fatalf("with the X-KeyID: HTTP %d", st)
	}
}
