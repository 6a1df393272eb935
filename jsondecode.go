package sinopac

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// The one-pass reply reader: a JSON decoder for the SDK's own reply types,
// written by hand so that a reply is read once. readReply walks the
// plaintext's top-level members for the Sign (scanObject's contract) and
// decodes each member into the typed reply as it goes; the typed methods
// are in replydecode.go.
//
// It decodes exactly as encoding/json's Unmarshal would into the same
// types, which FuzzReplyDecode checks differentially for every reply
// type: the same value, or both refuse. That covers encoding/json's
// quieter rules too: names match exactly or by Unicode case folding
// (bytes.EqualFold), unknown members are ignored but must be valid JSON,
// null leaves a string or struct as it is and clears a pointer or slice, a
// name given twice decodes into the value already there, an array decodes
// into the elements a slice already holds, Amount and Timestamp see the
// member's raw JSON text.
//
// Strings are substrings of one copy of the plaintext, not a string each:
// a 300-order page allocates its orders, their parameters and little else.
// A decoded reply therefore keeps that copy alive while any of its strings
// is.

// decoder reads one plaintext. scanner holds it as bytes and the read
// position; s is the same bytes as a string.
type decoder struct {
	scanner
	s     string
	depth int // nesting within the current top-level member, as scanObject counts it
}

// replyTarget is a typed reply: its top-level fields, and a way to start
// again from zero (each attempt of a call decodes afresh).
type replyTarget interface {
	fieldDecoder
	reset()
}

// fieldDecoder is a struct that decodes its own members: field decodes
// the value of the member called name when the struct has such a field
// and reports false, having read nothing, when it has not.
type fieldDecoder interface {
	field(d *decoder, name string) (bool, error)
}

// decodeError is a reply that does not fit its type (or is not valid JSON
// below the top level); its path names the field, never the content.
type decodeError struct {
	path   string
	reason string
}

func (e *decodeError) Error() string {
	if e.path == "" {
		return e.reason
	}
	return "field " + e.path + ": " + e.reason
}

// in prefixes err's path with a field name: the path names fields as
// encoding/json's errors did ("OrderList.Amount"), without indexes.
func in(err error, name string) error {
	de, ok := err.(*decodeError)
	if !ok {
		// An UnmarshalJSON method's error: keep its kind, never its content.
		reason := "invalid field value"
		if ute, ok := err.(*json.UnmarshalTypeError); ok {
			reason = "cannot hold a JSON " + ute.Value
		} else if err == errBadTimestamp {
			reason = "time must be yyyyMMddHHmm or yyyyMMdd"
		}
		de = &decodeError{reason: reason}
	}
	if de.path == "" {
		de.path = name
	} else {
		de.path = name + "." + de.path
	}
	return de
}

// readReply scans plain as scanObject does (same members, same errors)
// and, when into is not nil, decodes it into into in the same pass. A
// scan error (the reply is not one JSON object, or names a top-level field
// twice) is err; a reply that scans but does not decode into the type is
// decodeErr, which the caller reports only once the reply has verified and
// succeeded, as if it had decoded the verified plaintext afterwards.
func readReply(plain []byte, into replyTarget) (members []member, decodeErr, err error) {
	if into == nil {
		members, err = scanObject(plain)
		return members, nil, err
	}
	d := decoder{scanner: scanner{b: plain}, s: string(plain)}
	d.ws()
	if !d.eat('{') {
		return nil, nil, notJSONObject("message is not a JSON object")
	}
	members = make([]member, 0, 16)
	d.ws()
	if d.eat('}') {
		return members, nil, d.end()
	}
	for {
		d.ws()
		name, err := d.name()
		if err != nil {
			return nil, nil, err
		}
		d.ws()
		if !d.eat(':') {
			return nil, nil, d.errf("expected ':' after field name")
		}
		d.ws()
		start := d.i
		if decodeErr == nil {
			decodeErr = d.member(into, name)
		}
		if decodeErr != nil {
			// The member does not fit the type, or its JSON is broken
			// below the top level: find its end as scanObject does, so
			// that the scan (and its errors) is scanObject's exactly.
			d.i = start
			if err := d.value(); err != nil {
				return nil, nil, err
			}
		}
		members = append(members, member{name, plain[start:d.i]})
		d.ws()
		if d.eat('}') {
			if err := d.end(); err != nil {
				return nil, nil, err
			}
			return members, decodeErr, checkDuplicates(members)
		}
		if !d.eat(',') {
			return nil, nil, d.errf("expected ',' or '}'")
		}
	}
}

