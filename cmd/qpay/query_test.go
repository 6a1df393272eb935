package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

const demoNotice = "qpay: demo mode: no QPAY_* credentials set, using a built-in simulator with demo data (shop NA0249_001)\n"

// serverEnv points qpay at srv with the demo credentials, as a user
// exports them after "qpay simulator".
func serverEnv(srv *qpaytest.Server) map[string]string {
	k := srv.Keys()
	return map[string]string{
		"QPAY_BASE_URL": srv.URL(), "QPAY_SHOP_NO": srv.ShopNo(),
		"QPAY_HASH_A1": k.A1, "QPAY_HASH_A2": k.A2, "QPAY_HASH_B1": k.B1, "QPAY_HASH_B2": k.B2,
	}
}

// The README's main command: no environment at all.
func TestQuerySeedOrderDemoMode(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"table", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			r := qpay(t, nil, "", "query", "--order-no", "A202110507397", "-o", format)
			wantCode(t, r, 0)
			if r.stderr != demoNotice {
				t.Errorf("stderr = %q, want the one-line demo notice", r.stderr)
			}
			golden(t, "query-seed."+format, r.stdout)
		})
	}
	// The golden files say what the issue asks, checked here in words too.
	r := qpay(t, nil, "", "query", "--order-no", "A202110507397")
	for _, want := range []string{"A202110507397", "NT$799.00", "1A400 付款完成 (paid)", "2021-10-01 22:45"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestQuerySeedOrderJSON(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	r := qpay(t, serverEnv(srv), "", "query", "--order-no", "A202110507397", "-o", "json")
	wantCode(t, r, 0)
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing with credentials set", r.stderr)
	}
	var doc struct {
		Orders []map[string]any `json:"orders"`
		Count  int              `json:"count"`
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Fatal("stdout holds more than one JSON document")
	}
	if doc.Count != 1 || len(doc.Orders) != 1 {
		t.Fatalf("count %d, %d orders, want 1", doc.Count, len(doc.Orders))
	}
	o := doc.Orders[0]
	for k, want := range map[string]any{
		"order_no": "A202110507397", "amount": 79900.0, "amount_twd": "799.00", "pay_status": "1A400",
		"pay_status_label": "付款完成 (paid)", "paid": true, "paid_at": "2021-10-01T22:45:00+08:00", "pay_type": "A",
	} {
		if o[k] != want {
			t.Errorf("%s = %#v, want %#v", k, o[k], want)
		}
	}
	if st := srv.Stats(); st.Requests["OrderQuery"] != 1 {
		t.Errorf("OrderQuery requests = %d, want 1", st.Requests["OrderQuery"])
	}
}

