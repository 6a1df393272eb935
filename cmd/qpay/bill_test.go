package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// diffBank books three orders paid on a statement day three days ago and
// one refund of the first; it returns the server and the day (2026-10-05 form).
func diffBank(t *testing.T) (*qpaytest.Server, string) {
	t.Helper()
	srv := qpaytest.NewServer()
	t.Cleanup(srv.Close)
	y, m, d := time.Now().In(sinopac.Taipei).AddDate(0, 0, -3).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, sinopac.Taipei)
	paid := func(no, ts string, twd int64, h int) sinopac.Order {
		return sinopac.Order{OrderNo: no, TSNo: ts, TSDate: sinopac.At(day.Add(time.Duration(h-1) * time.Hour)),
			PayDate: sinopac.At(day.Add(time.Duration(h) * time.Hour)), Amount: sinopac.TWD(twd), PayType: sinopac.PayTypeATM, PayStatus: "1A400", RefundFlag: "N"}
	}
	refunded := paid("DIFF-OK", "NA0001", 1500, 10)
	refunded.RefundFlag, refunded.RefundAmount, refunded.RefundStatus = "Y", sinopac.TWD(200), "2A900"
	refunded.RefundList = []sinopac.Refund{{RefundNo: "R1", RefundDate: sinopac.At(day.Add(15 * time.Hour)), RefundAmount: sinopac.TWD(200), RefundStatus: "2A900"}}
	srv.AddOrders(refunded, paid("DIFF-LOST", "NA0002", 800, 11), paid("DIFF-AMOUNT", "NA0003", 1200, 12))
	return srv, day.Format("2006-01-02")
}

func writeLedger(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The case: a ledger missing one paid order, holding one the bank
// lacks and one with a wrong amount. All three are reported, exit 6.
func TestBillDiffReportsDiscrepancies(t *testing.T) {
	t.Parallel()
	srv, date := diffBank(t)
	env := serverEnv(srv)
	// Excel's BOM, its header spelling, an extra column and a trailing empty row.
	ledger := writeLedger(t, "\uFEFFOrderNo,Kind,Amount,Note\r\n"+
		"DIFF-OK,payment,\"1,500\",\r\n"+
		"DIFF-OK,refund,200.00,partial\r\n"+
		"DIFF-AMOUNT,payment,1000,\r\n"+
		"DIFF-GHOST,payment,NT$300,never paid\r\n"+
		",,,\r\n")

	r := qpay(t, env, "", "bill", "--date", date, "--diff", ledger)
	wantCode(t, r, exitDiffers)
	for _, want := range []string{
		"against " + ledger + ": 3 discrepancies, 2 entries matched.",
		"missing in ledger  DIFF-LOST    payment  NA0002",
		"missing at bank    DIFF-GHOST   payment  -",
		"amount mismatch    DIFF-AMOUNT  payment  NA0003",
		"NT$1200.00", "NT$1000.00", "NT$800.00", "NT$300.00",
		"qpay query --order-no DIFF-LOST",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "qpay: 3 discrepancies between the statement of "+date+" and "+ledger) {
		t.Errorf("stderr: %s", r.stderr)
	}

	r = qpay(t, env, "", "bill", "--date", date, "--diff", ledger, "-o", "json")
	wantCode(t, r, exitDiffers)
	var v billDiffView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if v.Agrees || v.Count != 3 || v.Matched != 2 || v.BillDate != date || v.ShopNo != srv.ShopNo() || len(v.Discrepancies) != 3 {
		t.Fatalf("json: %+v", v)
	}
	lost, ghost, amount := v.Discrepancies[0], v.Discrepancies[1], v.Discrepancies[2]
	if lost.Type != "missing_in_ledger" || lost.OrderNo != "DIFF-LOST" || lost.BankTSNo != "NA0002" || lost.PayType != "A" ||
		*lost.BankAmount != 80000 || lost.LedgerAmount != nil || lost.PaidAt == nil || !strings.HasPrefix(*lost.PaidAt, date+"T11:00:00+08:00") {
		t.Errorf("missing in ledger: %+v", lost)
	}
	if ghost.Type != "missing_at_bank" || ghost.OrderNo != "DIFF-GHOST" || ghost.BankAmount != nil || *ghost.LedgerAmount != 30000 || *ghost.LedgerAmountTWD != "300.00" {
		t.Errorf("missing at bank: %+v", ghost)
	}
	if amount.Type != "amount_mismatch" || *amount.BankAmount != 120000 || *amount.LedgerAmount != 100000 {
		t.Errorf("amount mismatch: %+v", amount)
	}
	if v.Totals.Bank.Payments != 350000 || v.Totals.Bank.Refunds != 20000 || v.Totals.Bank.Net != 330000 || v.Totals.Bank.PaymentLines != 3 ||
		v.Totals.Ledger.Payments != 280000 || v.Totals.Ledger.RefundLines != 1 {
		t.Errorf("totals: %+v", v.Totals)
	}

	r = qpay(t, env, "", "bill", "--date", date, "--diff", ledger, "-o", "csv")
	wantCode(t, r, exitDiffers)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][1] != "type" || rows[1][1] != "missing_in_ledger" || rows[1][2] != "DIFF-LOST" ||
		rows[2][1] != "missing_at_bank" || rows[2][7] != "" || rows[2][9] != "30000" || rows[3][1] != "amount_mismatch" || rows[3][0] != date {
		t.Errorf("csv:\n%s", r.stdout)
	}
}

