package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// For ASCII text the tableWriter lays out exactly what text/tabwriter
// did (the golden files predate it); it differs only in measuring wide
// characters.
func TestTableWriterMatchesTabwriterOnASCII(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"a\tbb\tccc\n1\t22\t333\n",
		"ORDER NO\tTYPE\tAMOUNT\nA1\tATM\t  NT$1.00\nA22\tcard\tNT$100.00\n\n1 order, NT$1.00 in total\n",
		"k\tv\nlonger key\tvalue\n\nno tabs here\nx\ty\tz\n",
		"a\tb\n\tc\td\te\nf\n",
		"only\n",
		"",
		"trailing\ttab\t\nx\t\t\n",
	}
	for _, in := range inputs {
		var want, got bytes.Buffer
		tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', 0)
		fmt.Fprint(tw, in)
		_ = tw.Flush()
		w := newTableWriter(&got)
		fmt.Fprint(w, in)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("input %q\n got %q\nwant %q", in, got.String(), want.String())
		}
	}
}

// wideOrders are orders with Chinese product names and full-width order
// numbers, the text that text/tabwriter misaligned.
func wideOrders() []sinopac.Order {
	at := func(d, h, m int) sinopac.Timestamp {
		return sinopac.At(time.Date(2026, 11, d, h, m, 0, 0, sinopac.Taipei))
	}
	return []sinopac.Order{
		{OrderNo: "ＱＰ２０２６１１０１", TSNo: "NA0249W0000001", TSDate: at(1, 9, 0), PayDate: at(1, 9, 5), Amount: sinopac.TWD(799),
			PayType: sinopac.PayTypeATM, PayStatus: "1A400", RefundFlag: "N", PrdtName: "虛擬帳號訂單"},
		{OrderNo: "W2", TSNo: "NA0249W0000002", TSDate: at(1, 10, 0), Amount: sinopac.TWD(12345),
			PayType: sinopac.PayTypeCard, PayStatus: "1C200", RefundFlag: "N", PrdtName: "咖啡豆 1kg（衣索比亞）"},
		{OrderNo: "訂單-3", TSNo: "NA0249W0000003", TSDate: at(1, 11, 30), PayDate: at(1, 11, 31), Amount: sinopac.TWD(50),
			PayType: sinopac.PayTypeMobile, PayStatus: "1M400", RefundFlag: "Y", RefundStatus: "2M900", RefundAmount: sinopac.TWD(50),
			PrdtName: "Tea"},
	}
}

// columnStarts gives the display column at which each header label starts.
func columnStarts(header string, labels []string) []int {
	var cols []int
	for _, l := range labels {
		i := strings.Index(header, l)
		cols = append(cols, displayWidth(header[:i]))
	}
	return cols
}

// cellAt reports the runes of line just before and at display column c.
func cellAt(line string, c int) (before, at rune) {
	w := 0
	before, at = ' ', ' '
	for _, r := range line {
		if w == c {
			return before, r
		}
		if w > c {
			return before, 0 // c falls inside a wide rune: misaligned
		}
		before = r
		w += displayWidth(string(r))
	}
	return before, at
}

func TestWideTableAlignsChineseAndFullWidth(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer()
	defer srv.Close()
	srv.AddOrders(wideOrders()...)
	r := qpay(t, serverEnv(srv), "", "query", "--from", "2026-11-01", "--to", "2026-11-01", "-o", "wide")
	wantCode(t, r, 0)
	golden(t, "query-wide.table", r.stdout)

	lines := strings.Split(r.stdout, "\n")
	header := lines[0]
	left := []string{"ORDER NO", "TSNO", "TYPE", "ORDERED", "PAID AT", "EXPIRES", "STATUS", "PRODUCT"}
	cols := columnStarts(header, left)
	for _, line := range lines[1:4] {
		for i, c := range cols {
			before, at := cellAt(line, c)
			if at == ' ' || at == 0 || (c > 0 && before != ' ') {
				t.Errorf("column %s does not start at display column %d in\n%s\n%s", left[i], c, header, line)
			}
		}
		// The amount column is right-aligned: it ends where AMOUNT ends.
		end := displayWidth(header[:strings.Index(header, "AMOUNT")+len("AMOUNT")])
		if before, at := cellAt(line, end); before != '0' || at != ' ' {
			t.Errorf("amount does not end at display column %d in\n%s", end, line)
		}
	}
	for _, want := range []string{"ＱＰ２０２６１１０１", "咖啡豆 1kg（衣索比亞）", "NA0249W0000002", "NT$12345.00"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("wide table lacks %q", want)
		}
	}
	// The plain table has neither the product nor the TSNo.
	r = qpay(t, serverEnv(srv), "", "query", "--from", "2026-11-01", "--to", "2026-11-01")
	wantCode(t, r, 0)
	if strings.Contains(r.stdout, "PRODUCT") || strings.Contains(r.stdout, "咖啡豆") || strings.Contains(r.stdout, "NA0249W0000002") {
		t.Errorf("table shows wide columns:\n%s", r.stdout)
	}
}

