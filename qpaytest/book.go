package qpaytest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
)

// record is the simulator's view of an order: what OrderQuery returns plus
// what only the bank knows (callback URLs, card capture mode, tokens).
type record struct {
	Order       sinopac.Order
	ReturnURL   string   // browser callback (card orders get a form POST)
	BackendURL  string   // server-to-server JSON notification
	AutoBilling bool     // card orders: capture on payment (1C400) or only authorise (1C300)
	PayTokens   []string // tokens issued for this order, oldest first
	// RefundTokens maps a virtual-account refund's RefundToken to when it
	// was issued (the second OrderMaintain call must come within 120 s).
	RefundTokens map[string]time.Time

	key int64 // index key: TSDate in Unix minutes; fixed while indexed
}

func (r *record) clone() record {
	c := *r
	c.Order = cloneOrder(r.Order)
	c.PayTokens = slices.Clone(r.PayTokens)
	if r.RefundTokens != nil {
		c.RefundTokens = make(map[string]time.Time, len(r.RefundTokens))
		for k, v := range r.RefundTokens {
			c.RefundTokens[k] = v
		}
	}
	return c
}

// cloneOrder deep-copies the pointer and slice fields, so that no caller
// shares memory with the book.
func cloneOrder(o sinopac.Order) sinopac.Order {
	if o.ATMParam != nil {
		p := *o.ATMParam
		o.ATMParam = &p
	}
	if o.CardParam != nil {
		p := *o.CardParam
		o.CardParam = &p
	}
	if o.MobileParam != nil {
		p := *o.MobileParam
		o.MobileParam = &p
	}
	o.RefundList = slices.Clone(o.RefundList)
	return o
}

func tsKey(ts sinopac.Timestamp) int64 {
	if ts.IsZero() {
		return -1 << 62
	}
	return ts.Time().Unix() / 60
}

// orderBook holds the records by OrderNo and an index sorted by (TSDate,
// OrderNo), kept sorted on insert so that queries never sort. Guarded by
// Server.mu.
type orderBook struct {
	byNo  map[string]*record
	index []*record
}

func newOrderBook() orderBook { return orderBook{byNo: make(map[string]*record)} }

func recLess(a, b *record) int {
	if c := cmp.Compare(a.key, b.key); c != 0 {
		return c
	}
	return strings.Compare(a.Order.OrderNo, b.Order.OrderNo)
}

// put inserts or replaces r (by OrderNo).
func (b *orderBook) put(r *record) {
	r.key = tsKey(r.Order.TSDate)
	if old, ok := b.byNo[r.Order.OrderNo]; ok {
		b.remove(old)
	}
	b.byNo[r.Order.OrderNo] = r
	n := len(b.index)
	if n == 0 || recLess(b.index[n-1], r) < 0 { // the usual case: newest order
		b.index = append(b.index, r)
		return
	}
	i, _ := slices.BinarySearchFunc(b.index, r, recLess)
	b.index = slices.Insert(b.index, i, r)
}

func (b *orderBook) remove(r *record) {
	if i, found := slices.BinarySearchFunc(b.index, r, recLess); found {
		b.index = slices.Delete(b.index, i, i+1)
	}
	delete(b.byNo, r.Order.OrderNo)
}

// putMany inserts many records with one sort. A record replaces the one
// with its OrderNo in the book, and a later one in rs an earlier one.
func (b *orderBook) putMany(rs []*record) {
	batch := make(map[string]*record, len(rs))
	replacing := false
	for _, r := range rs {
		r.key = tsKey(r.Order.TSDate)
		batch[r.Order.OrderNo] = r
		if _, ok := b.byNo[r.Order.OrderNo]; ok {
			replacing = true
		}
	}
	if replacing {
		b.index = slices.DeleteFunc(b.index, func(r *record) bool { return batch[r.Order.OrderNo] != nil })
	}
	for _, r := range rs {
		if batch[r.Order.OrderNo] == r {
			b.byNo[r.Order.OrderNo] = r
			b.index = append(b.index, r)
		}
	}
	slices.SortFunc(b.index, recLess)
}

// from returns the position of the first record with key ≥ k.
func (b *orderBook) from(k int64) int {
	i, _ := slices.BinarySearchFunc(b.index, k, func(r *record, k int64) int { return cmp.Compare(r.key, k) })
	return i
}

