package sinopac

import (
	"context"
)

// APType values: what a TSResultContent reports (protocol §6).
const (
	APTypePayOut      = "PayOut"      // a payment (virtual account paid, card authorised or charged)
	APTypeCaptureOut  = "CaptureOut"  // a card capture (請款)
	APTypeRegularOut  = "RegularOut"  // one deduction of a recurring card order
	APTypeRegularEnd  = "RegularEnd"  // a recurring card order ended
	APTypeVARefundOut = "VARefundOut" // a virtual-account refund
	APTypeCardBindOut = "CardBindOut" // a card bound (tokenised)
)

// orderPayQueryService is OrderPayQuery (訊息查詢服務): it changes nothing.
var orderPayQueryService = &service{name: "OrderPayQuery", idempotent: true,
	reply: replyModel{strField("ShopNo"), strField("PayToken"), strField("Date"), strField("Status"), strField("Description")}}

// ResponseOrderPayQuery is a verified OrderPayQuery reply: what the bank
// says a PayToken (from a notification) stands for.
//
// Status and Description are only the query's own result (an error makes
// QueryPayment fail, so they read S here). The transaction's result is in
// TSResultContent: its APType says what happened and its Status whether it
// succeeded. Use Paid, Succeeded and Failed rather than the outer Status.
type ResponseOrderPayQuery struct {
	// ShopNo and PayToken are the shop and token asked about: QueryPayment
	// refuses a reply about another one and fills them in when the bank
	// leaves them out.
	ShopNo          string    `json:"ShopNo"`
	PayToken        string    `json:"PayToken"`
	Date            Timestamp `json:"Date"`
	Status          string    `json:"Status"`
	Description     string    `json:"Description"`
	TSResultContent TSResult  `json:"TSResultContent"`
}

// TSResult is the transaction a PayToken announces (protocol §6).
// Its Amount arrives as a JSON string; Amount decodes both forms.
type TSResult struct {
	APType           string    `json:"APType"` // APTypePayOut, APTypeCaptureOut, …
	TSNo             string    `json:"TSNo"`
	OrderNo          string    `json:"OrderNo"`
	ShopNo           string    `json:"ShopNo"`
	PayType          PayType   `json:"PayType"`
	Amount           Amount    `json:"Amount"`
	Status           string    `json:"Status"` // the transaction's own S or F
	Description      string    `json:"Description"`
	Param1           string    `json:"Param1"`
	Param2           string    `json:"Param2"`
	Param3           string    `json:"Param3"`
	LeftCCNo         string    `json:"LeftCCNo"`  // first digits of the card
	RightCCNo        string    `json:"RightCCNo"` // last digits of the card
	CCExpDate        string    `json:"CCExpDate"`
	CCToken          string    `json:"CCToken"`
	PayDate          Timestamp `json:"PayDate"`
	MasterOrderNo    string    `json:"MasterOrderNo"` // recurring: the first order
	BindNo           string    `json:"BindNo"`
	BindToken        string    `json:"BindToken"`
	CardType         string    `json:"CardType"`
	AuthResponseCode string    `json:"AuthResponseCode"`
	AuthCode         string    `json:"AuthCode"`
	PayTypeSub       string    `json:"PayTypeSub"`
}

// Succeeded reports whether the transaction itself succeeded: the inner
// TSResultContent.Status is S, whatever its APType.
func (r *ResponseOrderPayQuery) Succeeded() bool { return r.TSResultContent.Status == "S" }

// Failed reports a transaction the bank declares failed (inner Status F),
// e.g. a declined card.
func (r *ResponseOrderPayQuery) Failed() bool { return r.TSResultContent.Status == "F" }

// Paid reports a successful payment by the customer: inner Status S and an
// APType of PayOut (a payment) or RegularOut (a recurring deduction). A
// successful capture, refund or card binding is not a payment and gives
// false; check APType for those. Note that for a card order with
// AutoBilling N a PayOut is an authorisation, captured later (CaptureOut).
func (r *ResponseOrderPayQuery) Paid() bool {
	ap := r.TSResultContent.APType
	return r.Succeeded() && (ap == APTypePayOut || ap == APTypeRegularOut)
}

// movesMoney reports an APType whose transaction has an amount: a payment,
// a capture, a recurring deduction or a refund. A recurring order's end and
// a card binding may come without one.
func (t *TSResult) movesMoney() bool {
	switch t.APType {
	case APTypePayOut, APTypeCaptureOut, APTypeRegularOut, APTypeVARefundOut:
		return true
	}
	return false
}

// Code is the result code of the transaction's Description (e.g. "S0000").
func (t *TSResult) Code() Code { c, _ := parseDescription(t.Description); return c }

type orderPayQueryRequest struct {
	ShopNo   string `json:"ShopNo"`
	PayToken string `json:"PayToken"`
}

// QueryPayment asks the bank what payToken stands for (APIService
// OrderPayQuery). An unknown token fails with an *APIError whose Code is
// CodePayTokenInvalid. The reply is signed and verified, unlike the
// notification that delivered the token: act on this, never on the
// notification. Whether the customer paid is TSResultContent, see Paid; a
// result that is not paid may still change (the query can lag a payment).
func (c *Client) QueryPayment(ctx context.Context, payToken string) (*ResponseOrderPayQuery, error) {
	if err := checkPayToken(payToken); err != nil {
		return nil, err
	}
	var r ResponseOrderPayQuery
	if err := c.do(ctx, orderPayQueryService, orderPayQueryRequest{ShopNo: c.shopNo, PayToken: payToken}, &r); err != nil {
		return nil, err
	}
	// A reply about another token or shop is not an answer to this
	// question. The token is the key of everything that follows (Deduper),
	// so it is the one asked about even when the bank leaves it out.
	switch r.PayToken {
	case payToken:
	case "":
		r.PayToken = payToken
	default:
		return nil, &MessageError{Service: "OrderPayQuery", Field: "PayToken", Reason: "is not the token asked about"}
	}
	switch r.ShopNo {
	case c.shopNo:
	case "":
		r.ShopNo = c.shopNo // the shop asked for, as with PayToken
	default:
		return nil, &MessageError{Service: "OrderPayQuery", Field: "ShopNo", Reason: "is not the shop asked for"}
	}
	if s := r.TSResultContent.ShopNo; s != "" && s != c.shopNo {
		return nil, &MessageError{Service: "OrderPayQuery", Reason: "reply is for another shop"}
	}
	if r.TSResultContent.movesMoney() && r.TSResultContent.Amount <= 0 {
		return nil, amountMissing(orderPayQueryService.name, "TSResultContent.Amount")
	}
	return &r, nil
}
