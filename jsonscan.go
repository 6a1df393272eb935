package sinopac

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// topLevelScalars lists the non-empty scalar members of a JSON object
// without decoding nested objects and arrays: a reply's OrderList is only
// skipped over here, so verifying a 300-order reply does not parse it twice.
func topLevelScalars(msg []byte) ([]field, error) {
	s := scanner{b: msg}
	s.ws()
	if !s.eat('{') {
		return nil, errNotObject
	}
	fields := make([]field, 0, 16)
	s.ws()
	if s.eat('}') {
		return fields, s.end()
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
		raw := msg[start:s.i]
		switch raw[0] {
		case '{', '[', 'n': // objects, arrays and null do not take part
		case '"':
			v, err := unquote(raw)
			if err != nil {
				return nil, err
			}
			if v != "" {
				fields = append(fields, field{name, v})
			}
		default: // numbers, true, false: their JSON text
			fields = append(fields, field{name, string(raw)})
		}
		s.ws()
		if s.eat('}') {
			return fields, s.end()
		}
		if !s.eat(',') {
			return nil, s.errf("expected ',' or '}'")
		}
	}
}

var errNotObject = &MessageError{Reason: "message is not a JSON object"}

// scanner is a minimal JSON tokenizer: just enough to find top-level
// members and skip values, with full validation left to encoding/json.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) errf(format string, a ...any) error {
	return &MessageError{Reason: fmt.Sprintf("invalid JSON at offset %d: ", s.i) + fmt.Sprintf(format, a...)}
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
		return "", &MessageError{Reason: "invalid string escape"}
	}
	return v, nil
}
