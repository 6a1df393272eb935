package sinopac

import (
	"context"
	"fmt"
	"time"
)

// billQueryService is BillQuery (對帳): it changes nothing.
var billQueryService = &service{name: "BillQuery", idempotent: true,
	reply: replyModel{strField("ShopNo"), strField("Date"), strField("Status"), strField("Description"), strField("BillDate")}}

// BillQuery asks for one day's statement (對帳). The bank keeps statements
// for 30 days and today's is not closed yet, so BillDate must be 1 to 30
// days before today, in Taipei.
type BillQuery struct {
	BillDate time.Time // the day (its Taipei date counts)
	// Now is the reference "today" for the 1–30 days rule; the zero value
	// means time.Now(). Tests and replays set it.
	Now time.Time
}

// ResponseBillQuery is a verified BillQuery reply.
type ResponseBillQuery struct {
	ShopNo      string     `json:"ShopNo"`
	Date        Timestamp  `json:"Date"`
	Status      string     `json:"Status"`
	Description string     `json:"Description"`
	BillDate    Timestamp  `json:"BillDate"`
	OrderList   []BillItem `json:"OrderList"`
}

// BillItem is one transaction of a statement.
type BillItem struct {
	TSNo    string    `json:"TSNo"`
	OrderNo string    `json:"OrderNo"`
	TSType  string    `json:"TSType"` // "P" payment, "R" refund
	TSDate  Timestamp `json:"TSDate"`
	PayDate Timestamp `json:"PayDate"`
	PayType PayType   `json:"PayType"`
	Amount  Amount    `json:"Amount"`
	Param1  string    `json:"Param1"`
	Param2  string    `json:"Param2"`
	Param3  string    `json:"Param3"`
}

// Code is the result code of Description: CodeOK, or CodeNoData.
func (r *ResponseBillQuery) Code() Code { c, _ := parseDescription(r.Description); return c }

type billQueryRequest struct {
	ShopNo   string `json:"ShopNo"`
	BillDate string `json:"BillDate"`
}

// Validate checks the 1–30 days rule against q.Now (or the clock).
func (q BillQuery) Validate() error {
	if q.BillDate.IsZero() {
		return &ValidationError{Field: "BillDate", Reason: "is required"}
	}
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	if d := daysBetween(q.BillDate, now); d < 1 || d > 30 {
		return &ValidationError{Field: "BillDate", Reason: fmt.Sprintf("must be 1 to 30 days before today (Taipei), is %d", d)}
	}
	return nil
}

// QueryBill fetches one day's statement (APIService BillQuery): the
// payments and refunds booked that day. An empty day (S0001) is success
// with an empty OrderList.
func (c *Client) QueryBill(ctx context.Context, q BillQuery) (*ResponseBillQuery, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var r ResponseBillQuery
	req := billQueryRequest{ShopNo: c.shopNo, BillDate: wireDate(q.BillDate)}
	if err := c.do(ctx, billQueryService, req, &r); err != nil {
		return nil, err
	}
	if r.OrderList == nil {
		r.OrderList = []BillItem{}
	}
	return &r, nil
}
