package sinopac

import (
	"context"
	"errors"
	"time"
)

// stage is how far one call got: the one record of it, set by the pipeline
// (attempt, post, fetchNonce, openReply). Whether a failed attempt may be
// resent, NetworkError.MaybeSent, and whether a create or maintain call
// must be settled all derive from it.
type stage uint8

const (
	stageNonce     stage = iota + 1 // the nonce step failed: no Order request was made
	stageUnsent                     // the Order request provably never left (input, rate-limit wait, nothing written)
	stageMaybeSent                  // it may have reached the bank and no reply came (timeout, dropped connection)
	stageAnswered                   // a reply came that is not the bank's verified word (HTTP status, unsigned body, bad Sign)
	stageVerified                   // the bank's sealed reply, its Sign verified (Status S or F)
)

// unprocessed reports whether a call that failed with err at this stage
// provably was not carried out by the bank: it never left, or the bank's
// verified reply refused it before processing (a nonce error, busy,
// maintenance). Only then may a call that changes something be resent.
func (s stage) unprocessed(err error) bool {
	switch s {
	case stageNonce, stageUnsent:
		return true
	case stageVerified:
		var ae *APIError
		return errors.As(err, &ae) && ae.Code.Retryable()
	}
	return false
}

// neverLeft reports a call whose Order request provably never reached the
// bank.
func (s stage) neverLeft() bool { return s == stageNonce || s == stageUnsent }

// verdict reports whether err is the bank's verified answer to the call
// (a sealed Status F): the outcome of a create or maintain call is then
// known. Any other failure after the request may have left is unknown.
func (s stage) verdict(err error) bool {
	var ae *APIError
	return s == stageVerified && errors.As(err, &ae)
}

// QueryLag is how long the SDK allows the bank's OrderQuery results to
// trail a call (protocol §9: they can lag a few minutes), and a gateway to
// forward a request it held. An outcome still unknown is worth looking up
// again (ResolveCreate, ResolveRefund) until QueryLag after the call.
const QueryLag = 5 * time.Minute

// ErrNotProcessed is matched (errors.Is) by a *NotProcessedError: a create
// or maintain call that provably never reached the bank. Sending it again
// is safe.
var ErrNotProcessed = errors.New("sinopac: the request never reached the bank; it is safe to send it again")

// NotProcessedError reports a CreateOrder or MaintainOrder whose request
// provably never left: the nonce step failed, the connection failed before
// the request was written, or (for a refund) the OrderQuery that takes the
// order's refunds before sending failed, so the refund was not sent. Err is
// that failure. The same request may be sent again.
//
// It is never the result of a query that found nothing: the bank's query
// results can lag and a gateway can forward a request late, so absence is
// no proof (that is an *OutcomeUnknownError).
type NotProcessedError struct {
	Service string // "OrderCreate" or "OrderMaintain"
	OrderNo string
	Err     error // why the request never left
}

func (e *NotProcessedError) Error() string {
	return "sinopac: " + e.Service + " " + e.OrderNo + " was not sent to the bank (safe to send again): " + e.Err.Error()
}

// Unwrap gives the original failure.
func (e *NotProcessedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotProcessed) true.
func (e *NotProcessedError) Is(target error) bool { return target == ErrNotProcessed }

// ErrNoTrace is the QueryErr of an *OutcomeUnknownError whose settling
// OrderQuery found no trace of the call: no such order for a create, no new
// refund for a refund. It is not proof that the bank did nothing.
var ErrNoTrace = errors.New("sinopac: OrderQuery shows no trace of it (yet: its results can lag)")

