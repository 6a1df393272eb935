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
// over the plaintext and compares it in constant time. It returns the
// plaintext only when the Sign verifies; otherwise an error matching
// ErrSignatureMismatch (or a *MessageError for an unreadable Message).
func (m *APIMessage) Open(hashID string) ([]byte, error) {
	plain, _, err := m.open(hashID)
	return plain, err
}

// open also returns the top-level scalar fields it verified, so the client
// reads Status and Description without decoding the message twice.
func (m *APIMessage) open(hashID string) ([]byte, []field, error) {
	block, err := newCipher(hashID)
	if err != nil {
		return nil, nil, err
	}
	plain, err := decrypt(block, m.Message, m.Nonce)
	if err != nil {
		if me, ok := err.(*MessageError); ok {
			me.Service = m.APIService
		}
		return nil, nil, err
	}
	// The bank speaks UTF-8. Invalid bytes would be turned into U+FFFD by
	// encoding/json without a word, and nested fields are not covered by
	// the Sign: refuse them rather than decode a silently altered reply.
	if !utf8.Valid(plain) {
		return nil, nil, &MessageError{Service: m.APIService, Reason: "plaintext is not valid UTF-8"}
	}
	fields, err := topLevelScalars(plain)
	if err != nil {
		if me, ok := err.(*MessageError); ok {
			me.Service = m.APIService
		}
		return nil, nil, err
	}
	want := signFields(fields, m.Nonce, hashID)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToUpper(m.Sign))) != 1 {
		return nil, nil, fmt.Errorf("sinopac: %s: %w", m.APIService, ErrSignatureMismatch)
	}
	return plain, fields, nil
}

// fieldValue finds a top-level field by exact name.
func fieldValue(fields []field, name string) string {
	for _, f := range fields {
		if f.name == name {
			return f.value
		}
	}
	return ""
}
