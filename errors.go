package sinopac

import (
	"errors"
	"fmt"
	"time"
)

// ErrSignatureMismatch is matched (errors.Is) by every error for a reply
// whose Sign does not verify against its decrypted content: the reply was
// forged, corrupted, or sealed with other keys. Nothing of it is used.
var ErrSignatureMismatch = errors.New("sinopac: reply signature does not verify")

// ErrMalformedMessage is matched (errors.Is) by a *MessageError.
var ErrMalformedMessage = errors.New("sinopac: malformed message")

// The ways a message can fail to open, each matched (errors.Is) by the
// *MessageError that reports it (which also matches ErrMalformedMessage).
// A Sign that does not verify is ErrSignatureMismatch.
var (
	// ErrMessageNotHex: the envelope's Message holds a character that is
	// not a hex digit.
	ErrMessageNotHex = errors.New("sinopac: Message is not hex")
	// ErrMessageTruncated: the Message is empty, of odd length, or not a
	// whole number of 16-byte AES blocks: cut short, or not a Message.
	ErrMessageTruncated = errors.New("sinopac: Message is truncated")
	// ErrBadPadding: the Message decrypts without valid PKCS#7 padding,
	// almost always because of other keys or another nonce.
	ErrBadPadding = errors.New("sinopac: bad PKCS#7 padding")
	// ErrNotUTF8: the plaintext is not valid UTF-8.
	ErrNotUTF8 = errors.New("sinopac: plaintext is not UTF-8")
	// ErrNotJSONObject: the plaintext is not one JSON object (invalid
	// JSON, another kind of value, trailing data, or nesting deeper than
	// the SDK reads).
	ErrNotJSONObject = errors.New("sinopac: plaintext is not a JSON object")
	// ErrDuplicateField: the object names one top-level field twice,
	// exactly or differing in case ("Status" and "status"). Such a reply is
	// refused however it is signed: the Sign could cover one value while
	// the decoder keeps the other.
	ErrDuplicateField = errors.New("sinopac: duplicate field")
)

// ValidationError reports bad input, found before any network call.
type ValidationError struct {
	Field  string // the request field, e.g. "OrderNo" or "OrderDateTimeS"
	Reason string // the rule it breaks
}

func (e *ValidationError) Error() string {
	return "sinopac: invalid " + e.Field + ": " + e.Reason
}

// APIError is a reply whose Status is F: sealed and signed by the bank, or
// (Unverified) an unencrypted JSON body.
type APIError struct {
	Service     string // APIService, e.g. "OrderQuery"
	Status      string // "F"
	Code        Code   // e.g. "E2101"; compare with the Code… constants
	Message     string // the bank's text after the code, e.g. "訂單查詢條件不足"
	Description string // the bank's Description as sent
	// Unverified is true for a plain JSON body without the sealed
	// envelope: anyone on the path could have sent it, so it is not the
	// bank's word. A query may still fail with it (and is retried on a
	// retryable code); a create or maintain call it answers has an
	// unknown outcome and is settled (see OutcomeUnknownError).
	Unverified bool
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("sinopac: %s failed: %s %s", e.Service, e.Code, e.Message)
	if e.Unverified {
		msg += " (unsigned reply, not verified)"
	}
	return msg
}

// Retryable reports whether the bank said to try again later: busy,
// maintenance or a nonce problem (a new call gets a new nonce).
func (e *APIError) Retryable() bool { return e.Code.Retryable() }

// GatewayError is an HTTP reply that is not a sealed QPay envelope: a
// non-200 status from the API gateway (401 bad X-KeyID, 403, 429 rate, 499
// IP not allowed, 5xx) or a 200 whose body is not an envelope (an HTML
// error page, garbage).
type GatewayError struct {
	Service     string // APIService, or "Nonce" for the nonce endpoint
	StatusCode  int    // HTTP status
	ContentType string // the reply's media type, e.g. "text/html"; "" if none
	// Excerpt is the start of the body, at most 256 bytes on one line (of
	// an HTML page only its title), with the client's HashID and X-KeyID
	// removed and long digit runs and tokens masked with '#': account and
	// card numbers never appear in it.
	Excerpt    string
	RetryAfter time.Duration // from a Retry-After header, if any
}

func (e *GatewayError) Error() string {
	msg := fmt.Sprintf("sinopac: %s: gateway answered HTTP %d", e.Service, e.StatusCode)
	if e.StatusCode == 200 {
		msg = fmt.Sprintf("sinopac: %s: reply is not a QPay envelope", e.Service)
	}
	if e.ContentType != "" {
		msg += " (" + e.ContentType + ")"
	}
	if e.Excerpt != "" {
		msg += ": " + e.Excerpt
	}
	return msg
}

// Retryable reports whether the status is one that clears by itself.
func (e *GatewayError) Retryable() bool {
	switch e.StatusCode {
	case 429, 502, 503, 504:
		return true
	}
	return false
}

// MessageError reports a reply (or message) that cannot be opened: not hex,
// truncated, bad padding, not JSON, or not the expected shape.
type MessageError struct {
	Service string
	// Field names the reply field at fault when one is, e.g.
	// "OrderList[2].Amount" for an order without an amount.
	Field  string
	Reason string
	// Kind says how opening failed: ErrMessageNotHex, ErrMessageTruncated,
	// ErrBadPadding, ErrNotUTF8, ErrNotJSONObject or ErrDuplicateField,
	// matched with errors.Is. It is nil for a reply that opened but does not
	// fit (another OrderNo, no Status, an oversized body, …).
	Kind error
}

func (e *MessageError) Error() string {
	reason := e.Reason
	if e.Field != "" {
		reason = e.Field + " " + reason
	}
	if e.Service == "" {
		return "sinopac: malformed message: " + reason
	}
	return "sinopac: " + e.Service + ": malformed reply: " + reason
}

// Is makes errors.Is(err, ErrMalformedMessage) true, and errors.Is(err,
// e.Kind).
func (e *MessageError) Is(target error) bool {
	return target == ErrMalformedMessage || e.Kind != nil && target == e.Kind
}

// NetworkError reports a request that failed below HTTP: connection,
// timeout, cancellation. Unwrap gives the cause, so
// errors.Is(err, context.Canceled) works.
type NetworkError struct {
	Service string
	Err     error
	// MaybeSent is true when the Order request may have reached the bank
	// before the failure: the outcome of a create or maintain call is then
	// unknown. It is false when the request provably never left (the
	// nonce step failed, the rate limiter's wait ended, or the transport
	// failed before writing it). Set once by the pipeline.
	MaybeSent bool
}

func (e *NetworkError) Error() string { return "sinopac: " + e.Service + ": " + e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }
