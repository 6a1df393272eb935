package qpaytest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// answering is a BackendURL that answers each notification with the next
// of answers (the last one repeats) and counts the calls.
type answering struct {
	*httptest.Server
	arrived chan struct{} // a value after each answer
	mu      sync.Mutex
	calls   int
}

type answer struct {
	status int
	body   string
}

func newAnswering(t *testing.T, answers ...answer) *answering {
	a := &answering{arrived: make(chan struct{}, 100)}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		a.mu.Lock()
		ans := answers[min(a.calls, len(answers)-1)]
		a.calls++
		a.mu.Unlock()
		w.WriteHeader(ans.status)
		io.WriteString(w, ans.body)
		a.arrived <- struct{}{}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *answering) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// paidWithBackend is a server on clock with a pending ATM order A1 whose
// BackendURL is url, paid at the clock's time.
func paidWithBackend(t *testing.T, clock *qpaytest.Clock, url string) (*qpaytest.Server, string) {
	t.Helper()
	s := newServer(t, qpaytest.WithClock(clock))
	s.AddOrders(pendingOrder("A1", sinopac.PayTypeATM, clock.Now()))
	if err := s.SetCallbackURLs("A1", "", url); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Pay("A1")
	if err != nil {
		t.Fatal(err)
	}
	return s, tok
}

// The bank's schedule on the test clock: a BackendURL that answers wrongly
// gets the first try and 5 resends, 10 minutes apart, and no more.
func TestClockDrivesTheBanksResends(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei)
	clock := qpaytest.NewClock(t0)
	be := newAnswering(t, answer{200, `{"Status":"F"}`})
	s, tok := paidWithBackend(t, clock, be.URL+"/notify")

	clock.Advance(50 * time.Minute)
	d := s.Deliveries()
	if len(d) != 6 || be.count() != 6 {
		t.Fatalf("%d deliveries, %d calls after 50 minutes, want 6", len(d), be.count())
	}
	for i, got := range d {
		want := qpaytest.Delivery{Kind: qpaytest.NotifyBackend, URL: be.URL + "/notify", OrderNo: "A1", PayToken: tok,
			APType: "PayOut", Attempt: i + 1, At: t0.Add(time.Duration(i) * 10 * time.Minute), Status: 200}
		if !equalDeliveries([]qpaytest.Delivery{got}, []qpaytest.Delivery{want}) {
			t.Errorf("try %d: %+v, want %+v", i+1, got, want)
		}
	}
	clock.Advance(24 * time.Hour)
	if n := len(s.Deliveries()); n != 6 || be.count() != 6 {
		t.Fatalf("%d deliveries after a day, want still 6", n)
	}
	if !clock.Now().Equal(t0.Add(50*time.Minute + 24*time.Hour)) {
		t.Fatalf("clock at %s", clock.Now())
	}
}

// Once answered exactly {"Status":"S"} the bank stops; other answers count
// as not received.
func TestClockResendsStopAtStatusS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answers []answer
		tries   int // until acknowledged
	}{
		{"S at once", []answer{{200, `{"Status":"S"}`}}, 1},
		{"S with a newline", []answer{{200, "{\"Status\":\"S\"}\n"}}, 1},
		{"S on the third try", []answer{{200, `{"Status":"F"}`}, {500, "oops"}, {200, `{"Status":"S"}`}}, 3},
		{"S with more fields", []answer{{200, `{"Status":"S","Message":"ok"}`}, {200, `{"Status":"S"}`}}, 2},
		{"lower-case status", []answer{{200, `{"status":"S"}`}, {200, `{"Status":"S"}`}}, 2},
		{"S with HTTP 500", []answer{{500, `{"Status":"S"}`}, {200, `{"Status":"S"}`}}, 2},
		{"a bare S", []answer{{200, `S`}, {200, `{"Status":"S"}`}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei)
			clock := qpaytest.NewClock(t0)
			be := newAnswering(t, tt.answers...)
			s, _ := paidWithBackend(t, clock, be.URL)
			clock.Advance(3 * time.Hour)
			d := s.Deliveries()
			if len(d) != tt.tries || be.count() != tt.tries {
				t.Fatalf("%d deliveries, %d calls, want %d", len(d), be.count(), tt.tries)
			}
			for i, x := range d {
				if x.Acknowledged != (i == tt.tries-1) || !x.At.Equal(t0.Add(time.Duration(i)*qpaytest.DefaultNotifyRetry)) {
					t.Errorf("try %d: %+v", i+1, x)
				}
			}
		})
	}
}

