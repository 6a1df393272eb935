package qpaytest

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
)

// The bank's two ways of building a Sign (protocol §2 step 5 and §2a),
// implemented here independently of the SDK: qpaytest stands in for the
// bank, so a bug shared by client and simulator must not hide.
//
//   - The raw-JSON rule signs the top-level scalar members of the JSON as
//     sent: "" and null dropped, objects and arrays left out, strings
//     unescaped, numbers as their JSON text.
//   - The model rule is how the bank's .NET sample signs: the top-level
//     scalar properties of its typed model for the message, bound from the
//     JSON case-insensitively (Json.NET), null and white-space-only values
//     dropped, an int property absent from the JSON signed as 0; members
//     the model lacks take no part.
//
// Both sort the names case-insensitively and hash
// "k1=v1&k2=v2…" + nonce + HashID with SHA-256 (upper-case hex).

// member is one top-level member of a JSON object as it takes part in a
// Sign: its name, its value (strings unescaped, numbers and booleans as
// their JSON text) and what kind of value it was.
type member struct {
	name, value string
	kind        byte // '"' string, '0' number or boolean, 'n' null, '{' object or array
}

// members lists the top-level members of a JSON object in document order.
func members(msg []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		m := member{name: name}
		switch raw[0] {
		case '{', '[':
			m.kind = '{'
		case 'n':
			m.kind = 'n'
		case '"':
			m.kind = '"'
			if err := json.Unmarshal(raw, &m.value); err != nil {
				return nil, err
			}
		default:
			m.kind, m.value = '0', string(raw)
		}
		out = append(out, m)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if dec.More() {
		return nil, errNotObject
	}
	return out, nil
}

var errNotObject = errors.New("qpaytest: message is not a JSON object")

// pair is one "name=value" of a sign string.
type pair struct{ name, value string }

// rawPairs applies the raw-JSON rule.
func rawPairs(ms []member) []pair {
	var ps []pair
	for _, m := range ms {
		if (m.kind == '"' || m.kind == '0') && m.value != "" {
			ps = append(ps, pair{m.name, m.value})
		}
	}
	return ps
}

// modelField is one top-level scalar property of one of the bank's typed
// models (request or reply).
type modelField struct {
	name string
	num  bool // a .NET int: absent from the JSON it is signed as 0
	echo bool // a refusal repeats the request's value (replies only)
}

// model is the scalar part of one of the bank's typed models.
type model []modelField

func str(name string) modelField   { return modelField{name: name} }
func num(name string) modelField   { return modelField{name: name, num: true} }
func echo(f modelField) modelField { f.echo = true; return f }

// lookup finds the member bound to name the way Json.NET binds it: an
// exact match first, else the last member whose name matches ignoring case.
func lookup(ms []member, name string) (member, bool) {
	var found member
	ok := false
	for _, m := range ms {
		if m.name == name {
			return m, true
		}
		if strings.EqualFold(m.name, name) {
			found, ok = m, true
		}
	}
	return found, ok
}

// modelPairs applies the model rule of md. A value that the model's int
// property cannot hold (not an integer) makes the rule inapplicable: the
// bank's sample would fail to read such a message at all.
func modelPairs(md model, ms []member) ([]pair, bool) {
	var ps []pair
	for _, f := range md {
		m, found := lookup(ms, f.name)
		switch {
		case f.num:
			v, ok := intValue(m, found)
			if !ok {
				return nil, false
			}
			ps = append(ps, pair{f.name, strconv.FormatInt(v, 10)})
		case !found || m.kind == 'n' || m.kind == '{':
		case strings.TrimSpace(m.value) == "":
		default:
			ps = append(ps, pair{f.name, m.value})
		}
	}
	return ps, true
}

// intValue is the value an int property binds from m: 0 when absent,
// null or "", else the integer in a number or a string.
func intValue(m member, found bool) (int64, bool) {
	if !found || m.kind == 'n' || (m.kind == '"' && m.value == "") {
		return 0, true
	}
	if m.kind == '{' {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(m.value), 10, 64)
	return v, err == nil
}

// signPairs is the Sign over ps (sorted here) with nonce and hashID.
func signPairs(ps []pair, nonce, hashID string) string {
	sort.SliceStable(ps, func(i, j int) bool { return foldLess(ps[i].name, ps[j].name) })
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	b.WriteString(nonce)
	b.WriteString(hashID)
	sum := sha256.Sum256([]byte(b.String()))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// foldLess orders names like .NET's StringComparer.OrdinalIgnoreCase
// (upper-cased, then by code unit); equal names keep their order.
func foldLess(a, b string) bool {
	return strings.ToUpper(a) < strings.ToUpper(b)
}

// signMatches reports whether sign (any letter case) is the Sign of ms
// under the raw-JSON rule or, when md is not nil, the model rule.
func signMatches(sign string, md model, ms []member, nonce, hashID string) bool {
	got := []byte(strings.ToUpper(sign))
	if subtle.ConstantTimeCompare(got, []byte(signPairs(rawPairs(ms), nonce, hashID))) == 1 {
		return true
	}
	if md == nil {
		return false
	}
	ps, ok := modelPairs(md, ms)
	return ok && subtle.ConstantTimeCompare(got, []byte(signPairs(ps, nonce, hashID))) == 1
}
