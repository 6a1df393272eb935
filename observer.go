package sinopac

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Observer receives the SDK's events: each attempt of a service call, each
// nonce fetch, each notification the BackendHandler serves and each pass
// of a reconciler built on the client. Every field is optional; a nil
// field costs nothing. Give it to NewClient with WithObserver.
//
// Every service is one POST to /Order, so an HTTP-level wrapper cannot
// tell an OrderQuery from an OrderCreate; an Observer can. Package
// github.com/funbiz-go/sinopac/otelqpay implements one on OpenTelemetry.
//
// Each Start hook may return a context derived from the one it is given
// (say, holding a span); the SDK runs the step with that context, so a
// nonce fetch's span is a child of its call's, and hands it to the
// matching End hook. A Start hook returning nil keeps the context as it
// was. The hooks run synchronously on the goroutine doing the work and
// may be called concurrently: they must be safe for concurrent use and
// return quickly.
//
// No event holds a key, the HashID, the X-KeyID, a nonce, a Sign, a
// PayToken, a body or an error's text: only names, counts, codes, classes
// and durations.
type Observer struct {
	// CallStart and CallEnd frame one attempt of a service call: its nonce,
	// the Order POST and the reply's verification. A retried call has an
	// attempt each.
	CallStart func(ctx context.Context, c CallInfo) context.Context
	CallEnd   func(ctx context.Context, c CallDone)

	// NonceStart and NonceEnd frame one POST to /Nonce, for a call or to
	// fill the prefetch pool (WithNoncePrefetch).
	NonceStart func(ctx context.Context, n NonceInfo) context.Context
	NonceEnd   func(ctx context.Context, n NonceDone)

	// NotificationStart and NotificationEnd frame one request to the
	// BackendHandler, from its arrival to its answer. The OrderPayQuery
	// call that verifies it runs in between, with the Start hook's context.
	NotificationStart func(ctx context.Context, n NotificationInfo) context.Context
	NotificationEnd   func(ctx context.Context, n NotificationDone)

	// ReconcileStart and ReconcileEnd frame one shop's share of a pass of
	// a reconciler built on the client (package reconcile, which reads
	// them with Client.Observer), or one order's check run on its own (a
	// job of reconcile/riverpg; ReconcileInfo.Check). The calls (and the
	// handler) run with the Start hook's context.
	ReconcileStart func(ctx context.Context, p ReconcileInfo) context.Context
	ReconcileEnd   func(ctx context.Context, p ReconcileDone)
}

// WithObserver reports the client's events to o (see Observer). A later
// WithObserver replaces an earlier one.
func WithObserver(o Observer) Option {
	return func(c *Client) error {
		c.observer = nil
		if !o.empty() {
			c.observer = &o
		}
		return nil
	}
}

// empty reports an Observer without hooks: the client then skips even the
// bookkeeping of observing.
func (o *Observer) empty() bool {
	return o.CallStart == nil && o.CallEnd == nil && o.NonceStart == nil && o.NonceEnd == nil &&
		o.NotificationStart == nil && o.NotificationEnd == nil && o.ReconcileStart == nil && o.ReconcileEnd == nil
}

// Observer returns the Observer given with WithObserver, or the zero
// Observer. Packages built on a Client (reconcile) report their own events
// through it.
func (c *Client) Observer() Observer {
	if c.observer == nil {
		return Observer{}
	}
	return *c.observer
}

// CallInfo describes an attempt of a service call as it starts.
type CallInfo struct {
	Service string // the APIService, e.g. "OrderQuery"
	ShopNo  string
	Attempt int // 1 for the first attempt of the call, 2 for its first retry, …
}

// Retried reports whether the attempt repeats an earlier one of the call.
func (c CallInfo) Retried() bool { return c.Attempt > 1 }

// CallDone describes an attempt of a service call as it ends.
type CallDone struct {
	CallInfo
	// HTTPStatus is the status of the Order POST's reply, 0 when none
	// arrived (a network failure, or a failed nonce step).
	HTTPStatus int
	// Status and Code are the bank's verdict: "S" and the Description's
	// code on success, the APIError's Status and Code for a Status F
	// reply, empty when there is no verified verdict.
	Status string
	Code   Code
	// Class is the failure's class, ErrorClassNone on success.
	Class ErrorClass
	// NonceFailed is true when the attempt failed in its nonce step: the
	// Order request was not sent.
	NonceFailed bool
	// Retry is true when the pipeline makes another attempt after
	// RetryWait (unless the context ends during the wait).
	Retry     bool
	RetryWait time.Duration
	Duration  time.Duration // the attempt, its nonce step included
}