// A month of orders against a server, each format parsed back and compared
// with the server's own book.
func TestQueryMonthAll(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	env := serverEnv(srv)
	args := []string{"query", "--from", "2026-10-01", "--to", "2026-10-31", "--all"}

	want := map[string]sinopac.Order{}
	for _, o := range srv.Orders() {
		if o.TSDate.Time().Month() == 10 && o.TSDate.Time().Year() == 2026 {
			want[o.OrderNo] = o
		}
	}

	t.Run("json", func(t *testing.T) {
		r := qpay(t, env, "", append(args, "-o", "json")...)
		wantCode(t, r, 0)
		var doc ordersView
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Count != len(want) || len(doc.Orders) != len(want) || !doc.Complete {
			t.Fatalf("count %d (%d listed, complete %v), want %d", doc.Count, len(doc.Orders), doc.Complete, len(want))
		}
		for _, o := range doc.Orders {
			w, ok := want[o.OrderNo]
			if !ok || o.Amount != int64(w.Amount) || o.PayStatus != string(w.PayStatus) || o.Paid != w.PayStatus.Paid() {
				t.Errorf("order %+v does not match the server's %+v", o, w)
			}
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := qpay(t, env, "", append(args, "-o", "csv")...)
		wantCode(t, r, 0)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(want)+1 || strings.Join(recs[0], ",") != strings.Join(orderCSVHeader, ",") {
			t.Fatalf("%d records, header %v", len(recs), recs[0])
		}
		seen := map[string]bool{}
		for _, rec := range recs[1:] {
			w, ok := want[rec[0]]
			if !ok || seen[rec[0]] || rec[3] != strconv.FormatInt(int64(w.Amount), 10) || rec[7] != strconv.FormatBool(w.PayStatus.Paid()) {
				t.Errorf("row %v unexpected", rec)
			}
			seen[rec[0]] = true
		}
	})
	t.Run("table", func(t *testing.T) {
		r := qpay(t, env, "", args...)
		wantCode(t, r, 0)
		golden(t, "query-october.table", r.stdout)
	})
	t.Run("demo", func(t *testing.T) {
		r := qpay(t, nil, "", args...)
		wantCode(t, r, 0)
		golden(t, "query-october.table", r.stdout)
	})
}

// Exit codes as a user meets them, one server per case.
func TestQueryExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fault    *qpaytest.Fault
		args     []string
		code     int
		stderrIn []string
	}{
		{"bank says F", &qpaytest.Fault{Service: "OrderQuery", Code: "E2199"}, nil, 1,
			[]string{"E2199", "Status F", "meaning: the query failed at the bank"}},
		{"bank busy, retries off", &qpaytest.Fault{Service: "OrderQuery", Code: "E9900"}, []string{"--retries", "0"}, 1,
			[]string{"E9900", "try again in a minute"}},
		{"forged Sign", &qpaytest.Fault{Service: "OrderQuery", BadSign: true}, nil, 4,
			[]string{"signature does not verify", "nothing of it was used"}},
		{"garbled Message", &qpaytest.Fault{Service: "OrderQuery", Garble: true}, nil, 4, []string{"malformed"}},
		{"gateway 503, retries off", &qpaytest.Fault{Service: "OrderQuery", Status: 503, Body: "Service Unavailable"}, []string{"--retries", "0"}, 3,
			[]string{"HTTP 503", "gateway is failing"}},
		{"gateway 503, retries exhausted", &qpaytest.Fault{Service: "OrderQuery", Status: 503, Times: -1}, []string{"--retries", "1"}, 3,
			[]string{"HTTP 503"}},
		{"API key refused", &qpaytest.Fault{Service: "Nonce", Status: 401}, nil, 3, []string{"HTTP 401", "QPAY_KEY_ID"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := qpaytest.NewServer(qpaytest.WithDemoData())
			defer srv.Close()
			srv.InjectFault(*tc.fault)
			r := qpay(t, serverEnv(srv), "", append([]string{"query", "--order-no", "A202110507397"}, tc.args...)...)
			wantCode(t, r, tc.code)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing on failure", r.stdout)
			}
			for _, s := range tc.stderrIn {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			for _, secret := range []string{srv.Keys().A1, srv.Keys().B2} {
				if strings.Contains(r.stderr, secret) {
					t.Errorf("stderr shows a hash key: %s", r.stderr)
				}
			}
		})
	}
}

