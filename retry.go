package sinopac

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds automatic retries. Only calls that change nothing at
// the bank (Nonce and the query services) are resent after an outcome is
// unknown; OrderCreate and OrderMaintain are resent only when the bank
// provably did not process them (the nonce step failed, a nonce error, or
// HTTP 429). Every attempt gets a fresh nonce and a fresh Sign.
//
// Retried: connection errors and timeouts, HTTP 429/502/503/504, and the
// bank's E9900 (busy), M0001 (maintenance) and E3001–E3003 (nonce). Not
// retried: other 4xx, signature mismatches, validation errors, other F
// codes, and a cancelled or expired context.
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

// DefaultRetryPolicy is what a Client uses unless WithRetryPolicy says otherwise.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, MinBackoff: 250 * time.Millisecond, MaxBackoff: 4 * time.Second, MaxElapsed: 20 * time.Second}

// NoRetry makes every call a single attempt.
var NoRetry = RetryPolicy{MaxAttempts: 1}

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