// Pay returns once the state changed; WaitIdle (or Advance) waits for the
// first try. A BackendURL that cannot be reached is a delivery with no
// HTTP status.
func TestWaitIdle(t *testing.T) {
	t.Parallel()
	clock := qpaytest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei))
	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL
	down.Close()
	s, _ := paidWithBackend(t, clock, url)
	if o, _ := s.Order("A1"); o.PayStatus != "1A400" {
		t.Fatalf("after Pay: %s", o.PayStatus)
	}
	if err := s.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := s.Deliveries()
	if len(d) != 1 || d[0].Status != 0 || d[0].Acknowledged || d[0].Attempt != 1 {
		t.Fatalf("Deliveries() = %+v", d)
	}
	clock.Advance(10 * time.Minute)
	if n := len(s.Deliveries()); n != 2 {
		t.Fatalf("%d deliveries after 10 minutes, want 2", n)
	}

	// WaitIdle gives up with its context.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	s2 := newServer(t)
	s2.AddOrders(pendingOrder("B1", sinopac.PayTypeATM, time.Now()))
	if err := s2.SetCallbackURLs("B1", "", slow.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Pay("B1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s2.WaitIdle(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitIdle with a cancelled context: %v", err)
	}
}

// Nonce and RefundToken lifetimes follow the test clock.
func TestClockDrivesLifetimes(t *testing.T) {
	t.Parallel()
	clock := qpaytest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei))
	s := newServer(t, qpaytest.WithClock(clock))
	c := newClient(t, s)
	payload := map[string]string{"ShopNo": s.ShopNo(), "PayType": "A"}

	n := rawNonce(t, s)
	clock.Advance(qpaytest.NonceLifetime + time.Millisecond)
	_, reply := post(t, s, "/Order", sealed(t, s, "OrderQuery", payload, n), nil)
	if _, status, desc := openReply(t, s, reply); status != "F" || !strings.HasPrefix(desc, "E3003 – ") {
		t.Fatalf("nonce after its lifetime: %s %q", status, desc)
	}

	s.AddOrders(pendingOrder("A1", sinopac.PayTypeATM, clock.Now()))
	if _, err := s.Pay("A1"); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	refund := map[string]any{"ShopNo": s.ShopNo(), "OrderNo": "A1", "Command": "R", "Amount": 100}
	step1 := func() string {
		plain, err := c.Call(ctx, "OrderMaintain", refund)
		if err != nil {
			t.Fatal(err)
		}
		tok := jsonField(t, plain, "RefundToken")
		if tok == "" {
			t.Fatalf("no RefundToken in %s", plain)
		}
		return tok
	}
	refund["RefundToken"] = step1()
	clock.Advance(qpaytest.RefundTokenLifetime + time.Second)
	_, err := c.Call(ctx, "OrderMaintain", refund)
	var ae *sinopac.APIError
	if !errors.As(err, &ae) || ae.Code != qpaytest.CodeRefundToken {
		t.Fatalf("RefundToken after its lifetime: %v", err)
	}
	delete(refund, "RefundToken")
	refund["RefundToken"] = step1()
	clock.Advance(qpaytest.RefundTokenLifetime)
	if _, err := c.Call(ctx, "OrderMaintain", refund); err != nil {
		t.Fatalf("RefundToken within its lifetime: %v", err)
	}
}

// A plain func shifts the server's clock while timers stay real time.
func TestWithClockFunc(t *testing.T) {
	t.Parallel()
	type nowFunc func() time.Time
	skewed := nowFunc(func() time.Time { return time.Now().Add(3 * time.Minute) })
	for _, opt := range []qpaytest.Option{
		qpaytest.WithClock(func() time.Time { return time.Now().Add(3 * time.Minute) }),
		qpaytest.WithClock(skewed),
	} {
		s := newServer(t, opt, qpaytest.WithNotifyRetry(time.Millisecond))
		be := newAnswering(t, answer{200, `{"Status":"F"}`}, answer{200, `{"Status":"S"}`})
		s.AddOrders(pendingOrder("A1", sinopac.PayTypeATM, time.Now()))
		if err := s.SetCallbackURLs("A1", "", be.URL); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pay("A1"); err != nil {
			t.Fatal(err)
		}
		o, _ := s.Order("A1")
		if d := time.Until(o.PayDate.Time()); d < 2*time.Minute || d > 3*time.Minute {
			t.Fatalf("PayDate %s is not 3 minutes ahead", o.PayDate)
		}
		// The resend comes 1 ms later in real time.
		for range 2 {
			select {
			case <-be.arrived:
			case <-time.After(5 * time.Second):
				t.Fatal("no resend")
			}
		}
		if err := s.WaitIdle(t.Context()); err != nil { // the answer recorded
			t.Fatal(err)
		}
		if d := s.Deliveries(); !d[1].Acknowledged || d[1].Attempt != 2 {
			t.Fatalf("Deliveries() = %+v", d)
		}
	}
}

func TestClockAdvanceNegativePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("Advance(-1) did not panic")
		}
	}()
	qpaytest.NewClock(time.Now()).Advance(-1)
}