// Usage errors: nothing is sent, exit 2, and the message names the flag
// or variable and the format it wants.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	full := serverEnv(srv)
	partial := map[string]string{"QPAY_SHOP_NO": "NA0249_001", "QPAY_HASH_A1": qpaytest.DemoKeys.A1, "QPAY_HASH_A2": qpaytest.DemoKeys.A2}
	badKey := serverEnv(srv)
	badKey["QPAY_HASH_B1"] = "not-a-key"
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown flag", full, []string{"query", "--order", "X"}, "unknown flag: --order"},
		{"unknown command", full, []string{"qeury"}, `unknown command "qeury"`},
		{"no condition", full, []string{"query"}, "give at least one condition"},
		{"bad date", full, []string{"query", "--from", "2026/10/01", "--to", "2026-10-31"}, `--from "2026/10/01" is not a date: use 2026-10-01`},
		{"half a range", full, []string{"query", "--from", "2026-10-01"}, "--from needs --to too"},
		{"reversed range", full, []string{"query", "--from", "2026-10-31", "--to", "2026-10-01"}, "is after --to"},
		{"bad pay type", full, []string{"query", "--pay-type", "X"}, "--pay-type must be A (ATM), C (card), M (mobile) or P"},
		{"bad pay flag", full, []string{"query", "--pay-flag", "paid"}, "--pay-flag must be Y"},
		{"all without range", full, []string{"query", "--all", "--pay-type", "A"}, "--all needs a date range"},
		{"bad output", full, []string{"query", "--order-no", "X", "-o", "xml"}, "--output must be table, wide, json, jsonl or csv for qpay query"},
		{"quote in order no", full, []string{"query", "--order-no", "A'1"}, "invalid OrderNo"},
		{"partial credentials", partial, []string{"query", "--order-no", "X"}, "QPAY_HASH_B1, QPAY_HASH_B2 are not set"},
		{"only a base URL", map[string]string{"QPAY_BASE_URL": srv.URL()}, []string{"query", "--order-no", "X"}, "QPAY_SHOP_NO, QPAY_HASH_A1"},
		{"malformed key", badKey, []string{"query", "--order-no", "X"}, "QPAY_HASH_B1 must be 16 hex digits"},
		{"bad sandbox value", map[string]string{"QPAY_SANDBOX": "maybe"}, []string{"query", "--order-no", "X"}, "QPAY_SANDBOX must be 1"},
		{"extra argument", full, []string{"query", "A202110507397"}, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runInProcess(tc.env, "", tc.args...)
			wantCode(t, r, 2)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if !strings.Contains(r.stderr, "--help' for usage") {
				t.Errorf("stderr does not point to --help:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "not-a-key") {
				t.Errorf("stderr echoes a key value: %s", r.stderr)
			}
		})
	}
	if st := srv.Stats(); st.NoncesIssued != 0 {
		t.Errorf("usage errors sent %d requests", st.NoncesIssued)
	}
}

