package qpaytest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// backend is a merchant's BackendURL: it records notifications and answers
// {"Status":"F"} to the first failFirst of them.
type backend struct {
	*httptest.Server
	failFirst int32
	calls     atomic.Int32
	mu        sync.Mutex
	got       []map[string]string
	ctype     []string
	arrived   chan struct{}
}

func newBackend(t *testing.T, failFirst int32) *backend {
	b := &backend{failFirst: failFirst, arrived: make(chan struct{}, 100)}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := b.calls.Add(1)
		var m map[string]string
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			_ = json.Unmarshal(body, &m)
		} else {
			_ = r.ParseForm()
			m = map[string]string{}
			for k, v := range mustParseQuery(string(body)) {
				m[k] = v
			}
		}
		b.mu.Lock()
		b.got = append(b.got, m)
		b.ctype = append(b.ctype, r.Header.Get("Content-Type"))
		b.mu.Unlock()
		if n <= b.failFirst {
			io.WriteString(w, `{"Status":"F"}`)
		} else {
			io.WriteString(w, `{"Status":"S"}`)
		}
		b.arrived <- struct{}{}
	}))
	t.Cleanup(b.Close)
	return b
}

func mustParseQuery(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, "&") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

func (b *backend) wait(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-b.arrived:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d notifications arrived", i, n)
		}
	}
}

func pendingOrder(no string, pt sinopac.PayType, ts time.Time) sinopac.Order {
	return sinopac.Order{OrderNo: no, TSNo: "NA0249" + no, PayType: pt, PayStatus: sinopac.PayStatus("1" + string(pt) + "200"),
		Amount: 9440300, TSDate: sinopac.At(ts), ExpireDate: sinopac.At(ts.Add(72 * time.Hour)), Param1: "p1"}
}

type payQueryReply struct {
	ShopNo, PayToken, Date, Status, Description string
	TSResultContent                             map[string]any
}

func queryToken(t *testing.T, c *sinopac.Client, token string) (payQueryReply, error) {
	t.Helper()
	plain, err := c.Call(t.Context(), "OrderPayQuery", map[string]string{"ShopNo": c.ShopNo(), "PayToken": token})
	if err != nil {
		return payQueryReply{}, err
	}
	var r payQueryReply
	if err := json.Unmarshal(plain, &r); err != nil {
		t.Fatal(err)
	}
	return r, nil
}

func TestPayATMNotifiesBackend(t *testing.T) {
	t.Parallel()
	now := taipei(2026, 10, 5, 9, 30)
	clock := newClock(now)
	s := newServer(t, qpaytest.WithClock(clock.Now))
	be := newBackend(t, 0)
	s.AddOrders(pendingOrder("ATM1", sinopac.PayTypeATM, now.Add(-time.Hour)))
	if err := s.SetCallbackURLs("ATM1", be.URL+"/return", be.URL+"/backend"); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s)

	// Before payment a registered token answers with the inner Status F.
	s.RegisterPayToken("early", "ATM1", "PayOut")
	r, err := queryToken(t, c, "early")
	if err != nil || r.Status != "S" || r.TSResultContent["Status"] != "F" {
		t.Fatalf("pending: %+v %v", r, err)
	}

	clock.Advance(5 * time.Minute)
	tok, err := s.Pay("ATM1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := be.calls.Load(); n != 1 {
		t.Fatalf("%d notifications for an ATM payment, want 1 (BackendURL only)", n)
	}
	want := []qpaytest.Delivery{{Kind: qpaytest.NotifyBackend, URL: be.URL + "/backend", OrderNo: "ATM1", PayToken: tok,
		APType: "PayOut", Attempt: 1, At: now.Add(5 * time.Minute), Status: 200, Acknowledged: true}}
	if got := s.Deliveries(); !equalDeliveries(got, want) {
		t.Fatalf("Deliveries() = %+v, want %+v", got, want)
	}
	be.mu.Lock()
	got, ctype := be.got[0], be.ctype[0]
	be.mu.Unlock()
	if got["ShopNo"] != s.ShopNo() || got["PayToken"] != tok || len(got) != 2 || ctype != "application/json" {
		t.Fatalf("notification %v (%s), token %s", got, ctype, tok)
	}

	r, err = queryToken(t, c, tok)
	if err != nil {
		t.Fatal(err)
	}
	in := r.TSResultContent
	if r.Status != "S" || r.Description != "S0000 – 處理成功" || r.PayToken != tok ||
		in["APType"] != "PayOut" || in["Status"] != "S" || in["OrderNo"] != "ATM1" || in["Amount"] != "9440300" ||
		in["PayType"] != "A" || in["PayDate"] != "202610050935" || in["Param1"] != "p1" || in["TSNo"] != "NA0249ATM1" {
		t.Fatalf("OrderPayQuery %+v", r)
	}

	q, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "ATM1"})
	if err != nil || len(q.OrderList) != 1 {
		t.Fatal(err)
	}
	if o := q.OrderList[0]; o.PayStatus != "1A400" || o.PayDate.String() != "202610050935" {
		t.Fatalf("after Pay: %s %s", o.PayStatus, o.PayDate)
	}
	if _, err := s.Pay("ATM1"); err == nil {
		t.Fatal("paying twice succeeded")
	}
	if _, err := s.Pay("NOPE"); err == nil {
		t.Fatal("paying an unknown order succeeded")
	}
}

