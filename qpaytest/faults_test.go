package qpaytest_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	seed := sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo}
	tests := []struct {
		name  string
		fault qpaytest.Fault
		check func(t *testing.T, err error)
		// requests the server must have seen per service
		nonce, query int
	}{
		{"status on Order", qpaytest.Fault{Service: "OrderQuery", Status: 503, Body: "<html>busy</html>", Header: map[string]string{"Retry-After": "7"}},
			func(t *testing.T, err error) {
				var ge *sinopac.GatewayError
				if !errors.As(err, &ge) || ge.StatusCode != 503 || ge.RetryAfter != 7*time.Second || ge.ContentType != "text/html" || ge.Excerpt != "" {
					t.Fatalf("%v, want *GatewayError 503", err)
				}
			}, 1, 1},
		{"status on Nonce", qpaytest.Fault{Service: "Nonce", Status: 429},
			func(t *testing.T, err error) {
				var ge *sinopac.GatewayError
				if !errors.As(err, &ge) || ge.StatusCode != 429 || ge.Service != "Nonce" {
					t.Fatalf("%v, want *GatewayError 429 from Nonce", err)
				}
			}, 1, 0},
		{"any service", qpaytest.Fault{Status: 502},
			func(t *testing.T, err error) {
				var ge *sinopac.GatewayError
				if !errors.As(err, &ge) || ge.StatusCode != 502 || ge.Service != "Nonce" {
					t.Fatalf("%v, want *GatewayError 502 on the first request", err)
				}
			}, 1, 0},
		{"code", qpaytest.Fault{Service: "OrderQuery", Code: "E9900"},
			func(t *testing.T, err error) {
				var ae *sinopac.APIError
				if !errors.As(err, &ae) || ae.Code != sinopac.CodeBusy || ae.Message != "系統忙碌中" {
					t.Fatalf("%v, want *APIError E9900", err)
				}
			}, 1, 1},
		{"code on Nonce", qpaytest.Fault{Service: "Nonce", Code: "M0001"},
			func(t *testing.T, err error) {
				var ae *sinopac.APIError
				if !errors.As(err, &ae) || ae.Code != sinopac.CodeMaintenance {
					t.Fatalf("%v, want *APIError M0001", err)
				}
			}, 1, 0},
		{"bad sign", qpaytest.Fault{Service: "OrderQuery", BadSign: true},
			func(t *testing.T, err error) {
				if !errors.Is(err, sinopac.ErrSignatureMismatch) {
					t.Fatalf("%v, want ErrSignatureMismatch", err)
				}
			}, 1, 1},
		{"garble", qpaytest.Fault{Service: "OrderQuery", Garble: true},
			func(t *testing.T, err error) {
				if !errors.Is(err, sinopac.ErrMalformedMessage) {
					t.Fatalf("%v, want ErrMalformedMessage", err)
				}
			}, 1, 1},
		{"garbled nonce", qpaytest.Fault{Service: "Nonce", Garble: true},
			func(t *testing.T, err error) {
				if !errors.Is(err, sinopac.ErrMalformedMessage) {
					t.Fatalf("%v, want ErrMalformedMessage", err)
				}
			}, 1, 0},
		{"plain", qpaytest.Fault{Service: "OrderQuery", Plain: true},
			func(t *testing.T, err error) {
				var ae *sinopac.APIError
				if !errors.As(err, &ae) || ae.Code != sinopac.CodeSystem || ae.Status != "F" {
					t.Fatalf("%v, want *APIError E9999", err)
				}
			}, 1, 1},
		{"plain with code", qpaytest.Fault{Service: "OrderQuery", Plain: true, Code: "E9900"},
			func(t *testing.T, err error) {
				var ae *sinopac.APIError
				if !errors.As(err, &ae) || ae.Code != sinopac.CodeBusy {
					t.Fatalf("%v, want *APIError E9900", err)
				}
			}, 1, 1},
		{"drop reply", qpaytest.Fault{Service: "OrderQuery", DropReply: true},
			func(t *testing.T, err error) {
				var ne *sinopac.NetworkError
				if !errors.As(err, &ne) || !ne.MaybeSent {
					t.Fatalf("%v, want *NetworkError that may have been sent", err)
				}
			}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, qpaytest.WithDemoData())
			c := newClient(t, s)
			s.InjectFault(tt.fault)
			_, err := c.QueryOrders(t.Context(), seed)
			tt.check(t, err)
			st := s.Stats()
			if st.Requests["Nonce"] != tt.nonce || st.Requests["OrderQuery"] != tt.query {
				t.Fatalf("requests %v, want Nonce %d OrderQuery %d", st.Requests, tt.nonce, tt.query)
			}
			// The fault was used up: the next call works.
			if r, err := c.QueryOrders(t.Context(), seed); err != nil || len(r.OrderList) != 1 {
				t.Fatalf("after the fault: %v %v", r, err)
			}
		})
	}
}

