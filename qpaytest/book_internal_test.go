package qpaytest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
)

func TestBookHelpers(t *testing.T) {
	s := NewServer()
	defer s.Close()
	at := func(v string) sinopac.Timestamp { return mustTS(v) }

	if got := s.newTSNo(); got != "NA024901000001" {
		t.Fatalf("newTSNo = %q", got)
	}
	if got := s.newTSNo(); got != "NA024901000002" {
		t.Fatalf("second newTSNo = %q", got)
	}
	for _, o := range []sinopac.Order{
		{OrderNo: "B", TSDate: at("202610020000")},
		{OrderNo: "A", TSDate: at("202610020000")},
		{OrderNo: "C", TSDate: at("202610010000")},
	} {
		if err := s.insertOrder(&record{Order: o, AutoBilling: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.insertOrder(&record{Order: sinopac.Order{OrderNo: "A"}}); !errors.Is(err, errDuplicateOrder) {
		t.Fatalf("duplicate insert: %v", err)
	}
	order := func() []string {
		var no []string
		for _, o := range s.Orders() {
			no = append(no, o.OrderNo)
		}
		return no
	}
	if got := order(); !slices.Equal(got, []string{"C", "A", "B"}) {
		t.Fatalf("index order %v", got)
	}
	// A changed TSDate is re-indexed.
	rec, err := s.updateOrder("C", func(r *record) error { r.Order.TSDate = at("202610030000"); return nil })
	if err != nil || rec.Order.TSDate.String() != "202610030000" {
		t.Fatalf("updateOrder: %v %v", rec.Order.TSDate, err)
	}
	if got := order(); !slices.Equal(got, []string{"A", "B", "C"}) {
		t.Fatalf("index order after update %v", got)
	}
	// A failing update changes nothing; copies do not alias the book.
	boom := errors.New("boom")
	if _, err := s.updateOrder("A", func(r *record) error { r.Order.Amount = 1; return boom }); err != boom {
		t.Fatalf("updateOrder error = %v", err)
	}
	r, _ := s.lookupOrder("A")
	if r.Order.Amount != 0 {
		t.Fatal("failed update leaked into the book")
	}
	if _, err := s.updateOrder("nope", func(*record) error { return nil }); !errors.Is(err, errUnknownOrder) {
		t.Fatalf("unknown order: %v", err)
	}
}

// Replacing orders, in small and large batches, keeps one record per
// OrderNo and a sorted index.
func TestAddOrdersReplaces(t *testing.T) {
	s := NewServer()
	defer s.Close()
	mk := func(no string, minute int, amt sinopac.Amount) sinopac.Order {
		return sinopac.Order{OrderNo: no, Amount: amt, TSDate: sinopac.At(time.Date(2026, 10, 1, 0, minute, 0, 0, sinopac.Taipei))}
	}
	var batch []sinopac.Order
	for i := range 30 {
		batch = append(batch, mk(fmt.Sprintf("O%02d", i), 30+i, 100))
	}
	s.AddOrders(batch...)
	// Large batch: 20 replacements earlier than every indexed order, one
	// OrderNo twice.
	batch = batch[:0]
	for i := range 20 {
		batch = append(batch, mk(fmt.Sprintf("O%02d", i), 19-i, 200))
	}
	batch = append(batch, mk("O05", 60, 300))
	s.AddOrders(batch...)
	// Small batch.
	s.AddOrders(mk("O25", -1, 400), mk("NEW", 1, 500))

	all := s.Orders()
	if len(all) != 31 || len(s.book.byNo) != 31 || len(s.book.index) != 31 {
		t.Fatalf("%d orders, %d by number, %d indexed", len(all), len(s.book.byNo), len(s.book.index))
	}
	if !slices.IsSortedFunc(s.book.index, recLess) {
		t.Fatal("index not sorted")
	}
	want := map[string]sinopac.Amount{"O05": 300, "O00": 200, "O19": 200, "O20": 100, "O25": 400, "NEW": 500}
	for no, amt := range want {
		if o, ok := s.Order(no); !ok || o.Amount != amt {
			t.Fatalf("%s: %v %v, want amount %d", no, o.Amount, ok, amt)
		}
	}
	if all[0].OrderNo != "O25" || all[30].OrderNo != "O05" {
		t.Fatalf("first %s last %s", all[0].OrderNo, all[30].OrderNo)
	}
}

func TestNonceBoundToIP(t *testing.T) {
	s := NewServer()
	defer s.Close()
	n := s.issueNonce("10.0.0.1")
	if code := s.useNonce(n, "10.0.0.2"); code != sinopac.CodeNonceError {
		t.Fatalf("from another IP: %q", code)
	}
	if code := s.useNonce(n, "10.0.0.1"); code != "" {
		t.Fatalf("from its IP: %q", code)
	}
	if code := s.useNonce(n, "10.0.0.1"); code != sinopac.CodeNonceInvalid {
		t.Fatalf("again: %q", code)
	}
	if code := s.useNonce(s.replyNonce(), "10.0.0.1"); code != sinopac.CodeNonceError {
		t.Fatalf("a reply nonce: %q", code)
	}
	if st := s.Stats(); st.NoncesIssued != 1 || st.NoncesReused != 1 {
		t.Fatalf("stats %+v", st)
	}
}
