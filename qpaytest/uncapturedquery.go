package qpaytest

import (
	"time"

	"github.com/funbiz-go/sinopac"
)

type unCapturedOrder struct {
	OrderNo        string            `json:"OrderNo"`
	TSNo           string            `json:"TSNo"`
	TSDate         sinopac.Timestamp `json:"TSDate"`
	ApprovedDate   sinopac.Timestamp `json:"ApprovedDate"`
	ExpireDate     sinopac.Timestamp `json:"ExpireDate"`
	Amount         sinopac.Amount    `json:"Amount"`
	PayType        sinopac.PayType   `json:"PayType"`
	PrdtName       string            `json:"PrdtName"`
	Memo           string            `json:"Memo"`
	PayStatus      sinopac.PayStatus `json:"PayStatus"`
	AuthExpireDate sinopac.Timestamp `json:"AuthExpireDate"`
}

type unCapturedReply struct {
	ShopNo string `json:"ShopNo"`
	Date   string `json:"Date"`
	result
	OrderList []unCapturedOrder `json:"OrderList,omitempty"`
}

// AuthValidity is how long the simulator keeps a card authorisation
// capturable: AuthExpireDate is ApprovedDate plus this.
const AuthValidity = 30 * 24 * time.Hour

// orderUnCapturedQuery is OrderUnCapturedQuery (protocol §7): the card
// orders authorised and not captured (x300), or only OrderNo when given.
// None is S0001.
func (s *Server) orderUnCapturedQuery(req *request) any {
	var q struct{ ShopNo, OrderNo string }
	if err := req.decode(&q); err != nil {
		return s.fail(req, sinopac.CodeBadFormat)
	}
	if q.ShopNo != s.cfg.shopNo {
		return s.fail(req, sinopac.CodeShopWrong)
	}
	var list []unCapturedOrder
	s.mu.Lock()
	for _, r := range s.book.index {
		o := &r.Order
		if !o.PayStatus.Authorized() || (q.OrderNo != "" && o.OrderNo != q.OrderNo) {
			continue
		}
		list = append(list, unCapturedOrder{
			OrderNo: o.OrderNo, TSNo: o.TSNo, TSDate: o.TSDate, ApprovedDate: o.ApprovedDate,
			ExpireDate: o.ExpireDate, Amount: o.Amount, PayType: o.PayType, PrdtName: o.PrdtName,
			Memo: o.Memo, PayStatus: o.PayStatus, AuthExpireDate: sinopac.At(o.ApprovedDate.Time().Add(AuthValidity)),
		})
	}
	s.mu.Unlock()
	rep := unCapturedReply{ShopNo: s.cfg.shopNo, Date: wireMinute(s.now()), result: ok(sinopac.CodeOK), OrderList: list}
	if len(list) == 0 {
		rep.result = ok(sinopac.CodeNoData)
	}
	return rep
}