// errDuplicateOrder is returned by insertOrder for an OrderNo in the book
// (the bank's E0302).
var errDuplicateOrder = errors.New("qpaytest: duplicate OrderNo")

// errUnknownOrder is returned for an OrderNo not in the book (E2601).
var errUnknownOrder = errors.New("qpaytest: no such order")

// AddOrders puts orders into the book as they are (an order with the
// OrderNo of one already there replaces it). They have no callback URLs
// (see SetCallbackURLs); card orders capture on payment (AutoBilling Y).
// With WithAutoPay, virtual-account orders still pending are scheduled.
func (s *Server) AddOrders(orders ...sinopac.Order) {
	rs := make([]*record, len(orders))
	for i, o := range orders {
		rs[i] = &record{Order: cloneOrder(o), AutoBilling: true}
	}
	s.mu.Lock()
	if len(rs) > 16 {
		s.book.putMany(rs)
	} else {
		for _, r := range rs {
			s.book.put(r)
		}
	}
	for _, r := range rs {
		if s.book.byNo[r.Order.OrderNo] == r { // not replaced by a later one
			s.scheduleLocked(r)
		}
	}
	s.mu.Unlock()
}

// Order returns a copy of the order with orderNo.
func (s *Server) Order(orderNo string) (sinopac.Order, bool) {
	r, ok := s.lookupOrder(orderNo)
	return r.Order, ok
}

// Orders returns a copy of every order, sorted by TSDate then OrderNo.
func (s *Server) Orders() []sinopac.Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]sinopac.Order, len(s.book.index))
	for i, r := range s.book.index {
		out[i] = cloneOrder(r.Order)
	}
	return out
}

// SetCallbackURLs sets where Pay notifies for orderNo: backendURL gets the
// bank's JSON POST, returnURL (card orders) the browser's form POST. An
// empty URL is not called.
func (s *Server) SetCallbackURLs(orderNo, returnURL, backendURL string) error {
	_, err := s.updateOrder(orderNo, func(r *record) error {
		r.ReturnURL, r.BackendURL = returnURL, backendURL
		return nil
	})
	return err
}

// SetAutoBilling sets whether a card order is captured on payment (true,
// the default: Pay gives 1C400) or only authorised (1C300).
func (s *Server) SetAutoBilling(orderNo string, auto bool) error {
	_, err := s.updateOrder(orderNo, func(r *record) error {
		r.AutoBilling = auto
		return nil
	})
	return err
}

// lookupOrder returns a copy of the record of orderNo.
func (s *Server) lookupOrder(orderNo string) (record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.book.byNo[orderNo]
	if !ok {
		return record{}, false
	}
	return r.clone(), true
}

// insertOrder adds a new record (errDuplicateOrder if its OrderNo is
// taken) and schedules it for WithAutoPay. The book keeps rec itself.
func (s *Server) insertOrder(rec *record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.book.byNo[rec.Order.OrderNo]; dup {
		return errDuplicateOrder
	}
	s.book.put(rec)
	s.scheduleLocked(rec)
	return nil
}

// updateOrder runs fn on the record of orderNo under the lock and returns
// a copy of the result. fn must not block or do I/O; if it returns an
// error the record is left as it was. A changed TSDate is re-indexed.
func (s *Server) updateOrder(orderNo string, fn func(r *record) error) (record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.book.byNo[orderNo]
	if !ok {
		return record{}, errUnknownOrder
	}
	work := r.clone()
	if err := fn(&work); err != nil {
		return record{}, err
	}
	work.Order.OrderNo = orderNo
	nr := &work
	if tsKey(work.Order.TSDate) != r.key {
		s.book.put(nr)
	} else {
		nr.key = r.key
		*r = *nr
		nr = r
	}
	return nr.clone(), nil
}

// newTSNo returns a new bank transaction number: the shop's code without
// the branch suffix and 8 digits, e.g. NA024900000371.
func (s *Server) newTSNo() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tsSeq++
	prefix, _, _ := strings.Cut(s.cfg.shopNo, "_")
	return fmt.Sprintf("%s%08d", prefix, 1000000+s.tsSeq)
}
