package qpaytest

import (
	"strconv"

	"github.com/funbiz-go/sinopac"
)

type orderPayQueryRequest struct {
	ShopNo   string
	PayToken string
}

// tsResult is TSResultContent (protocol §6). Amount is a JSON string, as
// the bank sends it.
type tsResult struct {
	APType           string `json:"APType"`
	TSNo             string `json:"TSNo"`
	OrderNo          string `json:"OrderNo"`
	ShopNo           string `json:"ShopNo"`
	PayType          string `json:"PayType"`
	Amount           string `json:"Amount"`
	Status           string `json:"Status"`
	Description      string `json:"Description"`
	Param1           string `json:"Param1"`
	Param2           string `json:"Param2"`
	Param3           string `json:"Param3"`
	LeftCCNo         string `json:"LeftCCNo"`
	RightCCNo        string `json:"RightCCNo"`
	CCExpDate        string `json:"CCExpDate"`
	CCToken          string `json:"CCToken"`
	PayDate          string `json:"PayDate"`
	MasterOrderNo    string `json:"MasterOrderNo"`
	BindNo           string `json:"BindNo"`
	BindToken        string `json:"BindToken"`
	CardType         string `json:"CardType"`
	AuthResponseCode string `json:"AuthResponseCode"`
	AuthCode         string `json:"AuthCode"`
	PayTypeSub       string `json:"PayTypeSub"`
}

type orderPayQueryReply struct {
	ShopNo   string `json:"ShopNo"`
	PayToken string `json:"PayToken"`
	Date     string `json:"Date"`
	result
	TSResultContent *tsResult `json:"TSResultContent,omitempty"`
}

// orderPayQuery is OrderPayQuery (protocol §6): the result behind a
// notification's PayToken, built from the order's state now. The outer
// Status is the call's; TSResultContent.Status says whether the
// transaction of kind APType succeeded. An unknown token is E2501.
func (s *Server) orderPayQuery(req *request) any {
	var q orderPayQueryRequest
	if err := req.decode(&q); err != nil {
		return s.fail(req, sinopac.CodeBadFormat)
	}
	if q.ShopNo != s.cfg.shopNo {
		return s.fail(req, sinopac.CodeShopWrong)
	}
	s.mu.Lock()
	tok, found := s.tokens[q.PayToken]
	s.mu.Unlock()
	if q.PayToken == "" || !found {
		return s.fail(req, sinopac.CodePayTokenInvalid)
	}
	rec, found := s.lookupOrder(tok.orderNo)
	if !found {
		return s.fail(req, sinopac.CodePayTokenInvalid)
	}
	o := &rec.Order
	res := &tsResult{
		APType:  tok.apType,
		TSNo:    o.TSNo,
		OrderNo: o.OrderNo,
		ShopNo:  s.cfg.shopNo,
		PayType: string(o.PayType),
		Amount:  strconv.FormatInt(int64(o.Amount), 10),
		Param1:  o.Param1,
		Param2:  o.Param2,
		Param3:  o.Param3,
		PayDate: o.PayDate.String(),
	}
	if c := o.CardParam; c != nil {
		res.LeftCCNo, res.RightCCNo, res.CCExpDate, res.CCToken, res.AuthCode = c.LeftCCNo, c.RightCCNo, c.CCExpDate, c.CCToken, c.AuthCode
		res.PayTypeSub = "ONE"
		if c.AuthCode != "" {
			res.AuthResponseCode = "00"
		}
	}
	if m := o.MobileParam; m != nil {
		res.LeftCCNo, res.RightCCNo, res.AuthCode = m.LeftCCNo, m.RightCCNo, m.AuthCode
	}
	if sub := s.pageCardSub(o.TSNo); sub != "" && o.CardParam != nil {
		res.PayTypeSub = sub
	}
	if tok.declined != nil {
		tok.declined.apply(res)
		return orderPayQueryReply{
			ShopNo: s.cfg.shopNo, PayToken: q.PayToken, Date: wireMinute(s.now()),
			result: ok(sinopac.CodeOK), TSResultContent: res,
		}
	}
	var done bool
	switch tok.apType {
	case "PayOut", "RegularOut":
		done = o.PayStatus.Paid() || o.PayStatus.Authorized()
	case "CaptureOut":
		done = o.PayStatus.Paid()
	case "VARefundOut":
		done = o.Refunded()
	default:
		done = true
	}
	if done {
		res.Status, res.Description = "S", description(sinopac.CodeOK)
	} else {
		// The bank publishes no code for "not (yet) paid"; the text says it.
		res.Status, res.Description = "F", "交易未完成 ("+string(o.PayStatus)+")"
	}
	return orderPayQueryReply{
		ShopNo: s.cfg.shopNo, PayToken: q.PayToken, Date: wireMinute(s.now()),
		result: ok(sinopac.CodeOK), TSResultContent: res,
	}
}