// NonceInfo describes a nonce fetch as it starts.
type NonceInfo struct {
	ShopNo string
	// Prefetch is true for a fetch that fills the prefetch pool beside a
	// call, false for a call fetching its own nonce.
	Prefetch bool
}

// NonceDone describes a nonce fetch as it ends. Status and Code are set
// when the nonce endpoint answered with a Status F body.
type NonceDone struct {
	NonceInfo
	HTTPStatus int // 0 when no reply arrived
	Status     string
	Code       Code
	Class      ErrorClass
	Duration   time.Duration
}

// NotificationInfo describes a notification as it arrives.
type NotificationInfo struct {
	// ShopNo is the shop of the client serving the notification, never
	// the ShopNo its unauthenticated body claims (anyone can post any).
	ShopNo string
}

// NotificationOutcome is how the BackendHandler answered a notification.
type NotificationOutcome string

// The notification outcomes.
const (
	// NotificationAcknowledged: answered {"Status":"S"} after the handler's
	// function accepted the verified result. The bank stops resending.
	NotificationAcknowledged NotificationOutcome = "acknowledged"
	// NotificationRefused: answered 4xx; not a notification for this shop
	// (the function was not called). Resending will not change that.
	NotificationRefused NotificationOutcome = "refused"
	// NotificationFailed: answered 5xx; verifying it or the function
	// failed. The bank resends it later.
	NotificationFailed NotificationOutcome = "failed"
	// NotificationDeferred: answered another 2xx without {"Status":"S"}:
	// the verified result is not final yet (not paid), so the bank is
	// left to resend it.
	NotificationDeferred NotificationOutcome = "deferred"
)

// NotificationReason says why a notification was refused or failed.
type NotificationReason string

// The notification reasons.
const (
	NotificationReasonNone     NotificationReason = ""                  // acknowledged
	NotificationBadMethod      NotificationReason = "bad_method"        // not a POST (405)
	NotificationBadContentType NotificationReason = "bad_content_type"  // a Content-Type other than JSON (400)
	NotificationTooLarge       NotificationReason = "too_large"         // over MaxNotificationBytes (413)
	NotificationBadBody        NotificationReason = "bad_body"          // not {"ShopNo","PayToken"} JSON, or a malformed PayToken (400)
	NotificationOtherShop      NotificationReason = "other_shop"        // another shop's ShopNo (400)
	NotificationUnknownToken   NotificationReason = "unknown_pay_token" // the bank does not know the PayToken (400)
	NotificationQueryFailed    NotificationReason = "query_failed"      // the verifying OrderPayQuery failed otherwise (500)
	NotificationHandlerFailed  NotificationReason = "handler_failed"    // the function returned an error (500)
	NotificationNotFinal       NotificationReason = "not_final"         // the verified result is not final yet (202)
)

// NotificationDone describes a notification as it was answered.
// Every field is of a small, fixed set of values or a count: fit for
// metric attributes.
type NotificationDone struct {
	NotificationInfo
	Outcome    NotificationOutcome
	Reason     NotificationReason
	HTTPStatus int // what the handler answered
	// APType and Paid come from the verified OrderPayQuery result, when
	// the notification got that far: "PayOut", "CaptureOut", …, and
	// whether it reports a successful payment (ResponseOrderPayQuery.Paid).
	APType string
	Paid   bool
	// Class is the verifying OrderPayQuery's failure class, if it failed.
	Class    ErrorClass
	Duration time.Duration
}

// ReconcileInfo describes a reconciler pass as it starts: one shop's
// share of it (a pass over many shops reports once per shop, each to the
// Observer of that shop's client).
type ReconcileInfo struct {
	ShopNo string
	// Check is true for the check of a single order run on its own (a
	// reconcile/riverpg job: it counts its event but not the backlog),
	// false for a pass over the shop's due orders.
	Check bool
}

// ReconcileDone describes a reconciler pass as it ends.
type ReconcileDone struct {
	ReconcileInfo
	Checked int // orders checked (events produced)
	Queries int // bank lookups
	Failed  int // orders left for a later pass
	// Events counts the events the handler accepted, by kind ("paid",
	// "expired", …; package reconcile's Kind). Read it, do not keep it.
	Events map[string]int
	// Backlog is true when Pending and OldestPending were measured: at
	// the end of a pass, unless counting failed; never for a Check.
	Backlog bool
	// Pending is the number of the shop's orders still tracked after the
	// pass; OldestPending the age of the oldest of them (since its
	// CreatedAt), 0 when none is pending.
	Pending       int
	OldestPending time.Duration
	Class         ErrorClass // the pass's failure class (ErrorClassOf of its error)
	Duration      time.Duration
}