// The binary must fail with 2 too, as a shell sees it.
func TestUsageErrorBinary(t *testing.T) {
	t.Parallel()
	r := qpay(t, nil, "", "query", "--pay-type")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "flag needs an argument: --pay-type") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestHelpListsCommandsAndExitCodes(t *testing.T) {
	t.Parallel()
	r := runInProcess(nil, "", "--help")
	wantCode(t, r, 0)
	for _, want := range []string{"query", "pay-query", "create", "maintain", "bill", "allot",
		"simulator", "decode", "version", "completion", "Exit codes:", "QPAY_HASH_A1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	r = runInProcess(nil, "", "completion", "bash")
	wantCode(t, r, 0)
	if !bytes.Contains([]byte(r.stdout), []byte("__start_qpay")) {
		t.Error("bash completion script missing")
	}
}

// bulkOrders are n paid ATM orders from start, one every step.
func bulkOrders(prefix string, n int, start time.Time, step time.Duration) []sinopac.Order {
	out := make([]sinopac.Order, n)
	for i := range out {
		at := start.Add(time.Duration(i) * step)
		out[i] = sinopac.Order{OrderNo: fmt.Sprintf("%s%05d", prefix, i), TSNo: fmt.Sprintf("TS%s%05d", prefix, i),
			TSDate: sinopac.At(at), PayDate: sinopac.At(at.Add(time.Minute)), Amount: sinopac.TWD(100),
			PayType: sinopac.PayTypeATM, PayStatus: "1A400", RefundFlag: "N"}
	}
	return out
}

// Past the bank's 300: a plain query warns, --all gets every order, and a
// window that cannot be split is reported, not hidden.
func TestQueryPast300(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer()
	defer srv.Close()
	day := time.Date(2026, 9, 15, 0, 0, 0, 0, sinopac.Taipei)
	srv.AddOrders(bulkOrders("B", 450, day, 3*time.Minute)...)
	env := serverEnv(srv)

	r := qpay(t, env, "", "query", "--from", "2026-09-15", "--to", "2026-09-15", "-o", "json")
	wantCode(t, r, 0)
	var v ordersView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if v.Count != 300 || v.Complete || !strings.Contains(r.stderr, "the list may be cut. Use --all") {
		t.Errorf("plain query: count %d complete %v stderr %q", v.Count, v.Complete, r.stderr)
	}

	r = qpay(t, env, "", "query", "--from", "2026-09-15", "--to", "2026-09-15", "--all", "-o", "json")
	wantCode(t, r, 0)
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range v.Orders {
		seen[o.OrderNo] = true
	}
	if v.Count != 450 || len(seen) != 450 || !v.Complete {
		t.Errorf("--all: count %d, %d distinct, complete %v", v.Count, len(seen), v.Complete)
	}
	if r.stderr != "" {
		t.Errorf("--all wrote to a non-terminal stderr: %q", r.stderr)
	}

	// -o jsonl streams the same orders from sinopac.AllOrders, one line each.
	r = qpay(t, env, "", "query", "--from", "2026-09-15", "--to", "2026-09-15", "--all", "-o", "jsonl")
	wantCode(t, r, 0)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	streamed := map[string]bool{}
	for _, l := range lines {
		var o orderJSON
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		streamed[o.OrderNo] = true
	}
	if len(lines) != 450 || len(streamed) != 450 {
		t.Errorf("--all -o jsonl: %d lines, %d distinct, want 450", len(lines), len(streamed))
	}

	// 310 orders in one minute, one PayType, one PayFlag: not listable.
	srv.AddOrders(bulkOrders("S", 310, time.Date(2026, 9, 20, 12, 0, 0, 0, sinopac.Taipei), 0)...)
	r = qpay(t, env, "", "query", "--from", "2026-09-20", "--to", "2026-09-20", "--all", "-o", "csv")
	wantCode(t, r, 1)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(recs) != 301 {
		t.Errorf("saturated --all printed %d records (%v), want the 300 found", len(recs)-1, err)
	}
	if !strings.Contains(r.stderr, "the list is incomplete") || !strings.Contains(r.stderr, "202609201200") {
		t.Errorf("saturated stderr: %s", r.stderr)
	}
	r = qpay(t, env, "", "query", "--from", "2026-09-20", "--to", "2026-09-20", "--all", "-o", "jsonl")
	wantCode(t, r, 1)
	if n := strings.Count(r.stdout, "\n"); n != 300 || !strings.Contains(r.stderr, "the list is incomplete after 300 orders") {
		t.Errorf("saturated --all -o jsonl: %d lines, stderr %s", n, r.stderr)
	}
}

// On a terminal, --all shows its progress on stderr (and clears it); the
// terminal is util-linux's script(1), so the test needs it.
func TestQueryAllProgressOnTerminal(t *testing.T) {
	t.Parallel()
	scriptPath, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed: cannot give qpay a terminal")
	}
	out := filepath.Join(t.TempDir(), "orders.csv")
	cmd := exec.CommandContext(t.Context(), scriptPath, "-q", "-e", "-c",
		qpayBin+" query --from 2026-10-01 --to 2026-10-31 --all -o csv > "+out, "/dev/null")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TERM=xterm"}
	term, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, term)
	}
	if !strings.Contains(string(term), "pages queried") || !strings.Contains(string(term), "200 orders found") {
		t.Errorf("no progress on the terminal: %q", term)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll(); err != nil || len(recs) != 201 {
		t.Errorf("stdout: %d records, %v", len(recs), err)
	}
}

func TestQueryKeysAsFlags(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData(), qpaytest.WithKeyID("key-1"))
	defer srv.Close()
	k := srv.Keys()
	env := map[string]string{"QPAY_BASE_URL": srv.URL(), "QPAY_SHOP_NO": srv.ShopNo(), "QPAY_HASH_A1": k.A1, "QPAY_HASH_A2": "0000000000000000"}
	r := runInProcess(env, "", "query", "--order-no", qpaytest.SeedOrderNo, "-o", "csv",
		"--hash-a2", k.A2, "--hash-b1", k.B1, "--hash-b2", k.B2, "--key-id", "key-1")
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "A202110507397,NA024900000369") || !strings.Contains(r.stderr, "prefer QPAY_HASH_A1") {
		t.Errorf("stdout %s\nstderr %s", r.stdout, r.stderr)
	}
}