func TestNoHeadersJSONLinesAndBOM(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer()
	defer srv.Close()
	srv.AddOrders(wideOrders()...)
	env := serverEnv(srv)
	args := []string{"query", "--from", "2026-11-01", "--to", "2026-11-01"}

	// --no-headers: rows only, for awk and friends.
	r := qpay(t, env, "", append(args, "--no-headers")...)
	wantCode(t, r, 0)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ＱＰ２０２６１１０１") || strings.Contains(r.stdout, "ORDER NO") || strings.Contains(r.stdout, "in total") {
		t.Errorf("--no-headers table:\n%s", r.stdout)
	}
	r = qpay(t, env, "", append(args, "--no-headers", "-o", "csv")...)
	wantCode(t, r, 0)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "ＱＰ２０２６１１０１" {
		t.Errorf("--no-headers csv: %v %v", recs, err)
	}

	// jsonl: one object per line, each an order of the JSON form.
	r = qpay(t, env, "", append(args, "-o", "jsonl")...)
	wantCode(t, r, 0)
	lines = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("jsonl: %d lines:\n%s", len(lines), r.stdout)
	}
	for i, l := range lines {
		var o orderJSON
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil || o.OrderNo != wideOrders()[i].OrderNo || o.Amount != int64(wideOrders()[i].Amount) {
			t.Errorf("line %d: %v %+v", i, err, o)
		}
	}
	// --all gives the same lines.
	r2 := qpay(t, env, "", append(args, "--all", "-o", "jsonl")...)
	wantCode(t, r2, 0)
	if r2.stdout != r.stdout {
		t.Errorf("--all jsonl differs:\n%s\n%s", r2.stdout, r.stdout)
	}
	// A single document is one line.
	r = qpay(t, nil, "", "version", "-o", "jsonl")
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, `{"module":`) {
		t.Errorf("version jsonl: %q", r.stdout)
	}

	// --bom: Excel on zh-TW Windows reads UTF-8 only after a BOM.
	r = qpay(t, env, "", append(args, "-o", "csv", "--bom")...)
	wantCode(t, r, 0)
	if !strings.HasPrefix(r.stdout, "\xef\xbb\xbforder_no,ts_no,") || strings.Count(r.stdout, "\xef\xbb\xbf") != 1 {
		t.Errorf("--bom: %q", r.stdout[:min(40, len(r.stdout))])
	}
	r = qpay(t, env, "", append(args, "-o", "csv")...)
	if strings.HasPrefix(r.stdout, "\xef\xbb\xbf") {
		t.Error("a BOM without --bom")
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"query", "--order-no", "X", "--bom"}, "--bom is for -o csv"},
		{[]string{"query", "--order-no", "X", "-o", "json", "--no-headers"}, "--no-headers is for -o table, wide and csv"},
		{[]string{"reconcile", "track", "--db", "x.db", "-o", "wide"}, "--output must be table, json, csv or jsonl for qpay reconcile track"},
		{[]string{"reconcile", "--db", "x.db", "-o", "csv", "--bom"}, "--bom is for -o csv (and not for qpay reconcile)"},
	} {
		r := runInProcess(env, "", tc.args...)
		wantCode(t, r, 2)
		if !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %s", tc.args, r.stderr)
		}
	}
}

func TestUncaptured(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer()
	defer srv.Close()
	approved := time.Date(2026, 11, 2, 14, 0, 0, 0, sinopac.Taipei)
	srv.AddOrders(
		sinopac.Order{OrderNo: "ＣＡＲＤ０１", TSNo: "NA0249U0000001", TSDate: sinopac.At(approved.Add(-time.Minute)), ApprovedDate: sinopac.At(approved),
			Amount: sinopac.TWD(1200), PayType: sinopac.PayTypeCard, PayStatus: "1C300", RefundFlag: "N", PrdtName: "藍牙耳機"},
		sinopac.Order{OrderNo: "CARD-02", TSNo: "NA0249U0000002", TSDate: sinopac.At(approved), PayDate: sinopac.At(approved),
			Amount: sinopac.TWD(300), PayType: sinopac.PayTypeCard, PayStatus: "1C400", RefundFlag: "N", PrdtName: "已請款"},
	)
	env := serverEnv(srv)
	r := qpay(t, env, "", "uncaptured", "-o", "wide")
	wantCode(t, r, 0)
	golden(t, "uncaptured.table", r.stdout)
	if !strings.Contains(r.stdout, "ＣＡＲＤ０１") || strings.Contains(r.stdout, "CARD-02") || !strings.Contains(r.stdout, "2026-12-02 14:00") {
		t.Errorf("uncaptured:\n%s", r.stdout)
	}
	r = qpay(t, env, "", "uncaptured", "--order-no", "ＣＡＲＤ０１", "-o", "json")
	wantCode(t, r, 0)
	var v uncapturedView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Count != 1 || v.Orders[0].Amount != 120000 ||
		v.Orders[0].CaptureBy == nil || *v.Orders[0].CaptureBy != "2026-12-02T14:00:00+08:00" || v.Orders[0].Product != "藍牙耳機" {
		t.Errorf("json: %v %+v", err, v)
	}
	// Captured already: not uncaptured, exit 5.
	r = qpay(t, env, "", "uncaptured", "--order-no", "CARD-02")
	wantCode(t, r, 5)
	if !strings.Contains(r.stderr, "the bank has no uncaptured order CARD-02") {
		t.Errorf("captured order: %s", r.stderr)
	}
	if srv.Stats().Requests["OrderUnCapturedQuery"] != 3 {
		t.Errorf("requests %v", srv.Stats().Requests)
	}
}
