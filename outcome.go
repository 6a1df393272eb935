package sinopac

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// ErrNotProcessed is matched (errors.Is) by a *NotProcessedError: a create
// or refund whose reply was lost, and a verified OrderQuery afterwards
// showed the bank has no trace of it. Sending it again is safe.
var ErrNotProcessed = errors.New("sinopac: the bank did not process the request; it is safe to send it again")

// NotProcessedError reports a CreateOrder or refund whose outcome was
// unknown (see OutcomeUnknownError) until a follow-up OrderQuery for the
// OrderNo proved the bank did not act on it: no such order, or no new
// refund in its RefundList. The same request may be sent again.
type NotProcessedError struct {
	Service string // "OrderCreate" or "OrderMaintain"
	OrderNo string
	Err     error // the failure that made the outcome unknown
}

func (e *NotProcessedError) Error() string {
	return "sinopac: " + e.Service + " " + e.OrderNo + " was not processed by the bank (safe to send again) after: " + e.Err.Error()
}

// Unwrap gives the original failure.
func (e *NotProcessedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotProcessed) true.
func (e *NotProcessedError) Is(target error) bool { return target == ErrNotProcessed }

// OutcomeUnknownError reports a CreateOrder or refund that may or may not
// have been carried out by the bank, and that the SDK could not settle.
// Do not send it again blindly: a resent create fails with E0302 at best,
// a resent refund may pay twice. Look the OrderNo up later with
// QueryOrders (RefundList for a refund).
//
// It comes in two forms:
//   - QueryErr != nil: the request may have reached the bank (Err is a
//     *NetworkError with MaybeSent, or an HTTP 5xx *GatewayError) and the
//     OrderQuery meant to settle it failed too (or the context was
//     cancelled first).
//   - QueryErr == nil: the bank answered, but its reply could not be
//     trusted (Err matches ErrSignatureMismatch or ErrMalformedMessage).
//     The SDK does not query then: a channel that garbles or forges one
//     reply cannot be trusted to say "not created" either, and acting on
//     that could charge a customer twice. Fix the cause (keys, a proxy)
//     and look the order up.
type OutcomeUnknownError struct {
	Service  string // "OrderCreate" or "OrderMaintain"
	OrderNo  string
	Err      error // the failure of the call itself
	QueryErr error // the failure of the follow-up OrderQuery, if one was made
}

func (e *OutcomeUnknownError) Error() string {
	msg := "sinopac: " + e.Service + " " + e.OrderNo + ": outcome unknown, do not resend blindly: " + e.Err.Error()
	if e.QueryErr != nil {
		msg += "; resolving query failed: " + e.QueryErr.Error()
	}
	return msg
}

// Unwrap gives both failures, so errors.As finds a *NetworkError or
// errors.Is finds ErrSignatureMismatch through it.
func (e *OutcomeUnknownError) Unwrap() []error {
	if e.QueryErr == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.QueryErr}
}

// outcome classifies the failure of a call that changes something.
type outcome int

const (
	outcomeFailed    outcome = iota // the bank answered, or provably never saw it: return err as is
	outcomeMaybeDone                // may have been processed: settle it with a query
	outcomeUntrusted                // answered with something unverifiable: unknown, no query
)

func classify(err error) outcome {
	if nonceStep(err) {
		return outcomeFailed // the Order request was never sent
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		if ne.MaybeSent {
			return outcomeMaybeDone
		}
		return outcomeFailed
	}
	var ge *GatewayError
	if errors.As(err, &ge) {
		// A 5xx may come from behind the gateway after the bank acted
		// (504 especially). 429 and the other 4xx are refusals at the
		// gateway, and a 200 that is no envelope is an unreadable reply.
		switch {
		case ge.StatusCode >= 500:
			return outcomeMaybeDone
		case ge.StatusCode == http.StatusOK:
			return outcomeUntrusted
		}
		return outcomeFailed
	}
	if errors.Is(err, ErrSignatureMismatch) || errors.Is(err, ErrMalformedMessage) {
		return outcomeUntrusted
	}
	return outcomeFailed
}

// SettleTimeout bounds the OrderQuery that settles a create or refund
// whose own deadline expired (see settleContext).
const SettleTimeout = 10 * time.Second

// settleContext is the context of the OrderQuery that settles an unknown
// outcome. A cancelled context means the caller wants nothing more: no
// query (errStop). An expired deadline is the usual way a create's reply
// gets lost, and leaving the caller with "unknown" then would be the worst
// answer: the query runs anyway, detached from the deadline and bounded by
// SettleTimeout.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc, error) {
	switch err := ctx.Err(); {
	case err == nil:
		return ctx, func() {}, nil
	case errors.Is(err, context.DeadlineExceeded):
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SettleTimeout)
		return qctx, cancel, nil
	default:
		return nil, nil, err
	}
}

// settle looks orderNo up after a create or refund failed with err, when
// the failure leaves the outcome open. It returns the order the bank
// stored, or the error for the caller: err itself (the bank answered or
// never saw it), a *NotProcessedError (no such order) or an
// *OutcomeUnknownError.
func (c *Client) settle(ctx context.Context, service, orderNo string, err error) (*Order, error) {
	unknown := &OutcomeUnknownError{Service: service, OrderNo: orderNo, Err: err}
	switch classify(err) {
	case outcomeFailed:
		return nil, err
	case outcomeUntrusted:
		return nil, unknown
	}
	qctx, cancel, stop := settleContext(ctx)
	if stop != nil {
		unknown.QueryErr = stop
		return nil, unknown
	}
	defer cancel()
	o, qerr := c.lookupOrder(qctx, orderNo)
	switch {
	case qerr != nil:
		unknown.QueryErr = qerr
		return nil, unknown
	case o == nil:
		return nil, &NotProcessedError{Service: service, OrderNo: orderNo, Err: err}
	}
	return o, nil
}

// lookupOrder is OrderQuery by OrderNo, for settling unknown outcomes.
func (c *Client) lookupOrder(ctx context.Context, orderNo string) (*Order, error) {
	r, err := c.QueryOrders(ctx, QueryConditions{OrderNo: orderNo})
	if err != nil {
		return nil, err
	}
	for i := range r.OrderList {
		if r.OrderList[i].OrderNo == orderNo {
			return &r.OrderList[i], nil
		}
	}
	return nil, nil
}

// nonceStep reports a failure while fetching the nonce, before the Order
// request existed.
func nonceStep(err error) bool {
	var ne *NetworkError
	var ge *GatewayError
	var me *MessageError
	var ae *APIError
	switch {
	case errors.As(err, &ne):
		return ne.Service == nonceEndpoint
	case errors.As(err, &ge):
		return ge.Service == nonceEndpoint
	case errors.As(err, &me):
		return me.Service == nonceEndpoint
	case errors.As(err, &ae):
		return ae.Service == nonceEndpoint
	}
	return false
}
