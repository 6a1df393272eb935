package sinopac

// The wire layer: field rules and formats that several services share, and
// the one JSON encoding every signed message uses. Service files use these;
// they never reach into one another (see layers_test.go).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// marshalUnescaped is json.Marshal without HTML escaping: the bank signs
// '&', '<' and '>' literally, so "\u0026" on the wire would sign
// differently from what the bank reads. It is the only encoder of signed
// messages (Seal and OrderCreateRequest.MarshalJSON).
func marshalUnescaped(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// minuteLayout is a bank time to the minute: yyyyMMddHHmm, Taipei time.
const minuteLayout = "200601021504"

// wireMinute is t as yyyyMMddHHmm in Taipei time; the zero time is "".
func wireMinute(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(Taipei).Format(minuteLayout)
}

// dateLayout is a bank date: yyyyMMdd, Taipei time.
const dateLayout = "20060102"

// wireDate is t's Taipei date as yyyyMMdd.
func wireDate(t time.Time) string { return t.In(Taipei).Format(dateLayout) }

// daysBetween counts Taipei calendar days from a to b.
func daysBetween(a, b time.Time) int {
	ay, am, ad := a.In(Taipei).Date()
	by, bm, bd := b.In(Taipei).Date()
	da := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// checkShopNo: a ShopNo is X(20) and goes into the signed message and the
// envelope as it is.
func checkShopNo(s string) error {
	switch {
	case s == "":
		return &ValidationError{Field: "ShopNo", Reason: "is required"}
	case len(s) > 20:
		return &ValidationError{Field: "ShopNo", Reason: "is longer than 20 bytes"}
	case strings.TrimSpace(s) != s || strings.ContainsAny(s, " '\"%&=\t\r\n"):
		return &ValidationError{Field: "ShopNo", Reason: "contains spaces or reserved characters"}
	}
	return nil
}

// checkText applies the bank's rules for free text: at most max bytes, no
// ', " or %, no control characters, no surrounding spaces.
func checkText(name, v string, max int) error {
	switch {
	case len(v) > max:
		return &ValidationError{Field: name, Reason: fmt.Sprintf("is %d bytes, more than %d", len(v), max)}
	case strings.ContainsAny(v, `'"%`):
		return &ValidationError{Field: name, Reason: `must not contain ', " or %`}
	case strings.TrimSpace(v) != v:
		return &ValidationError{Field: name, Reason: "must not start or end with spaces"}
	case strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return &ValidationError{Field: name, Reason: "must not contain control characters"}
	}
	return nil
}

// checkURL: empty, or an absolute http(s) URL within the text rules.
func checkURL(name, v string) error {
	if v == "" {
		return nil
	}
	if err := checkText(name, v, 255); err != nil {
		return err
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return &ValidationError{Field: name, Reason: "must be an absolute http or https URL without credentials"}
	}
	return nil
}

// MaxPayTokenBytes is the length of a PayToken (X(100)).
const MaxPayTokenBytes = 100

// checkPayToken: a PayToken comes from an unauthenticated notification, so
// it is checked before it goes into a signed request.
func checkPayToken(tok string) error {
	switch {
	case tok == "":
		return &ValidationError{Field: "PayToken", Reason: "is required"}
	case len(tok) > MaxPayTokenBytes:
		return &ValidationError{Field: "PayToken", Reason: fmt.Sprintf("is %d bytes, more than %d", len(tok), MaxPayTokenBytes)}
	case strings.IndexFunc(tok, func(r rune) bool { return r <= ' ' || r > '~' || strings.ContainsRune(`'"%`, r) }) >= 0:
		return &ValidationError{Field: "PayToken", Reason: `must be printable ASCII without spaces, ', " or %`}
	}
	return nil
}
