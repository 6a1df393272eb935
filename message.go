package sinopac

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Version is the envelope version every call carries.
const Version = "1.0.0"

// APIMessage is the envelope posted to and returned by {base}/Order: the
// request or reply JSON, encrypted in Message and signed in Sign.
type APIMessage struct {
	Version    string `json:"Version"`
	ShopNo     string `json:"ShopNo"`
	APIService string `json:"APIService"`
	Sign       string `json:"Sign"`
	Nonce      string `json:"Nonce"`
	Message    string `json:"Message"`
}

// Seal builds the envelope for one call: payload is encoded as JSON
// (without HTML escaping), signed over exactly those bytes, and encrypted.
// A payload of type []byte or json.RawMessage is taken as the JSON itself,
// byte for byte.
func Seal(service, shopNo string, payload any, nonce, hashID string) (*APIMessage, error) {
	plain, err := marshalPayload(payload)
	if err != nil {
		return nil, err
	}
	sign, err := Sign(plain, nonce, hashID)
	if err != nil {
		return nil, err
	}
	msg, err := EncryptMessage(plain, hashID, nonce)
	if err != nil {
		return nil, err
	}
	return &APIMessage{Version: Version, ShopNo: shopNo, APIService: service, Sign: sign, Nonce: nonce, Message: msg}, nil
}

func marshalPayload(payload any) ([]byte, error) {
	switch p := payload.(type) {
	case json.RawMessage:
		return p, nil
	case []byte:
		return p, nil
	}
	b, err := marshalUnescaped(payload)
	if err != nil {
		return nil, fmt.Errorf("sinopac: encode request: %w", err)
	}
	return b, nil
}

// Open decrypts Message with the envelope's own Nonce, recomputes the Sign
// over the plaintext by the raw-JSON rule (see Sign) and compares it in
// constant time. It returns the plaintext only when the Sign verifies;
// otherwise an error matching ErrSignatureMismatch, or a *MessageError
// whose Kind says why the Message could not be read (ErrMessageNotHex,
// ErrMessageTruncated, ErrBadPadding, ErrNotUTF8, ErrNotJSONObject,
// ErrDuplicateField).
//
// Open serves both directions (the simulator opens requests with it). For
// a reply, OpenReply also accepts the bank's own signing rule.
func (m *APIMessage) Open(hashID string) ([]byte, error) {
	plain, _, err := m.open(hashID, nil)
	return plain, err
}

// OpenReply is Open for a reply, verified as the client verifies it: the
// Sign may follow the raw-JSON rule or the rule of the bank's .NET sample,
// which signs the reply model of the envelope's APIService (protocol §2a:
// model property names, whitespace-only values left out, an int absent
// from the JSON signed as 0). Both rules need the HashID. For an
// APIService the SDK does not model, OpenReply is Open.
func (m *APIMessage) OpenReply(hashID string) ([]byte, error) {
	plain, _, err := m.open(hashID, lookupService(m.APIService).reply)
	return plain, err
}

// open decrypts and verifies the envelope: by the raw-JSON rule, or by the
// model rule when model is not empty. It also returns the fields of the
// rule that verified, so the client reads Status and Description without
// decoding the message twice.
//
// A reply naming a field twice is refused before either rule is tried, so
// the Sign always covers the one value the decoder will read.
func (m *APIMessage) open(hashID string, model replyModel) ([]byte, []field, error) {
	plain, fields, _, err := openSealed(sealed{m.APIService, m.Sign, m.Nonce, []byte(m.Message)}, hashID, model, nil)
	return plain, fields, err
}

// sealed is what opening an envelope takes from it; message is the hex
// text of Message, which openSealed decodes.
type sealed struct {
	service, sign, nonce string
	message              []byte
}

// openSealed is open for the client's reply path: the Message arrives as
// bytes of the reply body, and when into is not nil the plaintext is
// decoded into it in the same pass that reads the fields to verify
// (readReply). decodeErr is a verified-looking reply that does not fit
// into; the caller reports it only once the Sign verified and Status is S,
// as a decode after verification would have. With into, plain is nil.
func openSealed(m sealed, hashID string, model replyModel, into replyTarget) (plain []byte, fields []field, decodeErr, err error) {
	block, err := newCipher(hashID)
	if err != nil {
		return nil, nil, nil, err
	}
	var buf []byte
	if into != nil {
		// The plaintext is not kept: the typed reply's strings are
		// substrings of readReply's own copy.
		sb := getScratch()
		defer putScratch(sb)
		buf = *sb
		defer func() { *sb = buf[:0] }()
	}
	plain, err = decrypt(block, m.message, m.nonce, buf)
	if err != nil {
		return nil, nil, nil, inService(err, m.service)
	}
	buf = plain
	// The bank speaks UTF-8. Invalid bytes would be turned into U+FFFD by
	// encoding/json without a word, and nested fields are not covered by
	// the Sign: refuse them rather than decode a silently altered reply.
	if !utf8.Valid(plain) {
		return nil, nil, nil, &MessageError{Service: m.service, Reason: "plaintext is not valid UTF-8", Kind: ErrNotUTF8}
	}
	members, decodeErr, err := readReply(plain, into)
	if err != nil {
		return nil, nil, nil, inService(err, m.service)
	}
	fields, err = rawFields(members)
	if err != nil {
		return nil, nil, nil, inService(err, m.service)
	}
	if into != nil {
		plain = nil // a scratch buffer, reused once this returns
	}
	sign := []byte(strings.ToUpper(m.sign))
	if verifies(fields, sign, m.nonce, hashID) {
		return plain, fields, decodeErr, nil
	}
	if len(model) > 0 {
		if mf, ok := modelFields(members, model); ok && verifies(mf, sign, m.nonce, hashID) {
			return plain, mf, decodeErr, nil
		}
	}
	return nil, nil, nil, fmt.Errorf("sinopac: %s: %w", m.service, ErrSignatureMismatch)
}