// ErrorClass names the kind of an SDK failure, for metrics and traces:
// a small, fixed set of values, derived from the error types (see
// ErrorClassOf).
type ErrorClass string

// The error classes.
const (
	ErrorClassNone           ErrorClass = ""                // no error
	ErrorClassValidation     ErrorClass = "validation"      // *ValidationError: bad input, nothing sent
	ErrorClassAPI            ErrorClass = "api"             // *APIError: the bank answered Status F
	ErrorClassGateway        ErrorClass = "gateway"         // *GatewayError: HTTP 4xx/5xx, or no QPay envelope
	ErrorClassSignature      ErrorClass = "signature"       // ErrSignatureMismatch: a reply's Sign does not verify
	ErrorClassMalformed      ErrorClass = "malformed"       // *MessageError: a reply that cannot be opened
	ErrorClassNetwork        ErrorClass = "network"         // *NetworkError: connection, timeout
	ErrorClassCanceled       ErrorClass = "canceled"        // the caller's context was cancelled
	ErrorClassOutcomeUnknown ErrorClass = "outcome_unknown" // *OutcomeUnknownError: a create or refund that may have been done
	ErrorClassNotProcessed   ErrorClass = "not_processed"   // *NotProcessedError: settled as not done, safe to resend
	ErrorClassOther          ErrorClass = "other"           // an error the SDK did not type
)

// ErrorClassOf classifies err by the SDK's error types. An outcome
// (unknown, not processed) wins over the failure inside it, and a
// cancelled context over the network error that carries it.
func ErrorClassOf(err error) ErrorClass {
	var (
		unknown *OutcomeUnknownError
		notDone *NotProcessedError
		ve      *ValidationError
		me      *MessageError
		ae      *APIError
		ge      *GatewayError
		ne      *NetworkError
	)
	switch {
	case err == nil:
		return ErrorClassNone
	case errors.As(err, &unknown):
		return ErrorClassOutcomeUnknown
	case errors.As(err, &notDone):
		return ErrorClassNotProcessed
	case errors.As(err, &ve):
		return ErrorClassValidation
	case errors.Is(err, ErrSignatureMismatch):
		return ErrorClassSignature
	case errors.As(err, &me):
		return ErrorClassMalformed
	case errors.As(err, &ae):
		return ErrorClassAPI
	case errors.As(err, &ge):
		return ErrorClassGateway
	case errors.Is(err, context.Canceled):
		return ErrorClassCanceled
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return ErrorClassNetwork
	}
	return ErrorClassOther
}

// verdict is the bank's Status and Code behind a result: "S" and the
// Description's code on success, the APIError's for Status F.
func verdict(err error, description string) (string, Code) {
	if err == nil {
		code, _ := parseDescription(description)
		return "S", code
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status, ae.Code
	}
	return "", ""
}

// replyStatus is the HTTP status of the reply behind a result: 200 for
// success and for replies that arrived but failed (Status F, bad Sign,
// unreadable), the gateway's status, 0 when no reply arrived.
func replyStatus(err error) int {
	var ge *GatewayError
	switch ErrorClassOf(err) {
	case ErrorClassNone, ErrorClassAPI, ErrorClassSignature, ErrorClassMalformed:
		return http.StatusOK
	case ErrorClassGateway:
		if errors.As(err, &ge) {
			return ge.StatusCode
		}
	}
	return 0
}

// start calls a Start hook, keeping ctx when the hook is nil or returns nil.
func start[E any](ctx context.Context, hook func(context.Context, E) context.Context, e E) context.Context {
	if hook != nil {
		if c := hook(ctx, e); c != nil {
			return c
		}
	}
	return ctx
}

// observedCall is one attempt of a call between observeCallStart and end.
// Its zero value (no observer) observes nothing.
type observedCall struct {
	o     *Observer
	ctx   context.Context
	info  CallInfo
	begun time.Time
}

