package sinopac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// allotQueryService is AllotQuery (撥款): it changes nothing.
var allotQueryService = &service{name: "AllotQuery", idempotent: true,
	reply: replyModel{strField("ShopNo"), strField("Date"), strField("Status"), strField("Description")}}

// AllotQuery asks for the bank's payouts to the shop (撥款) between two
// Taipei dates, inclusive, for one PayType.
type AllotQuery struct {
	AllotDateS, AllotDateE time.Time // both required; S not after E
	PayType                PayType   // required
}

// ResponseAllotQuery is a verified AllotQuery reply.
type ResponseAllotQuery struct {
	ShopNo      string    `json:"ShopNo"`
	Date        Timestamp `json:"Date"`
	Status      string    `json:"Status"`
	Description string    `json:"Description"`
	Allot       []Allot   `json:"Allot"`
}

// Allot is one payout.
type Allot struct {
	AllotNo        string      `json:"AllotNo"`
	AllotDate      Timestamp   `json:"AllotDate"`
	PayType        PayType     `json:"PayType"`
	PayAmount      Amount      `json:"PayAmount"`
	RefundAmount   Amount      `json:"RefundAmount"`
	FeeAmount      Amount      `json:"FeeAmount"`
	ExtAllotAmount Amount      `json:"ExtAllotAmount"`
	AllotAmount    Amount      `json:"AllotAmount"` // what reached the shop's account
	Account        string      `json:"Account"`
	List           []AllotItem `json:"List"`
}

// UnmarshalJSON decodes AllotAmount and ExtAllotAmount with a sign: they
// are net sums, negative when refunds and fees exceed payments. Every other
// amount follows Amount's rules.
func (a *Allot) UnmarshalJSON(b []byte) error {
	type plain Allot // without this method
	var w struct {
		plain
		ExtAllotAmount signedAmount `json:"ExtAllotAmount"`
		AllotAmount    signedAmount `json:"AllotAmount"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			ute.Field = strings.TrimPrefix(ute.Field, "plain.") // the field as on the wire
		}
		return err
	}
	*a = Allot(w.plain)
	a.ExtAllotAmount, a.AllotAmount = Amount(w.ExtAllotAmount), Amount(w.AllotAmount)
	return nil
}

// AllotItem is one transaction of a payout. On the wire its keys are
// spelled "TSNO" and "OrderNO", unlike everywhere else.
type AllotItem struct {
	TSNo    string    `json:"TSNO"`
	OrderNo string    `json:"OrderNO"`
	PayDate Timestamp `json:"PayDate"`
	Amount  Amount    `json:"Amount"`
	Fee     Amount    `json:"Fee"`
	TSType  string    `json:"TSType"` // "P" payment, "R" refund
}

// Code is the result code of Description: CodeOK, or CodeNoData.
func (r *ResponseAllotQuery) Code() Code { c, _ := parseDescription(r.Description); return c }

type allotQueryRequest struct {
	ShopNo     string  `json:"ShopNo"`
	AllotDateS string  `json:"AllotDateS"`
	AllotDateE string  `json:"AllotDateE"`
	PayType    PayType `json:"PayType"`
}

// Validate checks the query before any network call.
func (q AllotQuery) Validate() error {
	switch {
	case q.AllotDateS.IsZero():
		return &ValidationError{Field: "AllotDateS", Reason: "is required"}
	case q.AllotDateE.IsZero():
		return &ValidationError{Field: "AllotDateE", Reason: "is required"}
	case q.AllotDateS.Year() < 2000 || q.AllotDateE.Year() > 9999:
		return &ValidationError{Field: "AllotDateS", Reason: "must be within years 2000 to 9999"}
	case daysBetween(q.AllotDateS, q.AllotDateE) < 0:
		return &ValidationError{Field: "AllotDateS", Reason: "must not be after AllotDateE"}
	}
	switch q.PayType {
	case PayTypeATM, PayTypeCard, PayTypeMobile, PayTypeCardTrust, PayTypeWallet:
		return nil
	case "":
		return &ValidationError{Field: "PayType", Reason: "is required"}
	}
	return &ValidationError{Field: "PayType", Reason: fmt.Sprintf("must be A, C, M, P or W, got %q", string(q.PayType))}
}

// QueryAllot lists the payouts of q (APIService AllotQuery). None (S0001)
// is success with an empty Allot.
func (c *Client) QueryAllot(ctx context.Context, q AllotQuery) (*ResponseAllotQuery, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	req := allotQueryRequest{
		ShopNo:     c.shopNo,
		AllotDateS: wireDate(q.AllotDateS),
		AllotDateE: wireDate(q.AllotDateE),
		PayType:    q.PayType,
	}
	var r ResponseAllotQuery
	if err := c.do(ctx, allotQueryService, req, &r); err != nil {
		return nil, err
	}
	if r.Allot == nil {
		r.Allot = []Allot{}
	}
	return &r, nil
}
