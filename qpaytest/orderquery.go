package qpaytest

import (
	"time"

	"github.com/funbiz-go/sinopac"
)

// orderQueryRequest is the OrderQuery request as the bank reads it.
type orderQueryRequest struct {
	ShopNo         string
	OrderNo        string
	PayType        string
	OrderDateTimeS string
	OrderDateTimeE string
	PayDateTimeS   string
	PayDateTimeE   string
	PayFlag        string
}

type orderQueryReply struct {
	ShopNo string `json:"ShopNo"`
	Date   string `json:"Date"`
	result
	OrderList []sinopac.Order `json:"OrderList,omitempty"`
}

// minuteRange is an inclusive range of Unix minutes; set is false when the
// request gave neither end.
type minuteRange struct {
	set      bool
	from, to int64
}

func (m minuteRange) has(ts sinopac.Timestamp) bool {
	if !m.set {
		return true
	}
	if ts.IsZero() {
		return false
	}
	k := ts.Time().Unix() / 60
	return m.from <= k && k <= m.to
}

// parseRange applies protocol §5's rules to a pair of yyyyMMddHHmm values:
// both or neither (codeBoth), each well formed (codeFormat), S ≤ E
// (codeOrder). It returns the failing code or "".
func parseRange(s, e string, codeFormat, codeBoth, codeOrder sinopac.Code) (minuteRange, sinopac.Code) {
	if s == "" && e == "" {
		return minuteRange{}, ""
	}
	if s == "" || e == "" {
		return minuteRange{}, codeBoth
	}
	ts, ok1 := parseMinute(s)
	te, ok2 := parseMinute(e)
	if !ok1 || !ok2 {
		return minuteRange{}, codeFormat
	}
	if ts > te {
		return minuteRange{}, codeOrder
	}
	return minuteRange{set: true, from: ts, to: te}, ""
}

func parseMinute(v string) (int64, bool) {
	if len(v) != 12 {
		return 0, false
	}
	ts, err := sinopac.ParseTimestamp(v)
	if err != nil {
		return 0, false
	}
	return ts.Time().Unix() / 60, true
}

func wireMinute(t time.Time) string { return t.In(sinopac.Taipei).Format("200601021504") }

// orderQuery is OrderQuery (protocol §5). OrderNo, when given, overrides
// every other condition. Otherwise the conditions combine: PayType, PayFlag
// (Y = x400/x900, O = x250, N = the rest), TSDate and PayDate ranges
// inclusive to the minute. At most 300 orders come back, oldest TSDate
// first (ties by OrderNo); none is S0001.
func (s *Server) orderQuery(req *request) any {
	var q orderQueryRequest
	if err := req.decode(&q); err != nil {
		return s.fail(req, sinopac.CodeBadFormat)
	}
	if q.ShopNo != s.cfg.shopNo {
		return s.fail(req, sinopac.CodeShopWrong)
	}
	var list []sinopac.Order
	if q.OrderNo != "" {
		if r, found := s.lookupOrder(q.OrderNo); found && r.Order.PayType != sinopac.PayTypeWallet {
			if o, shown := s.visible(r.Order, s.now()); shown {
				list = []sinopac.Order{o}
			}
		}
		return s.orderQueryReply(list)
	}
	if q.PayType == "" && q.PayFlag == "" && q.OrderDateTimeS == "" && q.OrderDateTimeE == "" &&
		q.PayDateTimeS == "" && q.PayDateTimeE == "" {
		return s.fail(req, sinopac.CodeNoCondition)
	}
	od, code := parseRange(q.OrderDateTimeS, q.OrderDateTimeE, sinopac.CodeOrderDateFormat, sinopac.CodeOrderDateBoth, sinopac.CodeOrderDateOrder)
	if code != "" {
		return s.fail(req, code)
	}
	// The spec lists the pay-date codes as (E3204, E3203) for the same two
	// rules as (E1903, E1904).
	pd, code := parseRange(q.PayDateTimeS, q.PayDateTimeE, sinopac.CodePayDateFormat, sinopac.CodePayDateBoth, sinopac.CodePayDateOrder)
	if code != "" {
		return s.fail(req, code)
	}
	switch sinopac.PayType(q.PayType) {
	case "", sinopac.PayTypeATM, sinopac.PayTypeCard, sinopac.PayTypeMobile, sinopac.PayTypeCardTrust:
	default:
		return s.fail(req, sinopac.CodeBadFormat)
	}
	switch sinopac.PayFlag(q.PayFlag) {
	case "", sinopac.PayFlagPaid, sinopac.PayFlagUnpaid, sinopac.PayFlagExpired:
	default:
		return s.fail(req, sinopac.CodeBadFormat)
	}
	match := func(r *record) bool {
		o := &r.Order
		return o.PayType != sinopac.PayTypeWallet &&
			(q.PayType == "" || string(o.PayType) == q.PayType) &&
			(q.PayFlag == "" || string(o.PayStatus.Flag()) == q.PayFlag) &&
			pd.has(o.PayDate)
	}

	now := s.now()
	s.mu.Lock()
	idx := s.book.index
	start, end := 0, len(idx)
	if od.set {
		start = s.book.from(od.from)
		end = s.book.from(od.to + 1)
	}
	for i := start; i < end && len(list) < sinopac.MaxOrdersPerQuery; i++ {
		if match(idx[i]) {
			if o, shown := s.visible(cloneOrder(idx[i].Order), now); shown {
				list = append(list, o)
			}
		}
	}
	s.mu.Unlock()
	return s.orderQueryReply(list)
}

func (s *Server) orderQueryReply(list []sinopac.Order) any {
	rep := orderQueryReply{ShopNo: s.cfg.shopNo, Date: wireMinute(s.now()), OrderList: list}
	if len(list) == 0 {
		rep.result = ok(sinopac.CodeNoData)
	} else {
		rep.result = ok(sinopac.CodeOK)
	}
	return rep
}