// observeCallStart reports the start of an attempt and returns the context
// to run it with (pass it to attempt, so the nonce step is a child).
func (c *Client) observeCallStart(ctx context.Context, service string, attempt int) (context.Context, observedCall) {
	o := c.observer
	if o == nil {
		return ctx, observedCall{}
	}
	info := CallInfo{Service: service, ShopNo: c.shopNo, Attempt: attempt}
	ctx = start(ctx, o.CallStart, info)
	return ctx, observedCall{o: o, ctx: ctx, info: info, begun: time.Now()}
}

// end reports the attempt's result: err (nil on success), the verified
// reply's Description on success, whether the attempt failed in its nonce
// step (the pipeline knows how far an attempt got; it is not re-derived
// here), and the retry policy's decision.
func (oc observedCall) end(err error, description string, nonceStep, retry bool, wait time.Duration) {
	if oc.o == nil || oc.o.CallEnd == nil {
		return
	}
	d := CallDone{CallInfo: oc.info, Class: ErrorClassOf(err), Duration: time.Since(oc.begun)}
	d.Status, d.Code = verdict(err, description)
	if nonceStep {
		d.NonceFailed = true
	} else {
		d.HTTPStatus = replyStatus(err)
	}
	if retry {
		d.Retry, d.RetryWait = true, wait
	}
	oc.o.CallEnd(oc.ctx, d)
}

// observedNonce is one nonce fetch between observeNonceStart and end.
type observedNonce struct {
	o     *Observer
	ctx   context.Context
	info  NonceInfo
	begun time.Time
}

// observeNonceStart reports the start of a POST to /Nonce; prefetch says
// whether it fills the pool.
func (c *Client) observeNonceStart(ctx context.Context, prefetch bool) (context.Context, observedNonce) {
	o := c.observer
	if o == nil {
		return ctx, observedNonce{}
	}
	info := NonceInfo{ShopNo: c.shopNo, Prefetch: prefetch}
	ctx = start(ctx, o.NonceStart, info)
	return ctx, observedNonce{o: o, ctx: ctx, info: info, begun: time.Now()}
}

// end reports the fetch's result.
func (on observedNonce) end(err error) {
	if on.o == nil || on.o.NonceEnd == nil {
		return
	}
	d := NonceDone{NonceInfo: on.info, HTTPStatus: replyStatus(err), Class: ErrorClassOf(err), Duration: time.Since(on.begun)}
	if err != nil {
		d.Status, d.Code = verdict(err, "")
	}
	on.o.NonceEnd(on.ctx, d)
}

// observedNotification is one BackendHandler request between
// observeNotificationStart and end.
type observedNotification struct {
	o     *Observer
	ctx   context.Context
	info  NotificationInfo
	begun time.Time
}

// observeNotificationStart reports a notification's arrival at c's
// handler and returns the context to verify and handle it with.
func (c *Client) observeNotificationStart(ctx context.Context) (context.Context, observedNotification) {
	return observeNotification(ctx, c.observer, c.shopNo)
}

// observeNotification is observeNotificationStart for a handler that
// serves several clients: o and shopNo are those of the handler (or of the
// client it resolved), never taken from the notification's body.
func observeNotification(ctx context.Context, o *Observer, shopNo string) (context.Context, observedNotification) {
	if o == nil {
		return ctx, observedNotification{}
	}
	info := NotificationInfo{ShopNo: shopNo}
	ctx = start(ctx, o.NotificationStart, info)
	return ctx, observedNotification{o: o, ctx: ctx, info: info, begun: time.Now()}
}

// end reports the answer: the HTTP status written, why (for a non-200),
// the verified result if QueryPayment gave one, and QueryPayment's error.
// The outcome follows from the status: 200 acknowledged, another 2xx
// deferred, 5xx failed, any other refused.
func (on observedNotification) end(status int, reason NotificationReason, res *ResponseOrderPayQuery, queryErr error) {
	if on.o == nil || on.o.NotificationEnd == nil {
		return
	}
	d := NotificationDone{NotificationInfo: on.info, Reason: reason, HTTPStatus: status, Class: ErrorClassOf(queryErr),
		Duration: time.Since(on.begun)}
	switch {
	case status == http.StatusOK:
		d.Outcome, d.Reason = NotificationAcknowledged, NotificationReasonNone
	case status >= 500:
		d.Outcome = NotificationFailed
	case status >= 200 && status < 300:
		d.Outcome = NotificationDeferred
	default:
		d.Outcome = NotificationRefused
	}
	if res != nil {
		d.APType, d.Paid = res.TSResultContent.APType, res.Paid()
	}
	on.o.NotificationEnd(on.ctx, d)
}