// name reads a top-level member's name as scanner.str does, without a
// copy when it has no escapes.
func (d *decoder) name() (string, error) {
	start := d.i
	if err := d.skipString(); err != nil {
		return "", err
	}
	if bytes.IndexByte(d.b[start+1:d.i-1], '\\') < 0 {
		return d.s[start+1 : d.i-1], nil
	}
	return unquote(d.b[start:d.i])
}

// member decodes one top-level member's value into the reply, or skips
// it when the reply has no such field.
func (d *decoder) member(into replyTarget, name string) error {
	d.depth = 0
	ok, err := into.field(d, name)
	if err != nil {
		return in(err, name)
	}
	if !ok {
		return d.skip()
	}
	return nil
}

// peek is the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// syntax is a grammar error below the top level.
func syntax() error { return &decodeError{reason: "invalid JSON"} }

// mismatch is a value of the wrong JSON kind for its field.
func (d *decoder) mismatch() error {
	kind := "number"
	switch d.peek() {
	case '"':
		kind = "string"
	case '{':
		kind = "object"
	case '[':
		kind = "array"
	case 't', 'f':
		kind = "bool"
	}
	return &decodeError{reason: "cannot hold a JSON " + kind}
}

// strSpan reads a string strictly (escapes checked) and returns its
// span, quotes included, and whether it holds escapes.
func (d *decoder) strSpan() (start, end int, escaped bool, err error) {
	start = d.i
	if !d.eat('"') {
		return 0, 0, false, syntax()
	}
	b := d.b
	for i := d.i; i < len(b); {
		c := b[i]
		if !strSpecial[c] {
			i++
			continue
		}
		switch c {
		case '"':
			d.i = i + 1
			return start, d.i, escaped, nil
		case '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, 0, false, syntax()
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(string(b[i+2:i+6])) {
					return 0, 0, false, syntax()
				}
				i += 6
			default:
				return 0, 0, false, syntax()
			}
		default:
			return 0, 0, false, syntax() // a control character
		}
	}
	return 0, 0, false, syntax()
}

// text reads a string value: a substring of the plaintext, or, for the
// rare string with escapes, what encoding/json makes of it.
func (d *decoder) text() (string, error) {
	start, end, escaped, err := d.strSpan()
	if err != nil {
		return "", err
	}
	if !escaped {
		return d.s[start+1 : end-1], nil
	}
	var v string
	if err := json.Unmarshal(d.b[start:end], &v); err != nil {
		return "", syntax()
	}
	return v, nil
}

// null reads the literal null.
func (d *decoder) null() error {
	if bytes.HasPrefix(d.b[d.i:], []byte("null")) {
		d.i += 4
		if d.i == len(d.b) || !literalByte[d.b[d.i]] {
			return nil
		}
	}
	return syntax()
}

// literalByte marks the bytes a literal may continue with.
var literalByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		switch c {
		case ',', '}', ']', ':', ' ', '\t', '\n', '\r', '"':
		default:
			t[c] = true
		}
	}
	return t
}()

// raw skips one value strictly and returns its JSON text, for the types
// that read their own (Amount, Timestamp).
func (d *decoder) raw() ([]byte, error) {
	start := d.i
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.b[start:d.i], nil
}

// skip reads one value of any kind and checks its grammar as encoding/json
// would, for the members a type does not have. Nesting is bounded as in
// scanObject.
func (d *decoder) skip() error {
	switch d.peek() {
	case '"':
		_, _, _, err := d.strSpan()
		return err
	case '{':
		return d.object(nil)
	case '[':
		return d.array(func(d *decoder, _ int) error { return d.skip() })
	}
	if err := d.literal(); err != nil {
		return syntax()
	}
	return nil
}

// enter counts one level of nesting.
func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxJSONDepth {
		return syntax()
	}
	d.i++
	d.ws()
	return nil
}

// object reads an object, passing each member to v (nil: skip them all).
func (d *decoder) object(v fieldDecoder) error {
	if err := d.enter(); err != nil {
		return err
	}
	if d.eat('}') {
		d.depth--
		return nil
	}
	for {
		name, err := d.text()
		if err != nil {
			return err
		}
		d.ws()
		if !d.eat(':') {
			return syntax()
		}
		d.ws()
		ok := false
		if v != nil {
			if ok, err = v.field(d, name); err != nil {
				return in(err, name)
			}
		}
		if !ok {
			if err := d.skip(); err != nil {
				return err
			}
		}
		d.ws()
		if d.eat('}') {
			d.depth--
			return nil
		}
		if !d.eat(',') {
			return syntax()
		}
		d.ws()
	}
}

