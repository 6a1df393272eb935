package main

import (
	"strings"
	"testing"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// The advice for a create or refund whose outcome is unknown, or that
// never left, follows the SDK's facts: a create may be run again, a refund
// never "safely".
func TestAdviceUnknownAndNotProcessed(t *testing.T) {
	t.Parallel()
	t.Run("create, unknown", func(t *testing.T) {
		t.Parallel()
		srv := qpaytest.NewServer()
		defer srv.Close()
		srv.InjectFault(qpaytest.Fault{Service: "OrderCreate", Status: 503})
		r := qpay(t, serverEnv(srv), "", "create", "--order-no", "U-1", "--amount", "100", "--product", "x")
		wantCode(t, r, exitNetwork)
		for _, want := range []string{"outcome unknown", "running the same create command again is safe", "qpay query --order-no U-1"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		// Following it: one order.
		r = qpay(t, serverEnv(srv), "", "create", "--order-no", "U-1", "--amount", "100", "--product", "x")
		wantCode(t, r, 0)
		if n := len(srv.Orders()); n != 1 {
			t.Errorf("%d orders", n)
		}
	})
	t.Run("refund, unknown", func(t *testing.T) {
		t.Parallel()
		srv := qpaytest.NewServer()
		defer srv.Close()
		env := serverEnv(srv)
		wantCode(t, qpay(t, env, "", "create", "--pay-type", "C", "--order-no", "R-1", "--amount", "100", "--product", "x"), 0)
		if _, err := srv.Pay("R-1"); err != nil {
			t.Fatal(err)
		}
		srv.InjectFault(qpaytest.Fault{Service: "OrderMaintain", AfterProcessing: true, Status: 503})
		r := qpay(t, env, "", "maintain", "refund", "--order-no", "R-1", "--amount", "40")
		wantCode(t, r, 0)
		if !strings.Contains(r.stdout, "Resolved") {
			t.Errorf("a refund done and visible is resolved:\n%s", r.stdout)
		}
		srv.InjectFault(qpaytest.Fault{Service: "OrderMaintain", Status: 503})
		r = qpay(t, env, "", "maintain", "refund", "--order-no", "R-1", "--amount", "40")
		wantCode(t, r, exitNetwork)
		for _, want := range []string{"outcome unknown", "do NOT run the refund again", "qpay query --order-no R-1", "confirm with the bank"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "safe") {
			t.Errorf("a refund of unknown outcome is never called safe to repeat:\n%s", r.stderr)
		}
		if o, _ := srv.Order("R-1"); len(o.RefundList) != 1 {
			t.Errorf("refunds %v", o.RefundList)
		}
	})
	t.Run("never sent", func(t *testing.T) {
		t.Parallel()
		srv := qpaytest.NewServer()
		defer srv.Close()
		srv.InjectFault(qpaytest.Fault{Service: "Nonce", Status: 503, Times: -1})
		r := qpay(t, serverEnv(srv), "", "--retries", "0", "create", "--order-no", "N-1", "--amount", "100", "--product", "x")
		wantCode(t, r, exitNetwork)
		if !strings.Contains(r.stderr, "the request never reached the bank: running the same command again is safe") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
		if _, ok := srv.Order("N-1"); ok {
			t.Error("created")
		}
	})
	t.Run("no basis: the careful advice", func(t *testing.T) {
		t.Parallel()
		u := unknownOutcome(&sinopac.OutcomeUnknownError{Service: "OrderMaintain", OrderNo: "C-1", Err: sinopac.ErrNoTrace})
		if !strings.Contains(u, "do NOT run the refund again") {
			t.Errorf("an unknown error without its basis is treated as a refund (the careful reading): %s", u)
		}
	})
}
