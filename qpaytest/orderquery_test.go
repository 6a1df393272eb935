package qpaytest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

func taipei(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, sinopac.Taipei)
}

// The seed order in the demo book is field for field the one in the
// bank's sandbox reply (testdata/qpay-vectors.json).
func TestSeedOrderMatchesVector(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../testdata/qpay-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Seed struct {
			Plaintext string `json:"plaintext"`
		} `json:"seed_orderquery_reply"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var want sinopac.ResponseOrderQuery
	if err := json.Unmarshal([]byte(v.Seed.Plaintext), &want); err != nil || len(want.OrderList) != 1 {
		t.Fatalf("vector: %v", err)
	}
	s := newServer(t, qpaytest.WithDemoData())
	got, err := newClient(t, s).QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.OrderList) != 1 || !reflect.DeepEqual(got.OrderList[0], want.OrderList[0]) {
		t.Fatalf("seed order\n got %+v\nwant %+v", got.OrderList, want.OrderList[0])
	}
	o := got.OrderList[0]
	if o.Amount != 79900 || o.PayStatus != "1A400" || o.ATMParam.AtmPayNo != "99922530175613" ||
		!o.PayDate.Time().Equal(taipei(2021, 10, 1, 22, 45)) || got.Code() != sinopac.CodeOK || got.Description != "S0000 – 處理成功" {
		t.Fatalf("seed order %+v", got)
	}
}

func TestDemoDataDeterministic(t *testing.T) {
	t.Parallel()
	a, b := qpaytest.DemoOrders(), qpaytest.DemoOrders()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("DemoOrders differs between calls")
	}
	if len(a) != 1+qpaytest.DemoMonthOrders {
		t.Fatalf("%d demo orders", len(a))
	}
	kinds := map[string]int{}
	refunded := 0
	oct := sinopac.QueryConditions{OrderDateTimeS: taipei(2026, 10, 1, 0, 0), OrderDateTimeE: taipei(2026, 10, 31, 23, 59)}
	nos := map[string]bool{}
	for _, o := range a[1:] {
		if !oct.Match(&o) {
			t.Fatalf("order %s outside October 2026: %s", o.OrderNo, o.TSDate)
		}
		if nos[o.OrderNo] || strings.TrimSpace(o.OrderNo) == "" {
			t.Fatalf("OrderNo %q duplicated", o.OrderNo)
		}
		nos[o.OrderNo] = true
		if o.Amount <= 0 || o.Amount%100 != 0 {
			t.Fatalf("order %s amount %d", o.OrderNo, o.Amount)
		}
		kinds[string(o.PayType)+string(o.PayStatus.Flag())]++
		if o.Refunded() {
			refunded++
		}
	}
	for _, k := range []string{"AY", "AN", "AO", "CY", "CN", "CO", "MY", "MN", "MO"} {
		if kinds[k] == 0 {
			t.Errorf("no demo order of PayType+PayFlag %s (%v)", k, kinds)
		}
	}
	if refunded != 2 {
		t.Errorf("%d refunded demo orders, want 2", refunded)
	}
}

// expect is what the bank returns for q over all: the matching orders in
// (TSDate, OrderNo) order, at most 300.
func expect(all []sinopac.Order, q sinopac.QueryConditions) []string {
	var out []string
	for i := range all {
		if all[i].PayType != sinopac.PayTypeWallet && match(q, &all[i]) {
			out = append(out, all[i].OrderNo)
			if len(out) == sinopac.MaxOrdersPerQuery {
				break
			}
		}
	}
	return out
}

// match is q.Match without its string formatting (it is called for every
// order of books of 12,000 under the race detector); TestMatchAgrees
// keeps the two equal.
func match(q sinopac.QueryConditions, o *sinopac.Order) bool {
	in := func(ts sinopac.Timestamp, s, e time.Time) bool {
		if s.IsZero() && e.IsZero() {
			return true
		}
		t := ts.Time()
		return !ts.IsZero() && !t.Before(s.Truncate(time.Minute)) && !t.After(e.Truncate(time.Minute))
	}
	return (q.OrderNo == "" || o.OrderNo == q.OrderNo) &&
		(q.PayType == "" || o.PayType == q.PayType) &&
		(q.PayFlag == "" || o.PayStatus.Flag() == q.PayFlag) &&
		in(o.TSDate, q.OrderDateTimeS, q.OrderDateTimeE) && in(o.PayDate, q.PayDateTimeS, q.PayDateTimeE)
}

func TestMatchAgrees(t *testing.T) {
	t.Parallel()
	qs := []sinopac.QueryConditions{
		{OrderDateTimeS: taipei(2026, 10, 7, 0, 0), OrderDateTimeE: taipei(2026, 10, 9, 23, 59).Add(30 * time.Second)},
		{PayFlag: sinopac.PayFlagPaid, PayDateTimeS: taipei(2026, 10, 10, 0, 0), PayDateTimeE: taipei(2026, 10, 16, 23, 59)},
		{PayType: sinopac.PayTypeMobile, PayFlag: sinopac.PayFlagExpired},
	}
	for _, q := range qs {
		for _, o := range qpaytest.DemoOrders() {
			if match(q, &o) != q.Match(&o) {
				t.Fatalf("match and Match differ for %s and %+v", o.OrderNo, q)
			}
		}
	}
}

func orderNos(list []sinopac.Order) []string {
	var out []string
	for _, o := range list {
		out = append(out, o.OrderNo)
	}
	return out
}

func TestOrderQueryConditions(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	c := newClient(t, s)
	all := s.Orders()
	tests := []struct {
		name string
		q    sinopac.QueryConditions
	}{
		{"one day", sinopac.QueryConditions{OrderDateTimeS: taipei(2026, 10, 7, 0, 0), OrderDateTimeE: taipei(2026, 10, 7, 23, 59)}},
		{"October ATM paid", sinopac.QueryConditions{PayType: sinopac.PayTypeATM, PayFlag: sinopac.PayFlagPaid,
			OrderDateTimeS: taipei(2026, 10, 1, 0, 0), OrderDateTimeE: taipei(2026, 10, 31, 23, 59)}},
		{"card unpaid", sinopac.QueryConditions{PayType: sinopac.PayTypeCard, PayFlag: sinopac.PayFlagUnpaid}},
		{"expired", sinopac.QueryConditions{PayFlag: sinopac.PayFlagExpired}},
		{"mobile", sinopac.QueryConditions{PayType: sinopac.PayTypeMobile}},
		{"paid in a week", sinopac.QueryConditions{PayDateTimeS: taipei(2026, 10, 10, 0, 0), PayDateTimeE: taipei(2026, 10, 16, 23, 59)}},
		{"both ranges", sinopac.QueryConditions{OrderDateTimeS: taipei(2026, 10, 1, 0, 0), OrderDateTimeE: taipei(2026, 10, 20, 0, 0),
			PayDateTimeS: taipei(2026, 10, 15, 0, 0), PayDateTimeE: taipei(2026, 10, 31, 0, 0)}},
		{"2021 by range", sinopac.QueryConditions{OrderDateTimeS: taipei(2021, 10, 1, 22, 43), OrderDateTimeE: taipei(2021, 10, 1, 22, 43)}},
		{"card trust", sinopac.QueryConditions{PayType: sinopac.PayTypeCardTrust}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := c.QueryOrders(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			want := expect(all, tt.q)
			if got := orderNos(r.OrderList); !slices.Equal(got, want) {
				t.Fatalf("got %d orders %v\nwant %d %v", len(got), got, len(want), want)
			}
			wantCode := sinopac.CodeOK
			if len(want) == 0 {
				wantCode = sinopac.CodeNoData
			}
			if r.Code() != wantCode {
				t.Fatalf("code %s, want %s", r.Code(), wantCode)
			}
		})
	}
	if n := len(expect(all, tests[1].q)); n < 20 {
		t.Fatalf("only %d ATM paid orders in the demo month: the test is too weak", n)
	}
}

// Ranges include both ends, to the minute; seconds in the bounds are
// dropped by the SDK and ignored by the bank.
func TestOrderQueryRangeInclusive(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for i, m := range []int{0, 1, 2, 3} {
		s.AddOrders(sinopac.Order{OrderNo: fmt.Sprintf("R%d", i), Amount: sinopac.TWD(100), PayType: sinopac.PayTypeCard, PayStatus: "1C400",
			TSDate: sinopac.At(taipei(2026, 10, 1, 10, m)), PayDate: sinopac.At(taipei(2026, 10, 2, 10, m))})
	}
	c := newClient(t, s)
	r, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderDateTimeS: taipei(2026, 10, 1, 10, 1), OrderDateTimeE: taipei(2026, 10, 1, 10, 2).Add(59 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if got := orderNos(r.OrderList); !slices.Equal(got, []string{"R1", "R2"}) {
		t.Fatalf("order range: %v", got)
	}
	r, err = c.QueryOrders(t.Context(), sinopac.QueryConditions{PayDateTimeS: taipei(2026, 10, 2, 10, 3), PayDateTimeE: taipei(2026, 10, 2, 10, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if got := orderNos(r.OrderList); !slices.Equal(got, []string{"R3"}) {
		t.Fatalf("pay range: %v", got)
	}
}

func TestOrderQueryNoData(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	c := newClient(t, s)
	plain, err := c.Call(t.Context(), "OrderQuery", map[string]string{"ShopNo": s.ShopNo(), "OrderDateTimeS": "202001010000", "OrderDateTimeE": "202001312359"})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Status, Description string
		OrderList           []sinopac.Order
	}
	if err := json.Unmarshal(plain, &r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "S" || r.Description != "S0001 – 處理成功，查無資料" || len(r.OrderList) != 0 {
		t.Fatalf("no data reply %s", plain)
	}
	typed, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "NOPE"})
	if err != nil || typed.Code() != sinopac.CodeNoData || typed.OrderList == nil || len(typed.OrderList) != 0 {
		t.Fatalf("unknown OrderNo: %+v %v", typed, err)
	}
}

// OrderNo overrides every other condition at the bank; the SDK filters
// client-side, so the raw reply is checked here.
func TestOrderQueryOrderNoOverrides(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	c := newClient(t, s)
	plain, err := c.Call(t.Context(), "OrderQuery", map[string]string{
		"ShopNo": s.ShopNo(), "OrderNo": qpaytest.SeedOrderNo, "PayType": "C", "PayFlag": "O",
		"OrderDateTimeS": "202601010000", "OrderDateTimeE": "202601010000",
		"PayDateTimeS": "bad", // not even validated
	})
	if err != nil {
		t.Fatal(err)
	}
	var r sinopac.ResponseOrderQuery
	if err := json.Unmarshal(plain, &r); err != nil {
		t.Fatal(err)
	}
	if got := orderNos(r.OrderList); !slices.Equal(got, []string{qpaytest.SeedOrderNo}) {
		t.Fatalf("OrderNo with other conditions: %v", got)
	}
	typed, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo, PayType: sinopac.PayTypeCard})
	if err != nil || len(typed.OrderList) != 0 {
		t.Fatalf("SDK applies PayType to the OrderNo result: %v %v", typed, err)
	}
}

func TestOrderQueryCap300(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var orders []sinopac.Order
	for i := range 1000 {
		// Several orders share each minute; OrderNo breaks the tie.
		orders = append(orders, sinopac.Order{OrderNo: fmt.Sprintf("CAP%04d", 999-i), Amount: sinopac.TWD(100), PayType: sinopac.PayTypeATM, PayStatus: "1A200",
			TSDate: sinopac.At(taipei(2026, 10, 3, 0, 0).Add(time.Duration(i/4) * time.Minute))})
	}
	s.AddOrders(orders...)
	c := newClient(t, s)
	q := sinopac.QueryConditions{OrderDateTimeS: taipei(2026, 10, 3, 0, 0), OrderDateTimeE: taipei(2026, 10, 3, 23, 59)}
	r, err := c.QueryOrders(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.OrderList) != 300 || !r.Truncated() {
		t.Fatalf("%d orders, truncated %v", len(r.OrderList), r.Truncated())
	}
	want := expect(s.Orders(), q)
	if got := orderNos(r.OrderList); !slices.Equal(got, want) {
		t.Fatalf("first page differs:\n got %v\nwant %v", got[:8], want[:8])
	}
	if want[0] != "CAP0996" || want[1] != "CAP0997" { // minute 0 holds 996..999, sorted by OrderNo
		t.Fatalf("tie order %v", want[:4])
	}
	// 299 in range: not truncated.
	q.OrderDateTimeE = taipei(2026, 10, 3, 0, 0).Add(74 * time.Minute)
	if r, err = c.QueryOrders(t.Context(), q); err != nil || len(r.OrderList) != 300 {
		t.Fatalf("75 minutes × 4: %d %v", len(r.OrderList), err)
	}
	q.OrderDateTimeS = q.OrderDateTimeS.Add(time.Minute)
	if r, err = c.QueryOrders(t.Context(), q); err != nil || len(r.OrderList) != 296 || r.Truncated() {
		t.Fatalf("74 minutes × 4: %d %v", len(r.OrderList), err)
	}
}

func TestOrderQueryErrorCodes(t *testing.T) {
	t.Parallel()
	s := newServer(t, qpaytest.WithDemoData())
	c := newClient(t, s)
	tests := []struct {
		name string
		req  map[string]string
		code sinopac.Code
	}{
		{"no condition", map[string]string{}, "E2101"},
		{"order start only", map[string]string{"OrderDateTimeS": "202610010000"}, "E1903"},
		{"order end only", map[string]string{"OrderDateTimeE": "202610010000"}, "E1903"},
		{"order reversed", map[string]string{"OrderDateTimeS": "202610020000", "OrderDateTimeE": "202610010000"}, "E1904"},
		{"order format", map[string]string{"OrderDateTimeS": "2026-10-01", "OrderDateTimeE": "202610010000"}, "E1901"},
		{"order date only", map[string]string{"OrderDateTimeS": "20261001", "OrderDateTimeE": "20261002"}, "E1901"},
		{"order bad month", map[string]string{"OrderDateTimeS": "202613010000", "OrderDateTimeE": "202613010000"}, "E1901"},
		{"pay start only", map[string]string{"PayDateTimeS": "202610010000"}, "E3204"},
		{"pay reversed", map[string]string{"PayDateTimeS": "202610020000", "PayDateTimeE": "202610010000"}, "E3203"},
		{"pay format", map[string]string{"PayDateTimeS": "x", "PayDateTimeE": "202610010000"}, "E3201"},
		{"pay type", map[string]string{"PayType": "X"}, "E0001"},
		{"pay flag", map[string]string{"PayFlag": "y"}, "E0001"},
		{"other shop in message", map[string]string{"ShopNo": "XX0001_001", "PayType": "A"}, "E0100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := map[string]string{"ShopNo": s.ShopNo()}
			for k, v := range tt.req {
				req[k] = v
			}
			_, err := c.Call(t.Context(), "OrderQuery", req)
			var ae *sinopac.APIError
			if !errors.As(err, &ae) || ae.Code != tt.code || ae.Status != "F" || ae.Service != "OrderQuery" {
				t.Fatalf("err %v, want APIError %s", err, tt.code)
			}
		})
	}
}
