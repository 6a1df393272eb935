package qpaytest

import (
	"net/url"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
)

// orderCreateRequest is OrderCreate as the bank reads it (protocol §7).
type orderCreateRequest struct {
	ShopNo       string
	OrderNo      string
	Amount       sinopac.Amount
	CurrencyID   string
	PayType      string
	PrdtName     string
	Memo         string
	Param1       string
	Param2       string
	Param3       string
	ReturnURL    string
	BackendURL   string
	QRCodeStatus string
	QRCodeSize   int
	ATMParam     *struct{ ExpireDate, ExpireTime string }
	CardParam    *struct {
		AutoBilling    string
		ExpBillingDays int
		ExpMinutes     int
		PayTypeSub     string
		Staging        int
	}
	MobileParam *struct {
		ExpMinutes int
		ChoosePay  string
	}
	WalletParam *struct{ PayTypeSub string }
}

type orderCreateReply struct {
	OrderNo string         `json:"OrderNo"`
	ShopNo  string         `json:"ShopNo"`
	TSNo    string         `json:"TSNo"`
	Amount  sinopac.Amount `json:"Amount"`
	result
	Param1      string               `json:"Param1,omitempty"`
	Param2      string               `json:"Param2,omitempty"`
	Param3      string               `json:"Param3,omitempty"`
	PayType     string               `json:"PayType"`
	QRCodeURL   string               `json:"QRCodeURL,omitempty"`
	ATMParam    *sinopac.ATMParam    `json:"ATMParam,omitempty"`
	CardParam   *sinopac.CardParam   `json:"CardParam,omitempty"`
	MobileParam *sinopac.MobileParam `json:"MobileParam,omitempty"`
	WalletParam *sinopac.WalletParam `json:"WalletParam,omitempty"`
}

// badText applies the bank's rules for free text: at most max bytes, no
// ', " or %.
func badText(v string, max int) bool {
	return len(v) > max || strings.ContainsAny(v, `'"%`)
}

func badURL(v string) bool {
	if v == "" {
		return false
	}
	u, err := url.Parse(v)
	return badText(v, 255) || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == ""
}

// orderCreate is OrderCreate: the request is checked as the bank does
// (E0100 other shop, E0401 amount, E0001 for a missing or malformed field,
// E0302 for an OrderNo already used), then the order is booked waiting for
// payment (x200) with a new TSNo and the payment details the bank would
// give: a virtual account and web-ATM link for A, a payment page for C, P,
// M and W.
func (s *Server) orderCreate(req *request) any {
	var q orderCreateRequest
	if err := req.decode(&q); err != nil {
		return s.fail(req, sinopac.CodeBadFormat)
	}
	if q.ShopNo != s.cfg.shopNo {
		return s.fail(req, sinopac.CodeShopWrong)
	}
	if code, field := s.checkCreate(&q); code != "" {
		return s.failDetail(req, code, field)
	}
	now := s.now()
	pt := sinopac.PayType(q.PayType)
	rec := &record{
		Order: sinopac.Order{
			OrderNo: q.OrderNo, TSNo: s.newTSNo(), TSDate: sinopac.At(now), Amount: q.Amount,
			PayType: pt, PayStatus: sinopac.PayStatus("1" + q.PayType + "200"), RefundFlag: "N",
			PrdtName: q.PrdtName, Memo: q.Memo, Param1: q.Param1, Param2: q.Param2, Param3: q.Param3,
		},
		ReturnURL: q.ReturnURL, BackendURL: q.BackendURL, AutoBilling: true,
	}
	o := &rec.Order
	pg := newCreatePage(o, &q) // the order's payment pages (pages.go)
	page := func(kind string) string { return s.pageURL(kind, o.TSNo, pg.token) }
	rep := orderCreateReply{OrderNo: o.OrderNo, ShopNo: s.cfg.shopNo, TSNo: o.TSNo, Amount: o.Amount,
		result: ok(sinopac.CodeOK), Param1: o.Param1, Param2: o.Param2, Param3: o.Param3, PayType: q.PayType}
	switch pt {
	case sinopac.PayTypeATM:
		exp := q.ATMParam.ExpireDate + "2359"
		if q.ATMParam.ExpireTime != "" {
			exp = q.ATMParam.ExpireDate + q.ATMParam.ExpireTime
		}
		o.ExpireDate, _ = sinopac.ParseTimestamp(exp)
		// 999225 + the TSNo's 8-digit sequence: unique per order.
		o.ATMParam = &sinopac.ATMParam{AtmPayNo: "999225" + o.TSNo[len(o.TSNo)-8:], WebAtmURL: page("PayWebATM")}
		rep.ATMParam = &sinopac.ATMParam{AtmPayNo: o.ATMParam.AtmPayNo, WebAtmURL: o.ATMParam.WebAtmURL}
	case sinopac.PayTypeCard, sinopac.PayTypeCardTrust:
		rec.AutoBilling = q.CardParam.AutoBilling == "Y"
		o.ExpireDate = sinopac.At(now.Add(minutesOr(q.CardParam.ExpMinutes, 10)))
		o.CardParam = &sinopac.CardParam{CardPayURL: page("PayCard")}
		rep.CardParam = &sinopac.CardParam{CardPayURL: o.CardParam.CardPayURL}
	case sinopac.PayTypeMobile:
		exp := 10
		if q.MobileParam != nil {
			exp = q.MobileParam.ExpMinutes
		}
		o.ExpireDate = sinopac.At(now.Add(minutesOr(exp, 10)))
		o.MobileParam = &sinopac.MobileParam{MobilePayURL: page("PayMobile")}
		rep.MobileParam = &sinopac.MobileParam{MobilePayURL: o.MobileParam.MobilePayURL}
	case sinopac.PayTypeWallet:
		o.ExpireDate = sinopac.At(now.Add(10 * time.Minute))
		rep.WalletParam = &sinopac.WalletParam{WalletPayURL: page("PayWallet")}
	}
	if q.QRCodeStatus == "Y" {
		rep.QRCodeURL = page("QRCode")
	}
	if err := s.insertOrder(rec); err != nil {
		return s.fail(req, sinopac.CodeDuplicateOrder)
	}
	s.addPayPage(pg)
	return rep
}

