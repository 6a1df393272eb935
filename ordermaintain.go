package sinopac

import (
	"context"
	"fmt"
	"time"
)

// MaintainCommand is what OrderMaintain does to an order.
type MaintainCommand string

// orderMaintainService is OrderMaintain (訂單維護): it captures, cancels,
// refunds, so it is never resent once it may have reached the bank.
var orderMaintainService = &service{name: "OrderMaintain",
	reply: replyModel{strField("OrderNo"), strField("ShopNo"), strField("TSNo"), strField("Command"), intField("Amount"),
		strField("Date"), strField("Status"), strField("Description"), strField("RefundToken")}}

// The OrderMaintain commands (protocol §7).
const (
	CommandCapture       MaintainCommand = "P" // capture a card authorisation (請款)
	CommandCancel        MaintainCommand = "C" // cancel a card authorisation, or disable a virtual account
	CommandRefund        MaintainCommand = "R" // refund, in full or in part
	CommandStopRecurring MaintainCommand = "E" // stop a recurring card order
	CommandChangeExpiry  MaintainCommand = "M" // change a virtual account's deadline
)

// OrderMaintainRequest changes an existing order (APIService OrderMaintain).
type OrderMaintainRequest struct {
	OrderNo string
	Command MaintainCommand
	// Amount is the refund (CommandRefund only); 0 refunds the whole order.
	Amount Amount
	// Remark is a note for the bank, at most 40 bytes.
	Remark string
	// ExpireDateTime is the new deadline (CommandChangeExpiry only), sent
	// to the minute in Taipei time.
	ExpireDateTime time.Time
}

// orderMaintainRequest is the wire form; field names come from here only.
type orderMaintainRequest struct {
	ShopNo         string          `json:"ShopNo"`
	OrderNo        string          `json:"OrderNo"`
	Command        MaintainCommand `json:"Command"`
	Amount         Amount          `json:"Amount,omitempty"`
	Remark         string          `json:"Remark,omitempty"`
	RefundToken    string          `json:"RefundToken,omitempty"`
	ExpireDateTime string          `json:"ExpireDateTime,omitempty"`
}

// ResponseOrderMaintain is a verified OrderMaintain reply.
type ResponseOrderMaintain struct {
	OrderNo     string          `json:"OrderNo"`
	ShopNo      string          `json:"ShopNo"`
	TSNo        string          `json:"TSNo"`
	Command     MaintainCommand `json:"Command"`
	Amount      Amount          `json:"Amount"`
	Date        Timestamp       `json:"Date"`
	Status      string          `json:"Status"`
	Description string          `json:"Description"`
	// RefundToken is the token of a virtual-account refund's first step.
	// MaintainOrder has already used it for the second step.
	RefundToken string `json:"RefundToken"`

	// Resolved is true when the refund's own reply was lost and the refund
	// was then found in the order's RefundList with OrderQuery. The reply
	// is then built from the order: OrderNo, ShopNo, TSNo, Command, and
	// Amount and Date from the refund entry; Status is "S".
	Resolved bool `json:"-"`
	// Order is the order as OrderQuery returned it when Resolved, else nil.
	Order *Order `json:"-"`
}

// Validate checks the request before any network call. It returns a
// *ValidationError naming the field.
func (r OrderMaintainRequest) Validate() error {
	if r.OrderNo == "" {
		return &ValidationError{Field: "OrderNo", Reason: "is required"}
	}
	if err := checkText("OrderNo", r.OrderNo, 50); err != nil {
		return err
	}
	switch r.Command {
	case CommandCapture, CommandCancel, CommandRefund, CommandStopRecurring, CommandChangeExpiry:
	default:
		return &ValidationError{Field: "Command", Reason: fmt.Sprintf("must be P, C, R, E or M, got %q", string(r.Command))}
	}
	switch {
	case r.Amount != 0 && r.Command != CommandRefund:
		return &ValidationError{Field: "Amount", Reason: "is only for Command R (refund)"}
	case r.Amount < 0:
		return &ValidationError{Field: "Amount", Reason: "must not be negative"}
	case r.Amount%100 != 0:
		return &ValidationError{Field: "Amount", Reason: "must be a whole number of NT$ (a multiple of 100 on the wire)"}
	}
	if err := checkText("Remark", r.Remark, 40); err != nil {
		return err
	}
	switch {
	case r.Command == CommandChangeExpiry && r.ExpireDateTime.IsZero():
		return &ValidationError{Field: "ExpireDateTime", Reason: "is required for Command M"}
	case r.Command != CommandChangeExpiry && !r.ExpireDateTime.IsZero():
		return &ValidationError{Field: "ExpireDateTime", Reason: "is only for Command M"}
	case !r.ExpireDateTime.IsZero() && (r.ExpireDateTime.Year() < 2000 || r.ExpireDateTime.Year() > 9999):
		return &ValidationError{Field: "ExpireDateTime", Reason: "must be within years 2000 to 9999"}
	}
	return nil
}

// MaintainOrder changes an order (APIService OrderMaintain): capture,
// cancel, refund, stop recurring, or change a virtual account's deadline.
//
// A virtual-account refund takes two calls at the bank: the first returns
// a RefundToken and the second repeats the request with it within 120 s.
// MaintainOrder makes both; the reply is the second's.
//
// OrderMaintain is never resent blindly. When a refund's outcome is
// unknown because the request may have reached the bank (a timeout or lost
// connection after sending, an HTTP 5xx), MaintainOrder settles it with an
// OrderQuery: a refund of that Amount (any amount for a full refund) in the
// order's RefundList dated from the start of the call (with two minutes'
// allowance for clock skew) means it was done, and MaintainOrder returns it
// with Resolved set; none means a *NotProcessedError (safe to send again);
// a failing query or a cancelled context means an *OutcomeUnknownError
// (an expired deadline does not stop the query: see CreateOrder). Two
// equal refunds of one order within those minutes cannot be told apart:
// the earlier one is taken for this one.
// The other commands are not settled: repeating a capture, cancel, stop or
// expiry change on an order already in that state fails at the bank and
// does nothing twice, so their unknown outcome comes back as the
// *NetworkError (MaybeSent) or *GatewayError it was.
func (c *Client) MaintainOrder(ctx context.Context, req OrderMaintainRequest) (*ResponseOrderMaintain, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	wire := orderMaintainRequest{
		ShopNo: c.shopNo, OrderNo: req.OrderNo, Command: req.Command, Amount: req.Amount,
		Remark: req.Remark, ExpireDateTime: wireMinute(req.ExpireDateTime),
	}
	start := time.Now()
	var r ResponseOrderMaintain
	err := c.do(ctx, orderMaintainService, &wire, &r)
	if err == nil && req.Command == CommandRefund && r.RefundToken != "" {
		// The first step of a virtual-account refund: confirm it.
		wire.RefundToken = r.RefundToken
		r = ResponseOrderMaintain{}
		err = c.do(ctx, orderMaintainService, &wire, &r)
	}
	if err == nil {
		if r.OrderNo != "" && r.OrderNo != req.OrderNo {
			err = &MessageError{Service: "OrderMaintain", Reason: "reply is for another OrderNo"}
		} else {
			return &r, nil
		}
	}
	if req.Command != CommandRefund {
		if classify(err) == outcomeUntrusted {
			return nil, &OutcomeUnknownError{Service: "OrderMaintain", OrderNo: req.OrderNo, Err: err}
		}
		return nil, err
	}
	return c.settleRefund(ctx, &req, start, err)
}

// refundSkew allows for the bank's clock being behind ours.
const refundSkew = 2 * time.Minute

func (c *Client) settleRefund(ctx context.Context, req *OrderMaintainRequest, start time.Time, err error) (*ResponseOrderMaintain, error) {
	o, serr := c.settle(ctx, "OrderMaintain", req.OrderNo, err)
	if serr != nil {
		return nil, serr
	}
	refunds := o.RefundList
	if len(refunds) == 0 && o.Refunded() {
		// Before RefundList (2025) only the latest refund was reported.
		refunds = []Refund{{RefundDate: o.RefundDate, RefundAmount: o.RefundAmount, RefundStatus: o.RefundStatus}}
	}
	since := start.Add(-refundSkew).Truncate(time.Minute)
	for _, rf := range refunds {
		if req.Amount != 0 && rf.RefundAmount != req.Amount || rf.RefundStatus.Failed() {
			continue
		}
		if rf.RefundDate.IsZero() {
			return nil, &OutcomeUnknownError{Service: "OrderMaintain", OrderNo: req.OrderNo, Err: err,
				QueryErr: fmt.Errorf("sinopac: RefundList of %s holds a matching refund without a date", req.OrderNo)}
		}
		if !rf.RefundDate.Time().Before(since) {
			return &ResponseOrderMaintain{
				OrderNo: o.OrderNo, ShopNo: c.shopNo, TSNo: o.TSNo, Command: CommandRefund,
				Amount: rf.RefundAmount, Date: rf.RefundDate, Status: "S", Resolved: true, Order: o,
			}, nil
		}
	}
	return nil, &NotProcessedError{Service: "OrderMaintain", OrderNo: req.OrderNo, Err: err}
}

// Capture captures a card authorisation (Command P).
func (c *Client) Capture(ctx context.Context, orderNo string) (*ResponseOrderMaintain, error) {
	return c.MaintainOrder(ctx, OrderMaintainRequest{OrderNo: orderNo, Command: CommandCapture})
}

// Cancel cancels a card authorisation or disables a virtual account
// (Command C).
func (c *Client) Cancel(ctx context.Context, orderNo string) (*ResponseOrderMaintain, error) {
	return c.MaintainOrder(ctx, OrderMaintainRequest{OrderNo: orderNo, Command: CommandCancel})
}

// Refund refunds amount of an order, or all of it when amount is 0
// (Command R), in one call even for a virtual account's two steps. See
// MaintainOrder for what happens when the outcome is unknown.
func (c *Client) Refund(ctx context.Context, orderNo string, amount Amount) (*ResponseOrderMaintain, error) {
	return c.MaintainOrder(ctx, OrderMaintainRequest{OrderNo: orderNo, Command: CommandRefund, Amount: amount})
}

// StopRecurring ends a recurring card order (Command E).
func (c *Client) StopRecurring(ctx context.Context, orderNo string) (*ResponseOrderMaintain, error) {
	return c.MaintainOrder(ctx, OrderMaintainRequest{OrderNo: orderNo, Command: CommandStopRecurring})
}

// ChangeExpiry moves a virtual account's deadline to t (Command M).
func (c *Client) ChangeExpiry(ctx context.Context, orderNo string, t time.Time) (*ResponseOrderMaintain, error) {
	return c.MaintainOrder(ctx, OrderMaintainRequest{OrderNo: orderNo, Command: CommandChangeExpiry, ExpireDateTime: t})
}
