package sinopac

import "context"

// unCapturedQueryService is OrderUnCapturedQuery: it changes nothing.
var unCapturedQueryService = &service{name: "OrderUnCapturedQuery", idempotent: true,
	reply: replyModel{strField("ShopNo"), strField("Date"), strField("Status"), strField("Description")}}

// ResponseOrderUnCapturedQuery is a verified OrderUnCapturedQuery reply:
// card orders authorised and not yet captured.
type ResponseOrderUnCapturedQuery struct {
	ShopNo      string            `json:"ShopNo"`
	Date        Timestamp         `json:"Date"`
	Status      string            `json:"Status"`
	Description string            `json:"Description"`
	OrderList   []UnCapturedOrder `json:"OrderList"`
}

// UnCapturedOrder is one authorised, uncaptured card order.
type UnCapturedOrder struct {
	OrderNo        string    `json:"OrderNo"`
	TSNo           string    `json:"TSNo"`
	TSDate         Timestamp `json:"TSDate"`
	ApprovedDate   Timestamp `json:"ApprovedDate"`
	ExpireDate     Timestamp `json:"ExpireDate"`
	Amount         Amount    `json:"Amount"`
	PayType        PayType   `json:"PayType"`
	PrdtName       string    `json:"PrdtName"`
	Memo           string    `json:"Memo"`
	PayStatus      PayStatus `json:"PayStatus"`
	AuthExpireDate Timestamp `json:"AuthExpireDate"` // capture before this, or the authorisation lapses
}

// Code is the result code of Description: CodeOK, or CodeNoData.
func (r *ResponseOrderUnCapturedQuery) Code() Code {
	c, _ := parseDescription(r.Description)
	return c
}

type unCapturedQueryRequest struct {
	ShopNo  string `json:"ShopNo"`
	OrderNo string `json:"OrderNo,omitempty"`
}

// QueryUnCaptured lists the shop's authorised card orders that are not
// captured yet (APIService OrderUnCapturedQuery), or only orderNo when it
// is not empty. None (S0001) is success with an empty OrderList.
func (c *Client) QueryUnCaptured(ctx context.Context, orderNo string) (*ResponseOrderUnCapturedQuery, error) {
	if err := checkText("OrderNo", orderNo, 50); err != nil {
		return nil, err
	}
	var r ResponseOrderUnCapturedQuery
	if err := c.do(ctx, unCapturedQueryService, unCapturedQueryRequest{ShopNo: c.shopNo, OrderNo: orderNo}, &r); err != nil {
		return nil, err
	}
	if r.OrderList == nil {
		r.OrderList = []UnCapturedOrder{}
	}
	return &r, nil
}
