package sinopac

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds automatic retries. Every attempt gets a fresh nonce
// and a fresh Sign.
//
// Which failures retry: connection errors and timeouts, HTTP 429/502/503/504,
// and the bank's E9900 (busy), M0001 (maintenance) and E3001–E3003 (nonce).
// Not retried: other 4xx, signature mismatches, validation errors, other F
// codes, and a cancelled or expired context.
//
// Which calls retry: the services that change nothing at the bank (Nonce,
// OrderQuery, OrderPayQuery, OrderUnCapturedQuery, BillQuery, AllotQuery)
// on any of those failures. OrderCreate, OrderMaintain and services the SDK
// does not model only when the failed attempt proves the bank did not
// process it: the nonce step failed (no Order request was made), the Order
// request provably never left (the rate limiter's wait ended, or the
// transport failed before writing it), or the bank's sealed and verified
// reply refused it with E3001–E3003, E9900 or M0001. After anything else
// that may have reached the bank — a timeout, a dropped connection, any
// HTTP status (429 and 5xx included), an unsigned body, a reply that does
// not verify — they are never resent: the outcome is unknown and the
// service settles it (see OutcomeUnknownError).
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included. 1 disables retries.
	MaxAttempts int
	// MinBackoff is the first wait; each further wait doubles, up to MaxBackoff.
	// The wait is jittered to between half and all of that value.
	MinBackoff, MaxBackoff time.Duration
	// MaxElapsed bounds the retrying, waits included: no retry starts
	// whose wait would end past it, and a Retry-After longer than that ends
	// the call at once (with the error, whose RetryAfter says when to come
	// back). The attempt in flight is not cut short, so a call ends by
	// MaxElapsed plus the duration of one attempt (each request bounded by
	// the http.Client's Timeout). 0 means no bound on time, only on attempts.
	MaxElapsed time.Duration
}

// DefaultRetryPolicy is what a Client uses unless WithRetryPolicy says
// otherwise: at most 4 attempts, waits from 250 ms doubling to 4 s, no
// retry starting after 20 s. It returns a new value each time, so no
// caller can change another client's policy.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, MinBackoff: 250 * time.Millisecond, MaxBackoff: 4 * time.Second, MaxElapsed: 20 * time.Second}
}

// NoRetry makes every call a single attempt.
func NoRetry() RetryPolicy { return RetryPolicy{MaxAttempts: 1} }

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) error {
		if p.MaxAttempts < 1 || p.MinBackoff < 0 || p.MaxBackoff < p.MinBackoff || p.MaxElapsed < 0 {
			return &ValidationError{Field: "RetryPolicy", Reason: "needs MaxAttempts >= 1 and 0 <= MinBackoff <= MaxBackoff"}
		}
		c.retry = p
		return nil
	}
}

// next decides whether attempt (1-based) may be followed by another and
// how long to wait first. resendable says whether resending is safe.
func (p RetryPolicy) next(attempt int, start time.Time, err error, resendable bool) (time.Duration, bool) {
	if attempt >= p.MaxAttempts || !resendable || !Retryable(err) {
		return 0, false
	}
	// Double MinBackoff per attempt up to MaxBackoff, step by step: a
	// shift by attempt-1 overflows for large attempt numbers, and a zero
	// MinBackoff must stay zero rather than jump to MaxBackoff.
	wait := p.MinBackoff
	for i := 1; i < attempt && wait > 0 && wait < p.MaxBackoff; i++ {
		if wait > p.MaxBackoff/2 {
			wait = p.MaxBackoff
			break
		}
		wait *= 2
	}
	if wait > 0 {
		wait = wait/2 + rand.N(wait/2+1)
	}
	var ge *GatewayError
	if errors.As(err, &ge) && ge.RetryAfter > wait {
		wait = ge.RetryAfter
	}
	if p.MaxElapsed > 0 && time.Since(start)+wait > p.MaxElapsed {
		return 0, false
	}
	return wait, true
}

// Retryable reports whether err is a failure that may clear by itself:
// a network error or timeout (not a cancelled context), a gateway 429
// or 5xx from the list in RetryPolicy, or a bank busy/maintenance/nonce code.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	var ge *GatewayError
	if errors.As(err, &ge) {
		return ge.Retryable()
	}
	// Connection failures and timeouts, including the http.Client's own
	// Timeout; the caller's expired context is caught by the call loop.
	var ne *NetworkError
	return errors.As(err, &ne)
}