func TestPayCard(t *testing.T) {
	t.Parallel()
	now := taipei(2026, 10, 5, 9, 30)
	s := newServer(t, qpaytest.WithClock(func() time.Time { return now }))
	c := newClient(t, s)
	be := newBackend(t, 0)
	s.AddOrders(pendingOrder("CARD1", sinopac.PayTypeCard, now), pendingOrder("CARD2", sinopac.PayTypeCard, now), pendingOrder("MOB1", sinopac.PayTypeMobile, now))
	if err := s.SetAutoBilling("CARD2", false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCallbackURLs("CARD1", be.URL+"/return", be.URL+"/backend"); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Pay("CARD1")
	if err != nil {
		t.Fatal(err)
	}
	be.wait(t, 2)
	be.mu.Lock()
	var form, js int
	for i, ct := range be.ctype {
		if be.got[i]["PayToken"] != tok || be.got[i]["ShopNo"] != s.ShopNo() {
			t.Errorf("notification %v", be.got[i])
		}
		switch ct {
		case "application/x-www-form-urlencoded":
			form++
		case "application/json":
			js++
		}
	}
	be.mu.Unlock()
	if form != 1 || js != 1 {
		t.Fatalf("card payment: %d form and %d JSON posts, want 1 and 1", form, js)
	}
	for no, want := range map[string]sinopac.PayStatus{"CARD2": "1C300", "MOB1": "1M400"} {
		if _, err := s.Pay(no); err != nil {
			t.Fatal(err)
		}
		if o, _ := s.Order(no); o.PayStatus != want || o.ApprovedDate.IsZero() {
			t.Fatalf("%s: %s, want %s", no, o.PayStatus, want)
		}
	}
	if o, _ := s.Order("CARD1"); o.PayStatus != "1C400" || o.CardParam.AuthCode == "" {
		t.Fatalf("CARD1: %+v", o)
	}
	r, err := queryToken(t, c, tok)
	if err != nil || r.TSResultContent["Status"] != "S" || r.TSResultContent["LeftCCNo"] != "414352" {
		t.Fatalf("card OrderPayQuery %+v %v", r, err)
	}
	// The order's PayTokens are not reachable from outside, but the token
	// is: an unknown one is E2501.
	_, err = queryToken(t, c, "no-such-token")
	var ae *sinopac.APIError
	if !errors.As(err, &ae) || ae.Code != sinopac.CodePayTokenInvalid {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestNotifyRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		failFirst int32
		want      int32
	}{
		{"answered S at once", 0, 1},
		{"S on the third try", 2, 3},
		{"never S: 1 + 5 resends", 100, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := qpaytest.NewClock(taipei(2026, 10, 5, 9, 0))
			s := newServer(t, qpaytest.WithClock(clock))
			be := newBackend(t, tt.failFirst)
			s.AddOrders(pendingOrder("N1", sinopac.PayTypeATM, clock.Now()))
			if err := s.SetCallbackURLs("N1", "", be.URL); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Pay("N1"); err != nil {
				t.Fatal(err)
			}
			clock.Advance(24 * time.Hour) // far past the last resend
			if n := be.calls.Load(); n != tt.want {
				t.Fatalf("%d notifications, want %d", n, tt.want)
			}
			if d := s.Deliveries(); len(d) != int(tt.want) || d[len(d)-1].Acknowledged != (tt.failFirst < tt.want) {
				t.Fatalf("Deliveries() = %+v", d)
			}
		})
	}
}

