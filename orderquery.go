package sinopac

import (
	"context"
	"fmt"
	"time"
)

// MaxOrdersPerQuery is the most orders one OrderQuery reply holds. The bank
// has no paging: a range with more is cut silently.
const MaxOrdersPerQuery = 300

// orderQueryService is OrderQuery (訂單交易查詢): it changes nothing.
var orderQueryService = &service{name: "OrderQuery", idempotent: true,
	reply: replyModel{strField("ShopNo"), strField("Date"), strField("Status"), strField("Description")}}

// QueryConditions select orders for OrderQuery (訂單交易查詢). At least one
// condition is required. A date range needs both ends; zero times mean "no
// range". Times are sent to the minute in Taipei time, whatever their
// time.Location.
//
// When OrderNo is set the bank ignores every other condition. QueryOrders
// still sends them and then applies PayType, PayFlag and the date ranges to
// the returned list itself, so a condition never silently stops filtering.
type QueryConditions struct {
	OrderNo                        string
	PayType                        PayType // PayTypeATM, PayTypeCard, PayTypeMobile or PayTypeCardTrust
	OrderDateTimeS, OrderDateTimeE time.Time
	PayDateTimeS, PayDateTimeE     time.Time
	PayFlag                        PayFlag
}

// ResponseOrderQuery is a verified OrderQuery reply.
type ResponseOrderQuery struct {
	ShopNo      string    `json:"ShopNo"`
	Date        Timestamp `json:"Date"`
	Status      string    `json:"Status"`
	Description string    `json:"Description"`
	OrderList   []Order   `json:"OrderList"`
}

// Code is the result code of Description: CodeOK, or CodeNoData when no
// order matched.
func (r *ResponseOrderQuery) Code() Code { c, _ := parseDescription(r.Description); return c }

// Truncated reports a full page: the bank returns at most
// MaxOrdersPerQuery orders, so there may be more. Narrow the range, or use
// QueryAllOrders.
func (r *ResponseOrderQuery) Truncated() bool { return len(r.OrderList) >= MaxOrdersPerQuery }

// orderQueryRequest is the wire form; field names come from here only.
type orderQueryRequest struct {
	ShopNo         string  `json:"ShopNo"`
	OrderNo        string  `json:"OrderNo,omitempty"`
	PayType        PayType `json:"PayType,omitempty"`
	OrderDateTimeS string  `json:"OrderDateTimeS,omitempty"`
	OrderDateTimeE string  `json:"OrderDateTimeE,omitempty"`
	PayDateTimeS   string  `json:"PayDateTimeS,omitempty"`
	PayDateTimeE   string  `json:"PayDateTimeE,omitempty"`
	PayFlag        PayFlag `json:"PayFlag,omitempty"`
}

// Validate checks the conditions as the bank would, and more strictly.
// It returns a *ValidationError naming the field.
func (q QueryConditions) Validate() error {
	if q.OrderNo == "" && q.PayType == "" && q.PayFlag == "" &&
		q.OrderDateTimeS.IsZero() && q.OrderDateTimeE.IsZero() &&
		q.PayDateTimeS.IsZero() && q.PayDateTimeE.IsZero() {
		return &ValidationError{Field: "QueryConditions", Reason: "at least one condition is required (OrderNo, PayType, a date range or PayFlag)"}
	}
	if q.OrderNo != "" {
		if err := checkText("OrderNo", q.OrderNo, 50); err != nil {
			return err
		}
	}
	switch q.PayType {
	case "", PayTypeATM, PayTypeCard, PayTypeMobile, PayTypeCardTrust:
	default:
		return &ValidationError{Field: "PayType", Reason: fmt.Sprintf("must be A, C, M or P, got %q", string(q.PayType))}
	}
	switch q.PayFlag {
	case "", PayFlagPaid, PayFlagUnpaid, PayFlagExpired:
	default:
		return &ValidationError{Field: "PayFlag", Reason: fmt.Sprintf("must be Y, N or O, got %q", string(q.PayFlag))}
	}
	if err := checkRange("OrderDateTime", q.OrderDateTimeS, q.OrderDateTimeE); err != nil {
		return err
	}
	return checkRange("PayDateTime", q.PayDateTimeS, q.PayDateTimeE)
}