func TestFaultDelayHonoursCancel(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	c := newClient(t, s)
	s.InjectFault(qpaytest.Fault{Service: "OrderQuery", Delay: 10 * time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}
}

func TestFaultDelayThenAnswer(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	s.InjectFault(qpaytest.Fault{Service: "OrderQuery", Delay: 40 * time.Millisecond})
	start := time.Now()
	if _, err := newClient(t, s).QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Fatalf("answered after %v", d)
	}
}

func TestFaultTimes(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	c := newClient(t, s)
	seed := sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo}
	s.InjectFault(qpaytest.Fault{Service: "OrderQuery", Code: "E9900", Times: 2})
	for i := range 3 {
		_, err := c.QueryOrders(t.Context(), seed)
		if (err != nil) != (i < 2) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	s.InjectFault(qpaytest.Fault{Service: "OrderQuery", Code: "E9900", Times: -1})
	for i := range 5 {
		if _, err := c.QueryOrders(t.Context(), seed); err == nil {
			t.Fatalf("call %d succeeded under a permanent fault", i)
		}
	}
	s.ClearFaults()
	if _, err := c.QueryOrders(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
}

// The SDK's default policy retries a busy answer with a fresh nonce.
func TestFaultRetriedByDefaultPolicy(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	c, err := s.NewClient(sinopac.WithRetryPolicy(sinopac.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	s.InjectFault(qpaytest.Fault{Service: "OrderQuery", Status: 503})
	if _, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo}); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Requests["OrderQuery"] != 2 || st.Requests["Nonce"] != 2 || st.NoncesReused != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// AfterProcessing: the bank acts on the request, then the fault answers.
func TestFaultAfterProcessing(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]qpaytest.Fault{
		"503":      {Status: 503, Body: "upstream"},
		"429":      {Status: 429},
		"plain F":  {Plain: true, Code: sinopac.CodeNonceError},
		"bad sign": {BadSign: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			c := newClient(t, s)
			_, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "C1", Amount: sinopac.TWD(100),
				PayType: sinopac.PayTypeCard, CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Pay("C1"); err != nil {
				t.Fatal(err)
			}
			f.Service, f.AfterProcessing = "OrderMaintain", true
			s.InjectFault(f)
			plain, err := c.Call(t.Context(), "OrderMaintain", map[string]any{"ShopNo": s.ShopNo(), "OrderNo": "C1", "Command": "R"})
			if err == nil {
				t.Fatalf("answered %s despite the fault", plain)
			}
			o, _ := s.Order("C1")
			if len(o.RefundList) != 1 {
				t.Fatalf("refunds %v: the request was not processed before the fault (%v)", o.RefundList, err)
			}
		})
	}
	t.Run("without it nothing is processed", func(t *testing.T) {
		t.Parallel()
		s := newServer(t)
		s.InjectFault(qpaytest.Fault{Service: "OrderCreate", Status: 503})
		_, err := newClient(t, s).CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "C1", Amount: sinopac.TWD(100),
			PayType: sinopac.PayTypeCard, CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "x"})
		if err == nil {
			t.Fatal("no error")
		}
		if _, ok := s.Order("C1"); ok {
			t.Fatal("created despite a fault before processing")
		}
	})
}

// WithQueryLag hides orders and refunds from OrderQuery until they are
// older than the lag by the server's clock; other services see the book.
func TestQueryLag(t *testing.T) {
	t.Parallel()
	var off atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	s := newServer(t, qpaytest.WithClock(clock), qpaytest.WithQueryLag(3*time.Minute))
	c := newClient(t, s)
	if _, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "C1", Amount: sinopac.TWD(100),
		PayType: sinopac.PayTypeCard, CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "x"}); err != nil {
		t.Fatal(err)
	}
	find := func() []sinopac.Order {
		t.Helper()
		r, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "C1"})
		if err != nil {
			t.Fatal(err)
		}
		return r.OrderList
	}
	if got := find(); len(got) != 0 {
		t.Fatalf("a new order is visible at once: %v", got)
	}
	off.Add(int64(4 * time.Minute))
	if got := find(); len(got) != 1 {
		t.Fatalf("not visible after the lag: %v", got)
	}
	if _, err := s.Pay("C1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refund(t.Context(), "C1", sinopac.TWD(40)); err != nil {
		t.Fatal(err)
	}
	if o := find()[0]; len(o.RefundList) != 0 || o.RefundAmount != 0 || o.RefundFlag != "N" {
		t.Fatalf("a new refund is visible at once: %+v", o)
	}
	off.Add(int64(4 * time.Minute))
	if o := find()[0]; len(o.RefundList) != 1 || o.RefundAmount != sinopac.TWD(40) || o.RefundFlag != "Y" {
		t.Fatalf("refund not visible after the lag: %+v", o)
	}
}