// Close stops pending resends at once (goleak in TestMain checks that
// nothing is left behind).
func TestCloseStopsNotifications(t *testing.T) {
	t.Parallel()
	s := qpaytest.NewServer(qpaytest.WithNotifyRetry(time.Hour))
	be := newBackend(t, 100)
	s.AddOrders(pendingOrder("N1", sinopac.PayTypeATM, time.Now()))
	if err := s.SetCallbackURLs("N1", "", be.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pay("N1"); err != nil {
		t.Fatal(err)
	}
	be.wait(t, 1)
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := s.SetCallbackURLs("nope", "", ""); err == nil {
		t.Fatal("SetCallbackURLs of an unknown order succeeded")
	}
}

func TestAutoPay(t *testing.T) {
	t.Parallel()
	t0 := taipei(2026, 10, 5, 9, 0)
	clock := qpaytest.NewClock(t0)
	s := newServer(t, qpaytest.WithClock(clock), qpaytest.WithAutoPay(5*time.Minute))
	be := newBackend(t, 0)
	o9 := pendingOrder("AUTO9", sinopac.PayTypeATM, t0)
	o9.ExpireDate = sinopac.At(t0.Add(time.Hour))
	past9 := pendingOrder("LATE9", sinopac.PayTypeATM, t0)
	past9.ExpireDate = sinopac.At(t0.Add(-time.Minute))
	s.AddOrders(pendingOrder("AUTO1", sinopac.PayTypeATM, t0), o9, past9, pendingOrder("CARD", sinopac.PayTypeCard, t0))
	if err := s.SetCallbackURLs("AUTO1", "", be.URL); err != nil {
		t.Fatal(err)
	}
	status := func(no string) sinopac.PayStatus {
		o, _ := s.Order(no)
		return o.PayStatus
	}
	// Advance(0) waits for the expiry of LATE9, whose deadline had passed.
	clock.Advance(0)
	clock.Advance(5*time.Minute - time.Second)
	if status("AUTO1") != "1A200" || status("LATE9") != "1A250" || len(s.Deliveries()) != 0 {
		t.Fatalf("before the delay: AUTO1 %s, LATE9 %s, %d deliveries", status("AUTO1"), status("LATE9"), len(s.Deliveries()))
	}
	clock.Advance(time.Second)
	a, _ := s.Order("AUTO1")
	if a.PayStatus != "1A400" || !a.PayDate.Time().Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("AUTO1 after the delay: %s paid %s", a.PayStatus, a.PayDate)
	}
	if d := s.Deliveries(); len(d) != 1 || !d[0].At.Equal(t0.Add(5*time.Minute)) || !d[0].Acknowledged {
		t.Fatalf("Deliveries() = %+v", d)
	}
	if status("AUTO9") != "1A200" {
		t.Fatalf("AUTO9 paid or expired early: %s", status("AUTO9"))
	}
	clock.Advance(55 * time.Minute)
	if status("AUTO9") != "1A250" || status("CARD") != "1C200" {
		t.Fatalf("at AUTO9's deadline: AUTO9 %s, CARD %s", status("AUTO9"), status("CARD"))
	}
}

// Close stops timers that have not fired: after it, the clock passing the
// auto-pay delay pays nothing.
func TestAutoPayStoppedByClose(t *testing.T) {
	t.Parallel()
	clock := qpaytest.NewClock(taipei(2026, 10, 5, 9, 0))
	s := qpaytest.NewServer(qpaytest.WithClock(clock), qpaytest.WithAutoPay(time.Minute))
	be := newBackend(t, 0)
	s.AddOrders(pendingOrder("LATE", sinopac.PayTypeATM, clock.Now()))
	if err := s.SetCallbackURLs("LATE", "", be.URL); err != nil {
		t.Fatal(err)
	}
	// The same clock still pays the orders of a server that stays open.
	open := newServer(t, qpaytest.WithClock(clock), qpaytest.WithAutoPay(time.Minute))
	open.AddOrders(pendingOrder("OPEN", sinopac.PayTypeATM, clock.Now()))
	s.Close()
	clock.Advance(time.Hour)
	if o, _ := s.Order("LATE"); o.PayStatus != "1A200" || be.calls.Load() != 0 {
		t.Fatalf("after Close: %s, %d notifications", o.PayStatus, be.calls.Load())
	}
	if o, _ := open.Order("OPEN"); o.PayStatus != "1A400" {
		t.Fatalf("the open server's order: %s", o.PayStatus)
	}
}

func equalDeliveries(got, want []qpaytest.Delivery) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) {
			return false
		}
		g.At, w.At = time.Time{}, time.Time{}
		if g != w {
			return false
		}
	}
	return true
}
