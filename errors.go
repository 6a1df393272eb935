package sinopac

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Result codes the bank puts at the start of Description (protocol §3).
// Branch on APIError.Code with these, never on the text.
const (
	CodeOK              = "S0000" // 處理成功
	CodeNoData          = "S0001" // 處理成功，查無資料: success with no data
	CodeBadSign         = "E0000" // 安全簽章錯誤
	CodeBadFormat       = "E0001" // 請求格式錯誤
	CodeShopWrong       = "E0100"
	CodeShopUnknown     = "E0101"
	CodeDuplicateOrder  = "E0302" // OrderNo already used
	CodeAmount          = "E0401" // amount not a whole TWD
	CodeNoCondition     = "E2101" // 訂單查詢條件不足
	CodeQueryFailed     = "E2199"
	CodePayTokenInvalid = "E2501" // 付款查詢 Token 錯誤
	CodeNotFound        = "E2601" // 資料不存在
	CodeNonceError      = "E3001"
	CodeNonceInvalid    = "E3002"
	CodeNonceExpired    = "E3003"
	CodeVersion         = "E3301"
	CodeNoService       = "E3401"
	CodeMessageContent  = "E3501"
	CodeBusy            = "E9900" // 系統忙碌中: retryable
	CodeSystem          = "E9999"
	CodeMaintenance     = "M0001" // 系統維護中: retryable
)

// ErrSignatureMismatch is matched (errors.Is) by every error for a reply
// whose Sign does not verify against its decrypted content: the reply was
// forged, corrupted, or sealed with other keys. Nothing of it is used.
var ErrSignatureMismatch = errors.New("sinopac: reply signature does not verify")

// ErrMalformedMessage is matched (errors.Is) by a *MessageError.
var ErrMalformedMessage = errors.New("sinopac: malformed message")

// ValidationError reports bad input, found before any network call.
type ValidationError struct {
	Field  string // the request field, e.g. "OrderNo" or "OrderDateTimeS"
	Reason string // the rule it breaks
}

func (e *ValidationError) Error() string {
	return "sinopac: invalid " + e.Field + ": " + e.Reason
}

// APIError is a reply the bank sealed and signed (or an unencrypted error
// body it sent) whose Status is F.
type APIError struct {
	Service     string // APIService, e.g. "OrderQuery"
	Status      string // "F"
	Code        string // e.g. "E2101"; compare with the Code… constants
	Message     string // the bank's text after the code, e.g. "訂單查詢條件不足"
	Description string // the bank's Description as sent
}

func (e *APIError) Error() string {
	return fmt.Sprintf("sinopac: %s failed: %s %s", e.Service, e.Code, e.Message)
}

// Retryable reports whether the bank said to try again later: busy,
// maintenance or a nonce problem (a new call gets a new nonce).
func (e *APIError) Retryable() bool {
	switch e.Code {
	case CodeBusy, CodeMaintenance, CodeNonceError, CodeNonceInvalid, CodeNonceExpired:
		return true
	}
	return false
}

// parseDescription splits "S0000 – 處理成功" into its code and text. The
// bank separates them with an EN DASH; a plain dash or a space is tolerated.
func parseDescription(d string) (code, msg string) {
	d = strings.TrimSpace(d)
	for _, sep := range []string{"–", "-", "—", " "} {
		if i := strings.Index(d, sep); i > 0 {
			c := strings.TrimSpace(d[:i])
			if isCode(c) {
				return c, strings.TrimSpace(d[i+len(sep):])
			}
		}
	}
	if isCode(d) {
		return d, ""
	}
	return "", d
}

// isCode matches a result code: a letter and four digits ("E2101").
func isCode(s string) bool {
	if len(s) != 5 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < 5; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// GatewayError is an HTTP reply that is not a sealed QPay envelope: a
// non-200 status from the API gateway (401 bad X-KeyID, 403, 429 rate, 499
// IP not allowed, 5xx) or a 200 whose body is not an envelope (an HTML
// error page, garbage).
type GatewayError struct {
	Service    string        // APIService, or "Nonce" for the nonce endpoint
	StatusCode int           // HTTP status
	Excerpt    string        // the start of the body, bounded, secrets removed
	RetryAfter time.Duration // from a Retry-After header, if any
}

func (e *GatewayError) Error() string {
	msg := fmt.Sprintf("sinopac: %s: gateway answered HTTP %d", e.Service, e.StatusCode)
	if e.StatusCode == 200 {
		msg = fmt.Sprintf("sinopac: %s: reply is not a QPay envelope", e.Service)
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
	Reason  string
}

func (e *MessageError) Error() string {
	if e.Service == "" {
		return "sinopac: malformed message: " + e.Reason
	}
	return "sinopac: " + e.Service + ": malformed reply: " + e.Reason
}

// Is makes errors.Is(err, ErrMalformedMessage) true.
func (e *MessageError) Is(target error) bool { return target == ErrMalformedMessage }

// NetworkError reports a request that failed below HTTP: connection,
// timeout, cancellation. Unwrap gives the cause, so
// errors.Is(err, context.Canceled) works.
type NetworkError struct {
	Service string
	Err     error
	// MaybeSent is true when the request may have reached the bank before
	// the failure (the outcome of a create or maintain call is unknown).
	MaybeSent bool
}

func (e *NetworkError) Error() string { return "sinopac: " + e.Service + ": " + e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }
