package sinopac

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

	// Resolved is true when the refund's own reply did not decide it (lost,
	// an HTTP status, unverifiable) and the refund was then found with
	// OrderQuery: a new entry in the order's RefundList (see
	// MaintainOrder). The reply is then built from the order: OrderNo,
	// ShopNo, TSNo, Command, and Amount and Date from the refund entry;
	// Status is "S".
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
// Only the bank's verified reply decides the outcome; a *NotProcessedError
// (errors.Is ErrNotProcessed) means the request never left. OrderMaintain
// is never resent automatically once it may have reached the bank (see
// RetryPolicy).
//
// A refund (Command R) first takes the order's refunds with one OrderQuery
// (the baseline; if that query fails, the refund is not sent: a
// *NotProcessedError). When the refund's outcome is then unknown (a
// timeout, a dropped connection, any HTTP status such as 429 or 5xx, an
// unsigned or unverifiable reply), MaintainOrder settles it by difference
// with a second OrderQuery: a refund entry that was not in the baseline,
// has not failed, and is of the requested Amount — for a full refund
// (Amount 0), of the balance the baseline left — is this refund: returned
// with Resolved set. Where the bank sends no RefundList, the increase of
// the order's RefundAmount is compared instead. Nothing new is an
// *OutcomeUnknownError, never "not processed" (the query's results can lag
// and a gateway may forward the refund late): do not refund again; look
// again with ResolveRefund after its CheckAfter. The bank's clock does not
// matter to this comparison. What it cannot tell apart: a refund of the
// same amount made meanwhile by someone else, or one made earlier within
// QueryLag that the baseline did not show yet.
//
// A virtual-account refund takes two calls at the bank: the first returns
// a RefundToken (and moves no money), the second repeats the request with
// it within 120 s. MaintainOrder makes both; the reply is the second's. An
// unknown outcome of the first call on an order the baseline shows as a
// virtual account (PayType A) is a *NotProcessedError: no money can have
// moved. The second call's is settled as above.
//
// The other commands are not settled: their unknown outcome is an
// *OutcomeUnknownError without a query (look the order up with
// QueryOrders). Repeating them does no harm: the bank refuses to capture,
// cancel or stop an order already in that state, and a deadline set twice
// is the same deadline.
//
// When ctx's deadline is what cut the call short, the settling query
// still runs, detached from it and bounded by SettleTimeout.
func (c *Client) MaintainOrder(ctx context.Context, req OrderMaintainRequest) (*ResponseOrderMaintain, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	wire := orderMaintainRequest{
		ShopNo: c.shopNo, OrderNo: req.OrderNo, Command: req.Command, Amount: req.Amount,
		Remark: req.Remark, ExpireDateTime: wireMinute(req.ExpireDateTime),
	}
	if req.Command == CommandRefund {
		return c.refund(ctx, &req, &wire)
	}
	start := time.Now()
	r, st, err := c.maintain(ctx, &wire)
	switch {
	case err == nil:
		return r, nil
	case st.neverLeft():
		return nil, &NotProcessedError{Service: orderMaintainService.name, OrderNo: req.OrderNo, Err: err}
	case st.verdict(err):
		return nil, err
	}
	return nil, &OutcomeUnknownError{Service: orderMaintainService.name, OrderNo: req.OrderNo, Err: err,
		CheckAfter: checkAfter(start), shopNo: c.shopNo, basis: commandBasis(req.Command)}
}

// maintain is one OrderMaintain call; a verified reply about another order
// is not an answer about this one.
func (c *Client) maintain(ctx context.Context, wire *orderMaintainRequest) (*ResponseOrderMaintain, stage, error) {
	var r ResponseOrderMaintain
	st, err := c.send(ctx, orderMaintainService, wire, &r)
	if err == nil && r.OrderNo != "" && r.OrderNo != wire.OrderNo {
		err = &MessageError{Service: orderMaintainService.name, Reason: "reply is for another OrderNo"}
	}
	if err != nil {
		return nil, st, err
	}
	return &r, st, nil
}

// refund is MaintainOrder for Command R: baseline, one or two calls, and
// settling by difference.
func (c *Client) refund(ctx context.Context, req *OrderMaintainRequest, wire *orderMaintainRequest) (*ResponseOrderMaintain, error) {
	notSent := func(err error) error {
		return &NotProcessedError{Service: orderMaintainService.name, OrderNo: req.OrderNo, Err: err}
	}
	start := time.Now()
	o, err := c.lookupOrder(ctx, req.OrderNo)
	if err != nil {
		return nil, notSent(fmt.Errorf("sinopac: refund not sent: the OrderQuery that takes the order's refunds first failed: %w", err))
	}
	b := newRefundBasis(req, o, start)
	r, st, err := c.maintain(ctx, wire)
	firstStep := true
	if err == nil && r.RefundToken != "" {
		if checkText("RefundToken", r.RefundToken, 255) != nil {
			// Never confirm a refund with a token that cannot be the
			// bank's: blank, padded or holding control characters.
			err = &MessageError{Service: orderMaintainService.name, Field: "RefundToken", Reason: "is not a usable token"}
		} else {
			// The first step of a virtual-account refund: confirm it.
			wire.RefundToken, firstStep = r.RefundToken, false
			r, st, err = c.maintain(ctx, wire)
		}
	}
	switch {
	case err == nil:
		return r, nil
	case st.neverLeft():
		return nil, notSent(err)
	case st.verdict(err):
		return nil, err
	case firstStep && o != nil && o.PayType == PayTypeATM:
		return nil, notSent(fmt.Errorf("sinopac: the first step of a virtual-account refund (it only issues a RefundToken; no money moves before the second) failed: %w", err))
	}
	u := &OutcomeUnknownError{Service: orderMaintainService.name, OrderNo: req.OrderNo, Err: err, shopNo: c.shopNo, basis: b}
	if o == nil {
		u.QueryErr = errNoBaseline
		return nil, u
	}
	after, qerr := c.settleLookup(ctx, req.OrderNo)
	return b.judge(after, qerr, u)
}

