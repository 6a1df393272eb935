package qpaytest

import (
	"errors"
	"slices"
	"testing"

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