// OutcomeUnknownError reports a CreateOrder or MaintainOrder that the bank
// may or may not have carried out: the request may have reached it (a
// timeout, a dropped connection, an HTTP status such as 429 or 5xx, an
// unsigned or unverifiable reply) and the OrderQuery meant to settle it
// did not decide (QueryErr: ErrNoTrace, or the query's own failure).
//
// What to do depends on the call (SafeToResend; Error says it in words):
//   - a create: sending the same request again is safe. A create is
//     idempotent by OrderNo: if the bank holds the order, it answers E0302
//     and CreateOrder recognises its own order (same Amount and PayType)
//     and returns it Resolved. Or look again with Client.ResolveCreate.
//   - a refund: do NOT refund again. Look again with Client.ResolveRefund
//     after CheckAfter; it compares the order's refunds with those taken
//     before the refund was sent.
//   - capture, cancel, stop recurring, change expiry: look the order up
//     (QueryOrders). Repeating the command does no harm: the bank refuses
//     a state change already made, and a new deadline set twice is the
//     same deadline.
type OutcomeUnknownError struct {
	Service  string // "OrderCreate" or "OrderMaintain"
	OrderNo  string
	Err      error // the failure of the call itself
	QueryErr error // why settling did not decide: ErrNoTrace, or the query's failure
	// CheckAfter is when looking again may find what settling did not:
	// QueryLag after the call. Zero when waiting cannot help (the lag has
	// passed, or the order cannot be queried).
	CheckAfter time.Time

	shopNo string
	basis  settleBasis // what the service kept to look again
}

// settleBasis is what a service keeps to look at an unknown outcome again
// (a create's request, a refund's baseline) and what it advises.
type settleBasis interface {
	safeToResend() bool
	advice(e *OutcomeUnknownError) string
}

func (e *OutcomeUnknownError) Error() string {
	msg := "sinopac: " + e.Service + " " + e.OrderNo + ": outcome unknown: " + e.Err.Error()
	if e.QueryErr != nil {
		msg += "; settling: " + e.QueryErr.Error()
	}
	if e.basis != nil {
		msg += "; " + e.basis.advice(e)
	}
	return msg
}

// SafeToResend reports whether sending the same request again cannot do
// anything twice: true for a create (idempotent by OrderNo) and for the
// maintain commands other than refund; false for a refund.
func (e *OutcomeUnknownError) SafeToResend() bool { return e.basis != nil && e.basis.safeToResend() }

// Unwrap gives both failures, so errors.As finds a *NetworkError or
// errors.Is finds ErrSignatureMismatch or ErrNoTrace through it.
func (e *OutcomeUnknownError) Unwrap() []error {
	if e.QueryErr == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.QueryErr}
}

// checkAfter is when a look at a call that started at start may still
// find something new: QueryLag later, or zero once that has passed.
func checkAfter(start time.Time) time.Time {
	if t := start.Add(QueryLag); time.Now().Before(t) {
		return t
	}
	return time.Time{}
}

// SettleTimeout bounds the OrderQuery that settles a create or refund
// whose own deadline expired (see settleContext).
const SettleTimeout = 10 * time.Second

// settleContext is the context of the OrderQuery that settles an unknown
// outcome. A cancelled context means the caller wants nothing more: no
// query (the error is returned). An expired deadline is the usual way a
// reply gets lost, and leaving the caller with "unknown" then would be the
// worst answer: the query runs anyway, detached from the deadline and
// bounded by SettleTimeout.
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

// lookupOrder is OrderQuery by OrderNo; nil when the bank shows no such
// order (which, with the query's lag, proves nothing).
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

// settleLookup is lookupOrder under settleContext.
func (c *Client) settleLookup(ctx context.Context, orderNo string) (*Order, error) {
	qctx, cancel, err := settleContext(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	return c.lookupOrder(qctx, orderNo)
}

// checkResolvable is the guard of ResolveCreate and ResolveRefund.
func (c *Client) checkResolvable(u *OutcomeUnknownError) error {
	switch {
	case u == nil:
		return &ValidationError{Field: "OutcomeUnknownError", Reason: "is nil"}
	case u.shopNo != c.shopNo:
		return &ValidationError{Field: "OutcomeUnknownError", Reason: "is not from a client of this shop"}
	}
	return nil
}