// array reads an array, calling elem for each element with its index.
func (d *decoder) array(elem func(d *decoder, i int) error) error {
	if err := d.enter(); err != nil {
		return err
	}
	if d.eat(']') {
		d.depth--
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(d, i); err != nil {
			return err
		}
		d.ws()
		if d.eat(']') {
			d.depth--
			return nil
		}
		if !d.eat(',') {
			return syntax()
		}
		d.ws()
	}
}

// decodeString reads a string into a string-kinded field; null leaves it.
func decodeString[T ~string](d *decoder, p *T) error {
	switch d.peek() {
	case '"':
		s, err := d.text()
		if err != nil {
			return err
		}
		*p = T(s)
		return nil
	case 'n':
		return d.null()
	}
	return d.mismatch()
}

// decodeAmount hands the raw value to Amount's own decoding.
func decodeAmount(d *decoder, p *Amount) error {
	raw, err := d.raw()
	if err != nil {
		return err
	}
	return p.UnmarshalJSON(raw)
}

// decodeTimestamp hands the raw value to Timestamp's own decoding.
func decodeTimestamp(d *decoder, p *Timestamp) error {
	raw, err := d.raw()
	if err != nil {
		return err
	}
	return p.UnmarshalJSON(raw)
}

// decodeStruct reads an object into a struct value; null leaves it.
func decodeStruct(d *decoder, v fieldDecoder) error {
	switch d.peek() {
	case '{':
		return d.object(v)
	case 'n':
		return d.null()
	}
	return d.mismatch()
}

// decodePtr reads an object into *p, allocating it when nil and decoding
// into the one there otherwise; null clears it.
func decodePtr[T any, PT interface {
	*T
	fieldDecoder
}](d *decoder, p **T) error {
	switch d.peek() {
	case '{':
		if *p == nil {
			*p = new(T)
		}
		return d.object(PT(*p))
	case 'n':
		if err := d.null(); err != nil {
			return err
		}
		*p = nil
		return nil
	}
	return d.mismatch()
}

// decodeSlice reads an array into *p as encoding/json does: elements
// decode into those the slice already holds (up to its capacity), the
// slice is cut to the array's length, an empty array is a new empty
// slice, null clears it.
func decodeSlice[T any](d *decoder, p *[]T, elem func(*decoder, *T) error) error {
	switch d.peek() {
	case '[':
	case 'n':
		if err := d.null(); err != nil {
			return err
		}
		*p = nil
		return nil
	default:
		return d.mismatch()
	}
	s := *p
	n := 0
	page := d.depth == 0 // the array is a top-level member's value: the page itself
	first := d.i
	err := d.array(func(d *decoder, i int) error {
		switch {
		case i >= cap(s) && page && i > 0:
			// A page (OrderList, Allot) is one kind of element many times
			// and most of the reply: make room for as many more as the
			// rest of the reply would hold at the size they have had so
			// far, instead of growing by copying. Bounded, so that small
			// elements cannot ask for much.
			more := min((len(d.b)-d.i)/max((d.i-first)/i, 1)+1, maxSliceGuess)
			grown := make([]T, i+1, i+more)
			copy(grown, s)
			s = grown
		case i >= cap(s):
			var zero T
			s = append(s, zero)
		case i >= len(s):
			s = s[:i+1]
		}
		n = i + 1
		return elem(d, &s[i])
	})
	if err != nil {
		return err
	}
	if n == 0 {
		s = []T{}
	}
	*p = s[:n]
	return nil
}

// maxSliceGuess bounds how many elements decodeSlice makes room for at
// once (a page holds at most MaxOrdersPerQuery orders).
const maxSliceGuess = 512

// foldName is the field name that name matches by case folding, as
// encoding/json matches a member it finds under no exact name.
func foldName(name string, names []string) (string, bool) {
	for _, n := range names {
		if n != name && strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// jsonNames lists the names encoding/json decodes into T (its json tags),
// for foldName. Tests check that each type's field method handles each.
func jsonNames[T any]() []string {
	t := reflect.TypeFor[T]()
	var names []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	return names
}
