package qpaytest

import (
	"time"

	"github.com/funbiz-go/sinopac"
)

type billReply struct {
	ShopNo string `json:"ShopNo"`
	Date   string `json:"Date"`
	result
	BillDate  string             `json:"BillDate"`
	OrderList []sinopac.BillItem `json:"OrderList,omitempty"`
}

// billQuery is BillQuery (protocol §7): the statement of BillDate
// (yyyyMMdd, 1 to 30 days before the server's today in Taipei, else
// E0001): a P line for each order paid that day and an R line for each
// refund made that day. None is S0001.
func (s *Server) billQuery(req *request) any {
	var q struct{ ShopNo, BillDate string }
	if err := req.decode(&q); err != nil {
		return s.fail(req, sinopac.CodeBadFormat)
	}
	if q.ShopNo != s.cfg.shopNo {
		return s.fail(req, sinopac.CodeShopWrong)
	}
	day, err := sinopac.ParseTimestamp(q.BillDate)
	if err != nil || !day.DateOnly() {
		return s.failDetail(req, sinopac.CodeBadFormat, "BillDate")
	}
	today := sinopac.Date(s.now()).Time()
	if d := today.Sub(day.Time()); d < 24*time.Hour || d > 30*24*time.Hour {
		return s.failDetail(req, sinopac.CodeBadFormat, "BillDate")
	}
	sameDay := func(ts sinopac.Timestamp) bool { return !ts.IsZero() && sinopac.Date(ts.Time()).Equal(day) }
	var list []sinopac.BillItem
	s.mu.Lock()
	for _, r := range s.book.index {
		o := &r.Order
		if (o.PayStatus.Paid() || o.Refunded()) && sameDay(o.PayDate) {
			list = append(list, sinopac.BillItem{TSNo: o.TSNo, OrderNo: o.OrderNo, TSType: "P", TSDate: o.TSDate,
				PayDate: o.PayDate, PayType: o.PayType, Amount: o.Amount, Param1: o.Param1, Param2: o.Param2, Param3: o.Param3})
		}
		for _, rf := range o.RefundList {
			if sameDay(rf.RefundDate) && !rf.RefundStatus.Failed() {
				list = append(list, sinopac.BillItem{TSNo: o.TSNo, OrderNo: o.OrderNo, TSType: "R", TSDate: o.TSDate,
					PayDate: rf.RefundDate, PayType: o.PayType, Amount: rf.RefundAmount, Param1: o.Param1, Param2: o.Param2, Param3: o.Param3})
			}
		}
	}
	s.mu.Unlock()
	rep := billReply{ShopNo: s.cfg.shopNo, Date: wireMinute(s.now()), result: ok(sinopac.CodeOK), BillDate: q.BillDate, OrderList: list}
	if len(list) == 0 {
		rep.result = ok(sinopac.CodeNoData)
	}
	return rep
}
