package sinopac

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// member is one top-level member of a JSON object, as scanObject found it.
type member struct {
	name string // unescaped
	raw  []byte // the value's JSON text: a sub-slice of the scanned message, not a copy
}

// scanObject reads the top-level members of a JSON object without decoding
// nested objects and arrays: a reply's OrderList is only skipped over here,
// so verifying a 300-order reply does not parse it twice.
//
// Its contract, which the signer relies on and a faster replacement must
// keep:
//   - msg is exactly one JSON object, with optional whitespace around it.
//     Anything else is a *MessageError with Kind ErrNotJSONObject.
//   - The members come back in message order: names unescaped, values as
//     raw spans of msg. A value is checked as far as finding its end takes:
//     strings are terminated and free of control characters, literals are
//     true, false, null or a JSON number, brackets nest at most
//     maxJSONDepth deep. The grammar inside nested values is left to
//     encoding/json, which refuses it when the reply is decoded.
//   - Two names that strings.EqualFold calls equal are refused (Kind
//     ErrDuplicateField), whatever their values: encoding/json binds a
//     name case-insensitively to a struct field and keeps the last, and
//     Json.NET binds case-insensitively too, so a duplicate would let the
//     Sign cover one value and the decoder read another.
//   - Every error is a new *MessageError without Service: never a shared
//     value, so callers may annotate it.
func scanObject(msg []byte) ([]member, error) {
	s := scanner{b: msg}
	s.ws()
	if !s.eat('{') {
		return nil, notJSONObject("message is not a JSON object")
	}
	members := make([]member, 0, 16)
	s.ws()
	if s.eat('}') {
		return members, s.end()
	}
	for {
		s.ws()
		name, err := s.str()
		if err != nil {
			return nil, err
		}
		s.ws()
		if !s.eat(':') {
			return nil, s.errf("expected ':' after field name")
		}
		s.ws()
		start := s.i
		if err := s.value(); err != nil {
			return nil, err
		}
		members = append(members, member{name, msg[start:s.i]})
		s.ws()
		if s.eat('}') {
			if err := s.end(); err != nil {
				return nil, err
			}
			return members, checkDuplicates(members)
		}
		if !s.eat(',') {
			return nil, s.errf("expected ',' or '}'")
		}
	}
}

// checkDuplicates refuses two members whose names fold to the same.
// Replies have about ten members: comparing pairs costs less than a map,
// which only a long (hostile) object needs.
func checkDuplicates(ms []member) error {
	if len(ms) <= 32 {
		for i := 1; i < len(ms); i++ {
			for j := 0; j < i; j++ {
				if strings.EqualFold(ms[i].name, ms[j].name) {
					return duplicateField(ms[j].name, ms[i].name)
				}
			}
		}
		return nil
	}
	seen := make(map[string]string, len(ms))
	for _, m := range ms {
		k := foldKey(m.name)
		if first, ok := seen[k]; ok {
			return duplicateField(first, m.name)
		}
		seen[k] = m.name
	}
	return nil
}

// foldKey is equal for exactly the names strings.EqualFold calls equal:
// each rune becomes the smallest rune of its case-folding orbit.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		return m
	}, s)
}

func duplicateField(first, second string) error {
	reason := fmt.Sprintf("field %q appears twice", clip(first))
	if first != second {
		reason = fmt.Sprintf("fields %q and %q differ only in case", clip(first), clip(second))
	}
	return &MessageError{Reason: reason, Kind: ErrDuplicateField}
}

// clip bounds a name quoted in an error: a hostile reply may send long ones.
func clip(name string) string {
	const max = 40
	if len(name) <= max {
		return name
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "…"
}

func notJSONObject(reason string) error {
	return &MessageError{Reason: reason, Kind: ErrNotJSONObject}
}

// scanner is a minimal JSON tokenizer: just enough to find top-level
// members and skip values, with full validation left to encoding/json.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) errf(format string, a ...any) error {
	return notJSONObject(fmt.Sprintf("invalid JSON at offset %d: ", s.i) + fmt.Sprintf(format, a...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.errf("trailing data after the object")
	}
	return nil
}

// str reads a JSON string and returns it unescaped.
func (s *scanner) str() (string, error) {
	start := s.i
	if err := s.skipString(); err != nil {
		return "", err
	}
	return unquote(s.b[start:s.i])
}

func (s *scanner) skipString() error {
	if !s.eat('"') {
		return s.errf("expected a string")
	}
	// A table lookup per byte: the strings of a 300-order OrderList make up
	// most of what the signer skips.
	b := s.b
	for i := s.i; i < len(b); {
		c := b[i]
		if !strSpecial[c] {
			i++
			continue
		}
		switch c {
		case '"':
			s.i = i + 1
			return nil
		case '\\':
			i += 2
		default:
			s.i = i
			return s.errf("control character in string")
		}
	}
	s.i = len(b)
	return s.errf("unterminated string")
}

// strSpecial marks the bytes that end a run of plain string content.
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// value skips one JSON value of any kind. Nesting depth is bounded so a
// hostile reply cannot exhaust the stack.
func (s *scanner) value() error {
	depth := 0
	for {
		if s.i >= len(s.b) {
			return s.errf("unexpected end of input")
		}
		switch c := s.b[s.i]; c {
		case '"':
			if err := s.skipString(); err != nil {
				return err
			}
		case '{', '[':
			depth++
			if depth > maxJSONDepth {
				return s.errf("nesting deeper than %d", maxJSONDepth)
			}
			s.i++
			s.ws()
			continue
		case '}', ']':
			if depth == 0 {
				return s.errf("unexpected %q", c)
			}
			depth--
			s.i++
		case ',', ':':
			if depth == 0 {
				return s.errf("unexpected %q", c)
			}
			s.i++
			s.ws()
			continue
		default:
			if err := s.literal(); err != nil {
				return err
			}
		}
		if depth == 0 {
			return nil
		}
		s.ws()
	}
}

const maxJSONDepth = 64

// literal skips a number, true, false or null.
func (s *scanner) literal() error {
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == ',' || c == '}' || c == ']' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' {
			break
		}
		s.i++
	}
	lit := s.b[start:s.i]
	switch {
	case len(lit) == 0:
		return s.errf("expected a value")
	case string(lit) == "true", string(lit) == "false", string(lit) == "null":
		return nil
	case isJSONNumber(lit):
		return nil
	}
	return s.errf("invalid literal")
}

func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if n := digits(); n == 0 || (n > 1 && b[i-n] == '0') {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// unquote decodes a JSON string literal; the common case without escapes
// costs one string conversion.
func unquote(raw []byte) (string, error) {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil // raw bytes, exactly as the signer saw them
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", notJSONObject("invalid string escape")
	}
	return v, nil
}
