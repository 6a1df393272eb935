package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// An operator's day: create orders, the customers pay, capture, refund in
// part, cancel; every step through the binary against one simulator.
func TestCreateAndMaintainFlow(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer()
	defer srv.Close()
	env := serverEnv(srv)

	// ATM order: the virtual account comes back.
	r := qpay(t, env, "", "create", "--order-no", "ATM-0001", "--amount", "799", "--product", "虛擬帳號訂單", "--expire", "2099-12-31", "-o", "json")
	wantCode(t, r, 0)
	var atm createdView
	if err := json.Unmarshal([]byte(r.stdout), &atm); err != nil {
		t.Fatal(err)
	}
	if atm.OrderNo != "ATM-0001" || atm.Amount != 79900 || atm.PayType != "A" || atm.ATMPayNo == "" || atm.Status != "S" {
		t.Fatalf("ATM create: %+v", atm)
	}
	if o, ok := srv.Order("ATM-0001"); !ok || o.ExpireDate.String() != "209912312359" || o.Amount != sinopac.TWD(799) {
		t.Fatalf("server holds %+v", o)
	}

	// The same OrderNo for another amount: the bank's E0302, exit 1, with
	// what to do (the same request again would be this order, Resolved).
	r = qpay(t, env, "", "create", "--order-no", "ATM-0001", "--amount", "800", "--product", "x")
	wantCode(t, r, 1)
	if !strings.Contains(r.stderr, "E0302") || !strings.Contains(r.stderr, "qpay query --order-no") {
		t.Errorf("duplicate stderr: %s", r.stderr)
	}

	// Cancel (disable) the virtual account.
	r = qpay(t, env, "", "maintain", "cancel", "--order-no", "ATM-0001")
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "cancel (C)") || !strings.Contains(r.stdout, "S0000") {
		t.Errorf("cancel table:\n%s", r.stdout)
	}

	// Card order captured by hand, then refunded in part.
	r = qpay(t, env, "", "create", "--pay-type", "C", "--order-no", "CARD-0001", "--amount", "1,200", "--product", "T-shirt",
		"--auto-billing", "N", "--exp-billing-days", "7", "--return-url", "https://shop.example/return")
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "Card payment page") || !strings.Contains(r.stdout, "NT$1200.00") {
		t.Errorf("card create table:\n%s", r.stdout)
	}
	if _, err := srv.Pay("CARD-0001"); err != nil {
		t.Fatal(err)
	}
	r = qpay(t, env, "", "maintain", "capture", "--order-no", "CARD-0001", "-o", "csv")
	wantCode(t, r, 0)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != "CARD-0001" || recs[1][2] != "P" || recs[1][7] != "S" {
		t.Fatalf("capture CSV %v %v", recs, err)
	}
	r = qpay(t, env, "", "maintain", "refund", "--order-no", "CARD-0001", "--amount", "200", "-o", "json")
	wantCode(t, r, 0)
	var ref maintainedView
	if err := json.Unmarshal([]byte(r.stdout), &ref); err != nil {
		t.Fatal(err)
	}
	if ref.Command != "R" || ref.CommandLabel != "refund" || ref.Amount != 20000 || ref.Status != "S" {
		t.Errorf("refund: %+v", ref)
	}
	r = qpay(t, env, "", "query", "--order-no", "CARD-0001", "-o", "json")
	wantCode(t, r, 0)
	var q ordersView
	if err := json.Unmarshal([]byte(r.stdout), &q); err != nil || len(q.Orders) != 1 {
		t.Fatalf("query after refund: %v %s", err, r.stdout)
	}
	if o := q.Orders[0]; !o.Refunded || len(o.Refunds) != 1 || o.Refunds[0].Amount != 20000 || !o.Paid {
		t.Errorf("order after refund: %+v", o)
	}

	// Refunding an order that does not exist: the bank's F, exit 1.
	r = qpay(t, env, "", "maintain", "refund", "--order-no", "NOPE")
	wantCode(t, r, 1)
	if !strings.Contains(r.stderr, "OrderMaintain with Status F") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestMaintainUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"maintain", "refund"}, "--order-no is required"},
		{[]string{"maintain", "refund", "--order-no", "A1", "--amount", "1.5"}, "no cents"},
		{[]string{"maintain", "capture", "--order-no", "A1", "--amount", "100"}, "unknown flag: --amount"},
		{[]string{"maintain", "change-expiry", "--order-no", "A1"}, "--expire is required"},
		{[]string{"maintain", "change-expiry", "--order-no", "A1", "--expire", "soon"}, `--expire "soon" is not a date`},
		{[]string{"maintain", "change-expiry", "--order-no", "A1", "--expire", "2020-01-01"}, "--expire 2020-01-01 is in the past"},
		{[]string{"maintain", "cancel", "--order-no", "A1", "--remark", strings.Repeat("x", 41)}, "invalid Remark"},
		{[]string{"maintain", "void"}, `unknown command "void" for "qpay maintain"`},
		{[]string{"maintain"}, "choose what to do: qpay maintain capture|cancel|refund"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			t.Parallel()
			r := runInProcess(nil, "", append(tc.args, "--demo")...) // input is checked before the demo starts
			wantCode(t, r, 2)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, "demo mode") {
				t.Error("a usage error started the demo simulator")
			}
		})
	}
}