func checkRange(name string, s, e time.Time) error {
	switch {
	case s.IsZero() && e.IsZero():
		return nil
	case s.IsZero():
		return &ValidationError{Field: name + "S", Reason: "is required when " + name + "E is set"}
	case e.IsZero():
		return &ValidationError{Field: name + "E", Reason: "is required when " + name + "S is set"}
	case !wireYear(s):
		return &ValidationError{Field: name + "S", Reason: "must be within years 1000 to 9999 (Taipei time)"}
	case !wireYear(e):
		return &ValidationError{Field: name + "E", Reason: "must be within years 1000 to 9999 (Taipei time)"}
	case wireMinute(s) > wireMinute(e):
		return &ValidationError{Field: name + "S", Reason: "must not be after " + name + "E"}
	}
	return nil
}

// wireYear reports whether t's Taipei year has the four digits of the
// yyyyMMddHHmm wire form. Both ends are checked: the string comparison
// of the ends is only chronological between 12-digit forms.
func wireYear(t time.Time) bool {
	y := t.In(Taipei).Year()
	return 1000 <= y && y <= 9999
}

// QueryOrders asks the bank for the orders matching q (APIService
// OrderQuery). No match (S0001) is success with an empty OrderList. A reply
// of MaxOrdersPerQuery orders may be cut: check Truncated.
func (c *Client) QueryOrders(ctx context.Context, q QueryConditions) (*ResponseOrderQuery, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	req := orderQueryRequest{
		ShopNo:         c.shopNo,
		OrderNo:        q.OrderNo,
		PayType:        q.PayType,
		OrderDateTimeS: wireMinute(q.OrderDateTimeS),
		OrderDateTimeE: wireMinute(q.OrderDateTimeE),
		PayDateTimeS:   wireMinute(q.PayDateTimeS),
		PayDateTimeE:   wireMinute(q.PayDateTimeE),
		PayFlag:        q.PayFlag,
	}
	var r ResponseOrderQuery
	if err := c.do(ctx, orderQueryService, req, &r); err != nil {
		return nil, err
	}
	if err := checkOrderAmounts(orderQueryService.name, r.OrderList); err != nil {
		return nil, err
	}
	if r.OrderList == nil {
		r.OrderList = []Order{}
	}
	if q.OrderNo != "" {
		r.OrderList = q.filter(r.OrderList)
	}
	return &r, nil
}

// Match reports whether o satisfies every condition of q, as the bank
// applies them (PayFlag: Y for x400/x900, O for x250, N for the rest;
// ranges inclusive, to the minute).
func (q QueryConditions) Match(o *Order) bool {
	return (q.OrderNo == "" || o.OrderNo == q.OrderNo) &&
		(q.PayType == "" || o.PayType == q.PayType) &&
		(q.PayFlag == "" || o.PayStatus.Flag() == q.PayFlag) &&
		inRange(o.TSDate, q.OrderDateTimeS, q.OrderDateTimeE) &&
		inRange(o.PayDate, q.PayDateTimeS, q.PayDateTimeE)
}

func inRange(ts Timestamp, s, e time.Time) bool {
	if s.IsZero() && e.IsZero() {
		return true
	}
	if ts.IsZero() {
		return false
	}
	m := wireMinute(ts.Time())
	return wireMinute(s) <= m && m <= wireMinute(e)
}

func (q QueryConditions) filter(list []Order) []Order {
	out := list[:0:0]
	for i := range list {
		if q.Match(&list[i]) {
			out = append(out, list[i])
		}
	}
	if out == nil {
		out = []Order{}
	}
	return out
}
