package sinopac

import "fmt"

// Order is one entry of an OrderQuery reply's OrderList (protocol §5).
// Unknown fields are ignored; Client.Call returns a reply's full JSON.
type Order struct {
	OrderNo      string       `json:"OrderNo"`
	TSNo         string       `json:"TSNo"`         // the bank's transaction number
	TSDate       Timestamp    `json:"TSDate"`       // when the order was created
	ApprovedDate Timestamp    `json:"ApprovedDate"` // card authorisation time
	PayDate      Timestamp    `json:"PayDate"`      // when it was paid
	Amount       Amount       `json:"Amount"`
	PayType      PayType      `json:"PayType"`
	PayStatus    PayStatus    `json:"PayStatus"`
	ExpireDate   Timestamp    `json:"ExpireDate"`
	RefundFlag   string       `json:"RefundFlag"` // "Y" if refunded (in part)
	RefundStatus RefundStatus `json:"RefundStatus"`
	RefundDate   Timestamp    `json:"RefundDate"`
	RefundAmount Amount       `json:"RefundAmount"`
	PrdtName     string       `json:"PrdtName"`
	Memo         string       `json:"Memo"`
	Param1       string       `json:"Param1"`
	Param2       string       `json:"Param2"`
	Param3       string       `json:"Param3"`
	ATMParam     *ATMParam    `json:"ATMParam,omitempty"`
	CardParam    *CardParam   `json:"CardParam,omitempty"`
	MobileParam  *MobileParam `json:"MobileParam,omitempty"`
	RefundList   []Refund     `json:"RefundList,omitempty"`
}

// Refunded reports whether the bank flags the order as refunded (in part).
func (o *Order) Refunded() bool { return o.RefundFlag == "Y" }

// ATMParam is a virtual-account order's payment details.
type ATMParam struct {
	AtmPayNo  string `json:"AtmPayNo"` // the virtual account number the customer pays into
	WebAtmURL string `json:"WebAtmURL"`
	OtpURL    string `json:"OtpURL,omitempty"` // removed by the bank in 2024
	BankNo    string `json:"BankNo,omitempty"`
	AcctNo    string `json:"AcctNo,omitempty"`
}

// CardParam is a card order's payment details.
type CardParam struct {
	CardPayURL         string `json:"CardPayURL,omitempty"`
	StagingFirstAmount Amount `json:"StagingFirstAmount,omitempty"`
	StagingEachAmount  Amount `json:"StagingEachAmount,omitempty"`
	BonusCount         Amount `json:"BonusCount,omitempty"` // points, as on the wire
	BonusAmount        Amount `json:"BonusAmount,omitempty"`
	BonusPayAmount     Amount `json:"BonusPayAmount,omitempty"`
	BonusLastCount     Amount `json:"BonusLastCount,omitempty"` // points, as on the wire
	LeftCCNo           string `json:"LeftCCNo,omitempty"`       // first digits of the card
	RightCCNo          string `json:"RightCCNo,omitempty"`      // last digits of the card
	AuthCode           string `json:"AuthCode,omitempty"`
	CCExpDate          string `json:"CCExpDate,omitempty"`
	CCToken            string `json:"CCToken,omitempty"`
}

// MobileParam is a mobile-pay order's payment details.
type MobileParam struct {
	MobilePayURL string `json:"MobilePayURL,omitempty"`
	LeftCCNo     string `json:"LeftCCNo,omitempty"`
	RightCCNo    string `json:"RightCCNo,omitempty"`
	AuthCode     string `json:"AuthCode,omitempty"`
	// Paymenthod is spelled as the bank spells it: A Apple Pay, G Google
	// Pay, S Samsung Pay.
	Paymenthod string `json:"Paymenthod,omitempty"`
}

// Refund is one entry of an order's RefundList.
type Refund struct {
	RefundNo     string       `json:"RefundNo"`
	RefundDate   Timestamp    `json:"RefundDate"`
	RefundAmount Amount       `json:"RefundAmount"`
	RefundStatus RefundStatus `json:"RefundStatus"`
}

// checkOrderAmounts applies the amount rules of an OrderQuery reply (see
// Amount): every order has a positive Amount, every RefundList entry a
// positive RefundAmount, and an order flagged refunded without a
// RefundList (the form before 2025) a positive RefundAmount.
func checkOrderAmounts(service string, list []Order) error {
	for i := range list {
		o := &list[i]
		at := fmt.Sprintf("OrderList[%d].", i)
		if o.Amount <= 0 {
			return amountMissing(service, at+"Amount")
		}
		if o.Refunded() && len(o.RefundList) == 0 && o.RefundAmount <= 0 {
			return amountMissing(service, at+"RefundAmount")
		}
		for j := range o.RefundList {
			if o.RefundList[j].RefundAmount <= 0 {
				return amountMissing(service, fmt.Sprintf("%sRefundList[%d].RefundAmount", at, j))
			}
		}
	}
	return nil
}

// amountMissing is the error of a verified reply whose amount field is
// absent, null, "" or 0 where money must be.
func amountMissing(service, field string) *MessageError {
	return &MessageError{Service: service, Field: field, Reason: "must be present and positive"}
}