// A past deadline is refused before anything is sent (the bank would take
// it and expire the virtual account at once).
func TestChangeExpiryInThePastNotSent(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	past := time.Now().In(sinopac.Taipei).Add(-time.Hour).Format("2006-01-02T15:04")
	for _, expire := range []string{past, "2021-10-11"} {
		r := runInProcess(serverEnv(srv), "", "maintain", "change-expiry", "--order-no", qpaytest.SeedOrderNo, "--expire", expire)
		wantCode(t, r, 2)
		if !strings.Contains(r.stderr, "--expire "+expire+" is in the past") {
			t.Errorf("stderr: %s", r.stderr)
		}
	}
	if st := srv.Stats(); st.NoncesIssued != 0 || st.Requests["OrderMaintain"] != 0 {
		t.Errorf("a past deadline was sent: %+v", st)
	}
	// A future one is sent.
	future := time.Now().In(sinopac.Taipei).AddDate(0, 0, 3).Format("2006-01-02")
	r := runInProcess(serverEnv(srv), "", "maintain", "change-expiry", "--order-no", qpaytest.SeedOrderNo, "--expire", future)
	if srv.Stats().Requests["OrderMaintain"] != 1 {
		t.Errorf("a future deadline was not sent: exit %d, %s", r.code, r.stderr)
	}
}

// A lost create reply: the SDK settles it by OrderQuery, the CLI says so.
func TestCreateLostReplyResolved(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer()
	defer srv.Close()
	srv.InjectFault(qpaytest.Fault{Service: "OrderCreate", DropReply: true})
	r := qpay(t, serverEnv(srv), "", "create", "--order-no", "LOST-1", "--amount", "100", "--product", "x")
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "Resolved") || !strings.Contains(r.stdout, "found with OrderQuery") {
		t.Errorf("resolved create:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestBill(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer()
	defer srv.Close()
	// Statements are kept 1 to 30 days: book an order paid three days ago.
	day := time.Now().In(sinopac.Taipei).AddDate(0, 0, -3)
	paid := time.Date(day.Year(), day.Month(), day.Day(), 10, 30, 0, 0, sinopac.Taipei)
	srv.AddOrders(sinopac.Order{OrderNo: "BILL-1", TSNo: "NA024999990001", TSDate: sinopac.At(paid.Add(-time.Hour)),
		PayDate: sinopac.At(paid), Amount: sinopac.TWD(1500), PayType: sinopac.PayTypeATM, PayStatus: "1A400", RefundFlag: "N"})
	env := serverEnv(srv)
	date := day.Format("2006-01-02")

	r := qpay(t, env, "", "bill", "--date", date, "-o", "json")
	wantCode(t, r, 0)
	var b billView
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatal(err)
	}
	if b.BillDate != date || b.Count != 1 || b.Items[0].OrderNo != "BILL-1" || b.Items[0].Kind != "payment" || b.TotalPaid != 150000 {
		t.Errorf("bill: %+v", b)
	}
	r = qpay(t, env, "", "bill", "--date", date)
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "BILL-1") || !strings.Contains(r.stdout, "NT$1500.00") || !strings.Contains(r.stdout, paid.Format("2006-01-02 15:04")) {
		t.Errorf("bill table:\n%s", r.stdout)
	}
	r = runInProcess(env, "", "bill", "--date", time.Now().In(sinopac.Taipei).Format("2006-01-02"))
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "must be 1 to 30 days before today") {
		t.Errorf("today's bill: %s", r.stderr)
	}
}

func TestAllotDemoOctober(t *testing.T) {
	t.Parallel()
	r := qpay(t, nil, "", "allot", "--from", "2026-10-01", "--to", "2026-10-05")
	wantCode(t, r, 0)
	golden(t, "allot-october.table", r.stdout)

	r = qpay(t, nil, "", "allot", "--from", "2026-10-01", "--to", "2026-10-05", "--pay-type", "A", "-o", "json")
	wantCode(t, r, 0)
	var v allotView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if v.Count == 0 {
		t.Fatal("no payouts in the demo's first days of October")
	}
	for _, al := range v.Allots {
		var sum, fee int64
		for _, it := range al.Items {
			sum += it.Amount
			fee += it.Fee
		}
		if al.PayType != "A" || al.PayAmount != sum || al.FeeAmount != fee || al.AllotAmount != al.PayAmount-al.RefundAmount-al.FeeAmount+al.ExtAllotAmount {
			t.Errorf("payout does not add up: %+v", al)
		}
	}
	r = runInProcess(nil, "", "allot", "--from", "2026-10-05", "--to", "2026-10-01")
	wantCode(t, r, 2)
}