func TestBillDiffAgrees(t *testing.T) {
	t.Parallel()
	srv, date := diffBank(t)
	ledger := "order_no,kind,amount,ts_no\n" +
		"DIFF-OK,payment,1500,NA0001\nDIFF-OK,refund,200,\nDIFF-LOST,P,800,NA0002\nDIFF-AMOUNT,payment,1200,\n"
	r := qpay(t, serverEnv(srv), ledger, "bill", "--date", date, "--diff", "-")
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "and stdin agree: 4 entries matched.") || r.stderr != "" {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	r = qpay(t, serverEnv(srv), ledger, "bill", "--date", date, "--diff", "-", "-o", "csv")
	wantCode(t, r, 0)
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, "bill_date,type,order_no,") {
		t.Errorf("a clean diff in CSV is the header alone:\n%s", r.stdout)
	}
}

// A TSNo the bank does not have is a discrepancy too.
func TestBillDiffTSNo(t *testing.T) {
	t.Parallel()
	srv, date := diffBank(t)
	ledger := "order_no,kind,amount,ts_no\nDIFF-OK,payment,1500,NA9999\nDIFF-OK,refund,200,\nDIFF-LOST,P,800,\nDIFF-AMOUNT,payment,1200,\n"
	r := runInProcess(serverEnv(srv), ledger, "bill", "--date", date, "--diff", "-")
	wantCode(t, r, exitDiffers)
	if !strings.Contains(r.stdout, "TSNo mismatch  DIFF-OK   payment  NA0001 (ledger: NA9999)  ATM") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

// A malformed ledger is a usage error naming the line, and nothing is sent.
func TestBillDiffMalformedLedger(t *testing.T) {
	t.Parallel()
	srv, date := diffBank(t)
	head := "order_no,kind,amount\n"
	cases := []struct{ ledger, want string }{
		{"", "stdin is empty: it needs a header row"},
		{"order_no,amount\nA1,100\n", "stdin:1: the header lacks the kind column"},
		{"order_no,kind,amount,OrderNo\n", `stdin:1: column "OrderNo" appears twice`},
		{head + "A1,payment,100\nA2,refund\n", "stdin:3: this row has a different number of cells than the header"},
		{head + "A1,payment,100\n,payment,100\n", "stdin:3: order_no is empty"},
		{head + "A1,paid,100\n", `stdin:2: kind "paid" must be payment or refund`},
		{head + "A1,payment,12.50\n", "stdin:2: amount 12.50: the bank takes whole NT$ only"},
		{head + "A1,payment,-5\n", `stdin:2: amount "-5" is not an amount in whole NT$`},
		{head + "A1,payment,0\n", "stdin:2: amount must be more than 0"},
		{head + "A1,payment,\"100\n", `stdin:2: extraneous or missing " in quoted-field`},
		{head + "A1,payment,100\n\xa5\xbf,refund,100\n", `stdin:3: not UTF-8 text: save the ledger as "CSV UTF-8"`},
	}
	for _, tc := range cases {
		r := runInProcess(serverEnv(srv), tc.ledger, "bill", "--date", date, "--diff", "-")
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("ledger %q: exit %d, stderr %q, want 2 and %q", tc.ledger, r.code, r.stderr, tc.want)
		}
	}
	r := runInProcess(serverEnv(srv), "", "bill", "--date", date, "--diff", filepath.Join(t.TempDir(), "none.csv"))
	if r.code != 2 || !strings.Contains(r.stderr, "none.csv: no such file") {
		t.Errorf("missing file: %d %s", r.code, r.stderr)
	}
	if n := srv.Stats().Requests["BillQuery"]; n != 0 {
		t.Errorf("%d BillQuery calls for bad ledgers", n)
	}
}

func TestParseLedger(t *testing.T) {
	t.Parallel()
	got, err := parseLedger("l.csv", []byte("\uFEFF Amount , Order No,KIND,ts_no\n 799 ,A1,Payment, T1 \n\n\"1,200.00\",A2,r,\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []sinopac.LedgerEntry{
		{OrderNo: "A1", Kind: sinopac.LedgerPayment, Amount: sinopac.TWD(799), TSNo: "T1"},
		{OrderNo: "A2", Kind: sinopac.LedgerRefund, Amount: sinopac.TWD(1200)},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	got, err = parseLedger("l.csv", []byte("order_no,kind,amount\r\n"))
	if err != nil || len(got) != 0 {
		t.Errorf("header only: %v %v", got, err)
	}
}