func minutesOr(n, def int) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Minute
}

// checkCreate returns the bank's code and the field for a bad request.
func (s *Server) checkCreate(q *orderCreateRequest) (code sinopac.Code, field string) {
	bad := sinopac.CodeBadFormat
	switch {
	case q.OrderNo == "" || badText(q.OrderNo, 50):
		return bad, "OrderNo"
	case q.Amount <= 0 || q.Amount%100 != 0:
		return sinopac.CodeAmount, "Amount"
	case q.PayType == "A" && q.Amount > sinopac.MaxATMAmount:
		return sinopac.CodeAmount, "Amount"
	case q.CurrencyID != "" && q.CurrencyID != "TWD":
		return bad, "CurrencyID"
	case q.PrdtName == "" || badText(q.PrdtName, 60):
		return bad, "PrdtName"
	case badText(q.Memo, 30):
		return bad, "Memo"
	case badText(q.Param1, 255) || badText(q.Param2, 255) || badText(q.Param3, 255):
		return bad, "Param"
	case badURL(q.ReturnURL):
		return bad, "ReturnURL"
	case badURL(q.BackendURL):
		return bad, "BackendURL"
	case q.QRCodeStatus != "" && q.QRCodeStatus != "Y" && q.QRCodeStatus != "N":
		return bad, "QRCodeStatus"
	case q.QRCodeSize != 0 && (q.QRCodeSize < 350 || q.QRCodeSize > 800):
		return bad, "QRCodeSize"
	}
	switch q.PayType {
	case "A":
		if q.ATMParam == nil {
			return bad, "ATMParam.ExpireDate"
		}
		ts, err := sinopac.ParseTimestamp(q.ATMParam.ExpireDate)
		if err != nil || !ts.DateOnly() {
			return bad, "ATMParam.ExpireDate"
		}
		if t := q.ATMParam.ExpireTime; t != "" {
			if _, err := time.Parse("1504", t); err != nil || len(t) != 4 {
				return bad, "ATMParam.ExpireTime"
			}
		}
	case "C", "P":
		p := q.CardParam
		switch {
		case p == nil || (p.AutoBilling != "Y" && p.AutoBilling != "N"):
			return bad, "CardParam.AutoBilling"
		case p.ExpBillingDays != 0 && (p.ExpBillingDays < 1 || p.ExpBillingDays > 30):
			return bad, "CardParam.ExpBillingDays"
		case p.ExpMinutes != 0 && (p.ExpMinutes < 1 || p.ExpMinutes > 30):
			return bad, "CardParam.ExpMinutes"
		}
		switch p.PayTypeSub {
		case "", "ONE", "STAGING", "BONUS", "CUP", "REGULAR":
		default:
			return bad, "CardParam.PayTypeSub"
		}
	case "M":
		if p := q.MobileParam; p != nil && (p.ExpMinutes < 0 || p.ExpMinutes > 30) {
			return bad, "MobileParam.ExpMinutes"
		}
	case "W":
		if q.WalletParam == nil {
			return bad, "WalletParam.PayTypeSub"
		}
		switch q.WalletParam.PayTypeSub {
		case "Jko", "Line", "Plus", "Px", "IPass":
		default:
			return bad, "WalletParam.PayTypeSub"
		}
	default:
		return bad, "PayType"
	}
	return "", ""
}