// verifies compares the Sign of fields with sign in constant time.
func verifies(fields []field, sign []byte, nonce, hashID string) bool {
	return subtle.ConstantTimeCompare([]byte(signFields(fields, nonce, hashID)), sign) == 1
}

// inService is err with Service set, on a copy: an error is never
// annotated in place, in case it is shared.
func inService(err error, service string) error {
	if me, ok := err.(*MessageError); ok {
		cp := *me
		cp.Service = service
		return &cp
	}
	return err
}

// fieldValue finds a top-level field by name, case-insensitively as
// encoding/json and Json.NET bind names (open refused duplicates).
func fieldValue(fields []field, name string) string {
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// envelope is a reply body as openReply reads it: the envelope's strings,
// the Status and Description of an unencrypted error body, and Message
// still as hex bytes.
type envelope struct {
	version, shopNo, apiService, sign, nonce, status, description string
	message                                                       []byte
}

// readEnvelope reads the common reply body without a general JSON
// decoder: one object whose members are all strings of printable ASCII
// without escapes, Message taken as a span of body, found with one
// IndexByte. It reads what encoding/json would read into replyShape
// (names matched case-insensitively, the last of two kept, other names
// ignored), and reports false for any other body, which the caller hands
// to encoding/json. The span of Message is not looked into here: the hex
// decoder checks every byte of it, and the caller takes the general path
// when it is not hex.
func readEnvelope(body []byte) (env envelope, ok bool) {
	i := skipWS(body, 0)
	if i == len(body) || body[i] != '{' {
		return env, false
	}
	i = skipWS(body, i+1)
	if i < len(body) && body[i] == '}' {
		return env, skipWS(body, i+1) == len(body)
	}
	for {
		name, j, ok := plainString(body, i)
		if !ok {
			return env, false
		}
		i = skipWS(body, j)
		if i == len(body) || body[i] != ':' {
			return env, false
		}
		i = skipWS(body, i+1)
		if strings.EqualFold(name, "Message") {
			if i == len(body) || body[i] != '"' {
				return env, false
			}
			end := bytes.IndexByte(body[i+1:], '"')
			if end < 0 {
				return env, false
			}
			env.message = body[i+1 : i+1+end]
			i += end + 2
		} else {
			v, j, ok := plainString(body, i)
			if !ok {
				return env, false
			}
			i = j
			switch {
			case strings.EqualFold(name, "Version"):
				env.version = v
			case strings.EqualFold(name, "ShopNo"):
				env.shopNo = v
			case strings.EqualFold(name, "APIService"):
				env.apiService = v
			case strings.EqualFold(name, "Sign"):
				env.sign = v
			case strings.EqualFold(name, "Nonce"):
				env.nonce = v
			case strings.EqualFold(name, "Status"):
				env.status = v
			case strings.EqualFold(name, "Description"):
				env.description = v
			}
		}
		i = skipWS(body, i)
		if i == len(body) {
			return env, false
		}
		switch body[i] {
		case '}':
			return env, skipWS(body, i+1) == len(body)
		case ',':
			i = skipWS(body, i+1)
		default:
			return env, false
		}
	}
}

// plainString reads a JSON string at body[i] made of printable ASCII
// other than backslash (so it needs no unescaping) and returns it and the
// index after it.
func plainString(body []byte, i int) (string, int, bool) {
	if i == len(body) || body[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(body); j++ {
		switch c := body[j]; {
		case c == '"':
			return string(body[i+1 : j]), j + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return "", 0, false
		}
	}
	return "", 0, false
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scratch holds buffers for bytes that do not outlive a call: reply
// bodies (every string taken from one is a copy) and the plaintext of a
// typed reply. A 300-order page is 400 KB of body and 200 KB of
// plaintext; allocating them anew for every call made the garbage
// collector run about once per page.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// maxScratch bounds the buffers kept for reuse.
const maxScratch = 4 << 20

func getScratch() *[]byte { return scratch.Get().(*[]byte) }

func putScratch(b *[]byte) {
	if cap(*b) <= maxScratch {
		*b = (*b)[:0]
		scratch.Put(b)
	}
}

// marshalEnvelope is json.Marshal(m), byte for byte, without reflection
// for the usual envelope (fields of printable ASCII that need no
// escaping); any other falls back to json.Marshal.
func marshalEnvelope(m *APIMessage) ([]byte, error) {
	fields := [...]string{m.Version, m.ShopNo, m.APIService, m.Sign, m.Nonce, m.Message}
	size := len(`{"Version":"","ShopNo":"","APIService":"","Sign":"","Nonce":"","Message":""}`)
	for _, f := range fields {
		if !plainJSON(f) {
			return json.Marshal(m)
		}
		size += len(f)
	}
	b := make([]byte, 0, size)
	for i, name := range [...]string{`{"Version":"`, `","ShopNo":"`, `","APIService":"`, `","Sign":"`, `","Nonce":"`, `","Message":"`} {
		b = append(append(b, name...), fields[i]...)
	}
	return append(b, `"}`...), nil
}

// plainJSON reports whether json.Marshal writes s as it is: printable
// ASCII without '"', '\\' and the HTML characters it escapes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
