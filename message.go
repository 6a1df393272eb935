package sinopac

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"
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
	block, err := newCipher(hashID)
	if err != nil {
		return nil, nil, err
	}
	plain, err := decrypt(block, m.Message, m.Nonce)
	if err != nil {
		return nil, nil, inService(err, m.APIService)
	}
	// The bank speaks UTF-8. Invalid bytes would be turned into U+FFFD by
	// encoding/json without a word, and nested fields are not covered by
	// the Sign: refuse them rather than decode a silently altered reply.
	if !utf8.Valid(plain) {
		return nil, nil, &MessageError{Service: m.APIService, Reason: "plaintext is not valid UTF-8", Kind: ErrNotUTF8}
	}
	members, err := scanObject(plain)
	if err != nil {
		return nil, nil, inService(err, m.APIService)
	}
	fields, err := rawFields(members)
	if err != nil {
		return nil, nil, inService(err, m.APIService)
	}
	sign := []byte(strings.ToUpper(m.Sign))
	if verifies(fields, sign, m.Nonce, hashID) {
		return plain, fields, nil
	}
	if len(model) > 0 {
		if mf, ok := modelFields(members, model); ok && verifies(mf, sign, m.Nonce, hashID) {
			return plain, mf, nil
		}
	}
	return nil, nil, fmt.Errorf("sinopac: %s: %w", m.APIService, ErrSignatureMismatch)
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
