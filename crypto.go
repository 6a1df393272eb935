package sinopac

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// HashKeys are the four secrets (A1, A2, B1, B2) the bank issues to a shop.
// Each is 16 hex digits, or a GUID whose first 16 hex digits are used (the
// form some bank letters use).
//
// HashKeys never print their contents: every fmt verb, slog and
// encoding/json render "[redacted]".
type HashKeys struct{ A1, A2, B1, B2 string }

const redacted = "[redacted]"

// String implements fmt.Stringer without revealing the keys.
func (HashKeys) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing the keys (%#v).
func (HashKeys) GoString() string { return redacted }

// Format makes every verb (%v, %+v, %s, %q, %x, …) print "[redacted]".
func (HashKeys) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue keeps the keys out of slog output.
func (HashKeys) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON keeps the keys out of JSON-encoded logs and configs.
func (HashKeys) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// HashID derives the 32-character AES key / sign salt:
// hex(A1 XOR A2) + hex(B1 XOR B2), upper case.
func (k HashKeys) HashID() (string, error) {
	var raw [4][8]byte
	for i, f := range [4]struct{ name, v string }{{"A1", k.A1}, {"A2", k.A2}, {"B1", k.B1}, {"B2", k.B2}} {
		b, err := parseHashKey(f.v)
		if err != nil {
			// The value itself is never quoted: it is a secret.
			return "", &ValidationError{Field: "HashKeys." + f.name, Reason: err.Error()}
		}
		raw[i] = b
	}
	var out [16]byte
	for i := 0; i < 8; i++ {
		out[i] = raw[0][i] ^ raw[1][i]
		out[8+i] = raw[2][i] ^ raw[3][i]
	}
	return strings.ToUpper(hex.EncodeToString(out[:])), nil
}

// parseHashKey accepts 16 hex digits, or a GUID (8-4-4-4-12 hex digits) of
// which the first 16 hex digits count, as the bank's .NET sample does.
func parseHashKey(s string) ([8]byte, error) {
	var b [8]byte
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return b, errors.New("is empty")
	case len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-':
		s = strings.ReplaceAll(s, "-", "")
		if len(s) != 32 || !isHex(s) {
			return b, errors.New("is not a GUID of hex digits")
		}
		s = s[:16]
	case len(s) != 16:
		return b, fmt.Errorf("must be 16 hex digits or a GUID, got %d characters", len(s))
	case !isHex(s):
		return b, errors.New("must contain only hex digits 0-9, A-F")
	}
	_, err := hex.Decode(b[:], []byte(s))
	return b, err
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// IV returns the AES initialisation vector for a nonce: the rightmost 16
// characters of the upper-case hex SHA-256 of the nonce's ASCII bytes.
func IV(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	// The last 8 bytes of the digest are the last 16 hex characters.
	return strings.ToUpper(hex.EncodeToString(sum[24:]))
}

// Sign computes the QPay signature of message, the JSON object that is (or
// was) encrypted: upper-case hex SHA-256 of "k1=v1&k2=v2…" + nonce + hashID,
// where the pairs are the object's top-level fields with a non-empty scalar
// value, sorted by name case-insensitively. Objects, arrays, null and ""
// are left out; strings are taken unescaped and numbers as their JSON text.
// This is the raw-JSON rule (protocol §2 step 5): the SDK signs its
// requests by it, and a reply verifies by it or by the bank's reply model
// (see APIMessage.OpenReply).
//
// A message that is not one JSON object, or that names a field twice
// (exactly or differing in case), is refused with a *MessageError.
func Sign(message []byte, nonce, hashID string) (string, error) {
	members, err := scanObject(message)
	if err != nil {
		return "", err
	}
	fields, err := rawFields(members)
	if err != nil {
		return "", err
	}
	return signFields(fields, nonce, hashID), nil
}

// field is one name=value pair of a sign string: strings unescaped,
// numbers and booleans as their JSON text.
type field struct{ name, value string }

// rawFields are the pairs the raw-JSON rule signs: every top-level member
// with a scalar value other than null and "", named as in the JSON.
func rawFields(members []member) ([]field, error) {
	fields := make([]field, 0, len(members))
	for _, m := range members {
		switch m.raw[0] {
		case '{', '[', 'n': // objects, arrays and null do not take part
		case '"':
			v, err := unquote(m.raw)
			if err != nil {
				return nil, err
			}
			if v != "" {
				fields = append(fields, field{m.name, v})
			}
		default: // numbers, true, false: their JSON text
			fields = append(fields, field{m.name, string(m.raw)})
		}
	}
	return fields, nil
}

// modelFields are the pairs the bank's .NET sample signs for a reply bound
// to its typed model (protocol §2a): each property of the model, named as
// the model names it and matched to the JSON case-insensitively, as
// Json.NET binds it. A string property is the member's text (a number is
// its JSON text), left out when absent, null or whitespace only. An int
// property is the member's decimal value, from a JSON integer or a string
// of digits; absent, null or "" is 0. Members the model does not name take
// no part.
//
// ok is false when the reply cannot have been bound to the model (an int
// that is not an integer, a string property holding true, false, an object
// or an array): the model rule then does not apply.
func modelFields(members []member, model replyModel) (fields []field, ok bool) {
	fields = make([]field, 0, len(model))
	for _, p := range model {
		var raw []byte
		for _, m := range members {
			if strings.EqualFold(m.name, p.name) {
				raw = m.raw // the only one: scanObject refuses duplicates
				break
			}
		}
		if p.number {
			v, ok := modelInt(raw)
			if !ok {
				return nil, false
			}
			fields = append(fields, field{p.name, v})
			continue
		}
		switch {
		case raw == nil || raw[0] == 'n':
		case raw[0] == '"':
			v, err := unquote(raw)
			if err != nil {
				return nil, false
			}
			if strings.TrimSpace(v) != "" {
				fields = append(fields, field{p.name, v})
			}
		case raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9':
			fields = append(fields, field{p.name, string(raw)})
		default: // true, false, an object or an array
			return nil, false
		}
	}
	return fields, true
}

// modelInt is the decimal text of an int property bound from raw (nil when
// absent), as Json.NET binds it: absent, null or "" is 0; a JSON integer
// or a string of digits (optionally signed with '-') is its value.
func modelInt(raw []byte) (string, bool) {
	if raw == nil || string(raw) == "null" {
		return "0", true
	}
	text := string(raw)
	if raw[0] == '"' {
		s, err := unquote(raw)
		if err != nil {
			return "", false
		}
		if s == "" {
			return "0", true
		}
		text = s
	}
	digits := strings.TrimPrefix(text, "-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", false // 1.5, 1e3, "+1", " 1", "abc", true, objects, arrays
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return "", false // out of range
	}
	return strconv.FormatInt(n, 10), true
}

func signFields(fields []field, nonce, hashID string) string {
	// The generic sort moves fields without reflection: a hostile reply of
	// 50k top-level members sorts several times faster than with sort.Slice.
	slices.SortStableFunc(fields, func(a, b field) int { return compareFold(a.name, b.name) })
	// One buffer, one hash: writing each piece to a hash.Hash allocated a
	// copy per piece.
	size := len(nonce) + len(hashID)
	for _, f := range fields {
		size += len(f.name) + len(f.value) + 2
	}
	s := make([]byte, 0, size)
	for i, f := range fields {
		if i > 0 {
			s = append(s, '&')
		}
		s = append(append(append(s, f.name...), '='), f.value...)
	}
	sum := sha256.Sum256(append(append(s, nonce...), hashID...))
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(bytes.ToUpper(out[:]))
}

// compareFold orders names ignoring ASCII case, ties broken by the exact
// bytes so the order is total and deterministic.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := lowerASCII(a[i]), lowerASCII(b[i])
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// EncryptMessage encrypts plaintext with AES-256-CBC and PKCS#7 padding,
// key = the 32 ASCII bytes of hashID, iv = IV(nonce), and returns it as
// upper-case hex.
func EncryptMessage(plaintext []byte, hashID, nonce string) (string, error) {
	block, err := newCipher(hashID)
	if err != nil {
		return "", err
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, []byte(IV(nonce))).CryptBlocks(buf, buf)
	out := make([]byte, hex.EncodedLen(len(buf)))
	hex.Encode(out, buf)
	return string(bytes.ToUpper(out)), nil
}

// DecryptMessage reverses EncryptMessage. A message that is not hex
// (ErrMessageNotHex), empty or not a whole number of AES blocks
// (ErrMessageTruncated), or badly padded (ErrBadPadding) gives a
// *MessageError matching that sentinel and ErrMalformedMessage, never a
// panic.
func DecryptMessage(message, hashID, nonce string) ([]byte, error) {
	block, err := newCipher(hashID)
	if err != nil {
		return nil, err
	}
	return decrypt(block, []byte(message), nonce, nil)
}

func newCipher(hashID string) (cipher.Block, error) {
	if len(hashID) != 32 {
		return nil, &ValidationError{Field: "HashID", Reason: "must be 32 characters"}
	}
	return aes.NewCipher([]byte(hashID))
}

// decrypt decodes the hex message into buf (grown or allocated when too
// small) and decrypts it there.
func decrypt(block cipher.Block, message []byte, nonce string, buf []byte) ([]byte, error) {
	switch {
	case len(message) == 0:
		return nil, &MessageError{Reason: "Message is empty", Kind: ErrMessageTruncated}
	case len(message)%2 != 0:
		return nil, &MessageError{Reason: fmt.Sprintf("Message has odd length %d (truncated hex?)", len(message)), Kind: ErrMessageTruncated}
	case (len(message)/2)%aes.BlockSize != 0:
		return nil, &MessageError{Reason: fmt.Sprintf("Message is %d bytes, not a whole number of 16-byte AES blocks (truncated?)", len(message)/2), Kind: ErrMessageTruncated}
	}
	if cap(buf) < len(message)/2 {
		buf = make([]byte, len(message)/2)
	}
	buf = buf[:len(message)/2]
	if !decodeHex(buf, message) {
		return nil, &MessageError{Reason: "Message is not hex", Kind: ErrMessageNotHex}
	}
	cipher.NewCBCDecrypter(block, []byte(IV(nonce))).CryptBlocks(buf, buf)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, &MessageError{Reason: "bad PKCS#7 padding (wrong keys or nonce?)", Kind: ErrBadPadding}
	}
	for _, c := range buf[len(buf)-pad:] {
		if int(c) != pad {
			return nil, &MessageError{Reason: "bad PKCS#7 padding (wrong keys or nonce?)", Kind: ErrBadPadding}
		}
	}
	return buf[:len(buf)-pad], nil
}
