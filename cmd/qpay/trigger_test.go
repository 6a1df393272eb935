package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// simulatorEnv points qpay at srv.
func simulatorEnv(srv *qpaytest.Server) map[string]string {
	k := srv.Keys()
	return map[string]string{sinopac.EnvBaseURL: srv.URL(), sinopac.EnvShopNo: srv.ShopNo(),
		sinopac.EnvHashA1: k.A1, sinopac.EnvHashA2: k.A2, sinopac.EnvHashB1: k.B1, sinopac.EnvHashB2: k.B2}
}

// qpay trigger makes a running simulator pay, expire and refund orders,
// as the bank would, and says what it did.
func TestTrigger(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithAdmin())
	t.Cleanup(srv.Close)
	got := make(chan string, 10)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct{ PayToken string }
		_ = json.NewDecoder(r.Body).Decode(&n)
		w.Write([]byte(`{"Status":"S"}`))
		got <- n.PayToken
	}))
	t.Cleanup(shop.Close)
	now := time.Now()
	srv.AddOrders(
		sinopac.Order{OrderNo: "T-CARD", TSNo: "NA0249T1", PayType: sinopac.PayTypeCard, PayStatus: "1C200", Amount: sinopac.TWD(500), TSDate: sinopac.At(now), ExpireDate: sinopac.At(now.Add(time.Hour))},
		sinopac.Order{OrderNo: "T-MOB", TSNo: "NA0249T2", PayType: sinopac.PayTypeMobile, PayStatus: "1M200", Amount: sinopac.TWD(500), TSDate: sinopac.At(now), ExpireDate: sinopac.At(now.Add(time.Hour))},
		sinopac.Order{OrderNo: "T-ATM", TSNo: "NA0249T3", PayType: sinopac.PayTypeATM, PayStatus: "1A200", Amount: sinopac.TWD(500), TSDate: sinopac.At(now), ExpireDate: sinopac.At(now.Add(time.Hour))},
	)
	_ = srv.SetCallbackURLs("T-CARD", "", shop.URL)
	env := simulatorEnv(srv)

	r := runInProcess(env, "", "trigger", "pay", "--order-no", "T-CARD", "-o", "json")
	wantCode(t, r, exitOK)
	var v triggerView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.PayStatus != "1C400" || v.PayToken == "" || v.PayStatusLabel != "請款完成 (captured)" {
		t.Fatalf("trigger pay: %v %+v", err, v)
	}
	select {
	case tok := <-got:
		if tok != v.PayToken {
			t.Fatalf("the BackendURL got %s, trigger printed %s", tok, v.PayToken)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
	r = runInProcess(env, "", "pay-query", "--token", v.PayToken)
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "T-CARD") {
		t.Errorf("pay-query of the printed token:\n%s", r.stdout)
	}

	wantCode(t, runInProcess(env, "", "trigger", "pay", "--order-no", "T-MOB"), exitOK)
	if o, _ := srv.Order("T-MOB"); o.PayStatus != "1M400" {
		t.Fatalf("T-MOB %s", o.PayStatus)
	}
	r = runInProcess(env, "", "trigger", "refund", "--order-no", "T-CARD", "--amount", "200")
	wantCode(t, r, exitOK)
	if o, _ := srv.Order("T-CARD"); o.RefundAmount != sinopac.TWD(200) || !strings.Contains(r.stdout, "2C200 退款已受理") {
		t.Fatalf("after the refund: %+v\n%s", o, r.stdout)
	}
	wantCode(t, runInProcess(env, "", "trigger", "expire", "--order-no", "T-ATM"), exitOK)
	if o, _ := srv.Order("T-ATM"); o.PayStatus != "1A250" {
		t.Fatalf("T-ATM %s", o.PayStatus)
	}

	r = runInProcess(env, "", "trigger", "pay", "--order-no", "T-ATM")
	if r.code != exitFailed || !strings.Contains(r.stderr, "cannot be paid in state 1A250") {
		t.Fatalf("paying an expired order: exit %d %s", r.code, r.stderr)
	}
	if r := runInProcess(env, "", "trigger", "pay", "--order-no", "NOPE"); r.code != exitMissing {
		t.Fatalf("an unknown order: exit %d %s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"trigger"}, {"trigger", "explode", "--order-no", "X"}, {"trigger", "pay"}, {"trigger", "pay", "--order-no", "X", "--amount", "5"}} {
		if r := runInProcess(env, "", args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
}

// trigger talks to a simulator only: not in demo mode, not to the bank,
// not to a server without the admin endpoint, and it says so before
// sending anything there.
func TestTriggerRefusesWhatIsNotASimulator(t *testing.T) {
	t.Parallel()
	plain := qpaytest.NewServer() // no WithAdmin
	t.Cleanup(plain.Close)
	other := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(other.Close)
	keys := simulatorEnv(plain)
	withBase := func(base string) map[string]string {
		env := map[string]string{}
		for k, v := range keys {
			env[k] = v
		}
		env[sinopac.EnvBaseURL] = base
		return env
	}
	sandbox := withBase("")
	delete(sandbox, sinopac.EnvBaseURL)
	sandbox[sinopac.EnvSandbox] = "1"
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL + qpaytest.BasePath
	down.Close()
	for name, tc := range map[string]struct {
		env  map[string]string
		code int
		want string
	}{
		"demo mode":          {nil, exitUsage, "running simulator"},
		"the bank's sandbox": {sandbox, exitUsage, "is the bank's, not a qpay simulator"},
		"production":         {withBase(sinopac.ProductionURL), exitUsage, "is the bank's"},
		"no admin endpoint":  {withBase(plain.URL()), exitUsage, "does not answer as a qpay simulator"},
		"another server":     {withBase(other.URL + qpaytest.BasePath), exitUsage, "does not answer as a qpay simulator"},
		"another base path":  {withBase(other.URL + "/api"), exitUsage, "is not a qpay simulator's base URL"},
		"nothing listening":  {withBase(downURL), exitNetwork, "does not answer"},
	} {
		r := runInProcess(tc.env, "", "trigger", "pay", "--order-no", "X")
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, want %d with %q\n%s", name, r.code, tc.code, tc.want, r.stderr)
		}
	}
}
