package qpaytest

import (
	"fmt"
	"time"

	"github.com/funbiz-go/sinopac"
)

type allotReply struct {
	ShopNo string `json:"ShopNo"`
	Date   string `json:"Date"`
	result
	Allot []sinopac.Allot `json:"Allot,omitempty"`
}

// AllotFeePercent is the simulator's fee on payments, in percent, rounded
// to whole NT$ per transaction.
const AllotFeePercent = 2

// DemoAllotAccount is the shop account the simulator pays out to.
const DemoAllotAccount = "01700100003411"

// allotQuery is AllotQuery (protocol §7). The simulator pays out day D
// the payments (P) and refunds (R) of PayType booked on day D-1 (Taipei),
// for each D from AllotDateS to AllotDateE; D must not be after the
// server's today. AllotDateS/E are yyyyMMdd (E0001 if malformed, missing
// or reversed); PayType is required (E0001). Items use the bank's "TSNO"
// and "OrderNO" keys (sinopac.AllotItem). None is S0001.
func (s *Server) allotQuery(req *request) any {
	var q struct{ ShopNo, AllotDateS, AllotDateE, PayType string }
	if err := req.decode(&q); err != nil {
		return s.fail(req, sinopac.CodeBadFormat)
	}
	if q.ShopNo != s.cfg.shopNo {
		return s.fail(req, sinopac.CodeShopWrong)
	}
	from, err1 := sinopac.ParseTimestamp(q.AllotDateS)
	to, err2 := sinopac.ParseTimestamp(q.AllotDateE)
	switch {
	case err1 != nil || !from.DateOnly():
		return s.failDetail(req, sinopac.CodeBadFormat, "AllotDateS")
	case err2 != nil || !to.DateOnly() || to.Time().Before(from.Time()):
		return s.failDetail(req, sinopac.CodeBadFormat, "AllotDateE")
	}
	switch sinopac.PayType(q.PayType) {
	case sinopac.PayTypeATM, sinopac.PayTypeCard, sinopac.PayTypeMobile, sinopac.PayTypeCardTrust, sinopac.PayTypeWallet:
	default:
		return s.failDetail(req, sinopac.CodeBadFormat, "PayType")
	}
	today := sinopac.Date(s.now()).Time()
	var allots []sinopac.Allot
	s.mu.Lock()
	for d := from.Time(); !d.After(to.Time()) && !d.After(today); d = d.AddDate(0, 0, 1) {
		booked := sinopac.Date(d.Add(-12 * time.Hour)) // the day before, in Taipei
		a := sinopac.Allot{AllotNo: fmt.Sprintf("AL%s%s", d.Format("20060102"), q.PayType), AllotDate: sinopac.Date(d),
			PayType: sinopac.PayType(q.PayType), Account: DemoAllotAccount}
		for _, r := range s.book.index {
			o := &r.Order
			if string(o.PayType) != q.PayType {
				continue
			}
			if !o.PayDate.IsZero() && sinopac.Date(o.PayDate.Time()).Equal(booked) && (o.PayStatus.Paid() || o.Refunded()) {
				fee := (o.Amount*AllotFeePercent/100 + 50) / 100 * 100
				a.List = append(a.List, sinopac.AllotItem{TSNo: o.TSNo, OrderNo: o.OrderNo, PayDate: o.PayDate, Amount: o.Amount, Fee: fee, TSType: "P"})
				a.PayAmount += o.Amount
				a.FeeAmount += fee
			}
			for _, rf := range o.RefundList {
				if !rf.RefundDate.IsZero() && sinopac.Date(rf.RefundDate.Time()).Equal(booked) && !rf.RefundStatus.Failed() {
					a.List = append(a.List, sinopac.AllotItem{TSNo: o.TSNo, OrderNo: o.OrderNo, PayDate: rf.RefundDate, Amount: rf.RefundAmount, TSType: "R"})
					a.RefundAmount += rf.RefundAmount
				}
			}
		}
		if len(a.List) > 0 {
			a.AllotAmount = a.PayAmount - a.RefundAmount - a.FeeAmount + a.ExtAllotAmount
			allots = append(allots, a)
		}
	}
	s.mu.Unlock()
	rep := allotReply{ShopNo: s.cfg.shopNo, Date: wireMinute(s.now()), result: ok(sinopac.CodeOK), Allot: allots}
	if len(allots) == 0 {
		rep.result = ok(sinopac.CodeNoData)
	}
	return rep
}
