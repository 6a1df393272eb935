package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/funbiz-go/sinopac/qpaytest"
)

func TestPayQuery(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	srv.RegisterPayToken("3a83b2d6-76d0-4e66-a32b-66d55ceb74f3", qpaytest.SeedOrderNo, "PayOut")
	env := serverEnv(srv)

	r := qpay(t, env, "", "pay-query", "--token", "3a83b2d6-76d0-4e66-a32b-66d55ceb74f3")
	wantCode(t, r, 0)
	golden(t, "pay-query-seed.table", r.stdout)

	r = qpay(t, env, "", "pay-query", "--token", "3a83b2d6-76d0-4e66-a32b-66d55ceb74f3", "-o", "json")
	wantCode(t, r, 0)
	var v paymentView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if v.OrderNo != qpaytest.SeedOrderNo || v.Amount != 79900 || v.AmountTWD != "799.00" || !v.Paid || v.APType != "PayOut" || v.Status != "S" {
		t.Errorf("pay-query JSON: %+v", v)
	}

	r = qpay(t, env, "", "pay-query", "--token", "no-such-token")
	wantCode(t, r, 1)
	if !strings.Contains(r.stderr, "E2501") || !strings.Contains(r.stderr, "the bank does not know this PayToken") {
		t.Errorf("unknown token stderr: %s", r.stderr)
	}

	r = runInProcess(env, "", "pay-query")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "--token is required") {
		t.Errorf("missing token stderr: %s", r.stderr)
	}
	r = runInProcess(env, "", "pay-query", "--token", "a b")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "invalid PayToken") {
		t.Errorf("bad token stderr: %s", r.stderr)
	}
}