// ResolveRefund looks again at a refund whose outcome was unknown,
// comparing the order's refunds with the baseline taken before it was
// sent: a new refund of the amount is returned with Resolved set;
// otherwise a new *OutcomeUnknownError (u is not changed) whose CheckAfter
// says whether waiting may still help. Nothing new is never taken as proof
// that the bank did not refund: once CheckAfter is zero, confirm with the
// bank before refunding again.
func (c *Client) ResolveRefund(ctx context.Context, u *OutcomeUnknownError) (*ResponseOrderMaintain, error) {
	if err := c.checkResolvable(u); err != nil {
		return nil, err
	}
	b, ok := u.basis.(*refundBasis)
	if !ok {
		return nil, &ValidationError{Field: "OutcomeUnknownError", Reason: "is not from a refund"}
	}
	next := *u
	next.QueryErr, next.CheckAfter = nil, time.Time{}
	if b.before == nil {
		next.QueryErr = errNoBaseline
		return nil, &next
	}
	after, qerr := c.lookupOrder(ctx, b.orderNo)
	return b.judge(after, qerr, &next)
}

var errNoBaseline = errors.New("sinopac: OrderQuery did not show the order before the refund (an e-wallet order, or not visible yet): its refunds cannot be compared")

// refundBasis is the baseline of a refund: the order as OrderQuery showed
// it before the refund was sent (nil if it did not), and what was asked.
type refundBasis struct {
	orderNo string
	amount  Amount // requested; 0 = the whole balance
	before  *Order
	start   time.Time
}

func newRefundBasis(req *OrderMaintainRequest, before *Order, start time.Time) *refundBasis {
	return &refundBasis{orderNo: req.OrderNo, amount: req.Amount, before: before, start: start}
}

// want is the amount the refund moves: the requested Amount, or for a full
// refund the balance the baseline left.
func (b *refundBasis) want() Amount {
	if b.amount != 0 {
		return b.amount
	}
	refunded := b.before.RefundAmount
	if len(b.before.RefundList) > 0 {
		refunded = 0
		for _, rf := range b.before.RefundList {
			if !rf.RefundStatus.Failed() {
				refunded += rf.RefundAmount
			}
		}
	}
	return b.before.Amount - refunded
}

// newRefund finds the refund this call made in after: an entry not in the
// baseline, not failed, of the amount wanted; without a RefundList, an
// increase of RefundAmount by it.
func (b *refundBasis) newRefund(after *Order) (Refund, bool) {
	want := b.want()
	if want <= 0 {
		return Refund{}, false
	}
	if len(after.RefundList) == 0 {
		if after.RefundAmount-b.before.RefundAmount == want {
			return Refund{RefundDate: after.RefundDate, RefundAmount: want, RefundStatus: after.RefundStatus}, true
		}
		return Refund{}, false
	}
	old := slices.Clone(b.before.RefundList)
	for _, rf := range after.RefundList {
		if i := slices.IndexFunc(old, func(o Refund) bool { return sameRefund(o, rf) }); i >= 0 {
			old = slices.Delete(old, i, i+1)
			continue
		}
		if !rf.RefundStatus.Failed() && rf.RefundAmount == want {
			return rf, true
		}
	}
	return Refund{}, false
}

// sameRefund pairs an entry with its baseline self, whose status may have
// moved on since: by RefundNo, or by date and amount where there is none.
func sameRefund(a, b Refund) bool {
	if a.RefundNo != "" || b.RefundNo != "" {
		return a.RefundNo == b.RefundNo
	}
	return a.RefundDate == b.RefundDate && a.RefundAmount == b.RefundAmount
}

// judge decides a refund from the settling query's result: u is returned
// (completed) when it does not.
func (b *refundBasis) judge(after *Order, qerr error, u *OutcomeUnknownError) (*ResponseOrderMaintain, error) {
	switch {
	case qerr != nil:
		u.QueryErr = qerr
	case after == nil:
		u.QueryErr = ErrNoTrace
	default:
		rf, ok := b.newRefund(after)
		if ok {
			return &ResponseOrderMaintain{
				OrderNo: after.OrderNo, ShopNo: u.shopNo, TSNo: after.TSNo, Command: CommandRefund,
				Amount: rf.RefundAmount, Date: rf.RefundDate, Status: "S", Resolved: true, Order: after,
			}, nil
		}
		u.QueryErr = ErrNoTrace
	}
	u.CheckAfter = checkAfter(b.start)
	return nil, u
}

func (*refundBasis) safeToResend() bool { return false }

func (b *refundBasis) advice(e *OutcomeUnknownError) string {
	switch {
	case b.before == nil:
		return "do not refund again before the bank confirms it was not done"
	case e.CheckAfter.IsZero():
		return "do not refund again before the bank confirms it was not done (ResolveRefund compares the order's refunds with those before it)"
	}
	return "do not refund again: look again with ResolveRefund after " + e.CheckAfter.Format(time.RFC3339)
}

// commandBasis advises on the maintain commands other than refund.
type commandBasis MaintainCommand

func (commandBasis) safeToResend() bool { return true }

func (c commandBasis) advice(*OutcomeUnknownError) string {
	return "look the order up with QueryOrders; repeating the command (" + string(c) + ") does no harm: " +
		"the bank refuses a change already made, and a deadline set twice is the same deadline"
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
