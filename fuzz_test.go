package sinopac

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for everything that reads bytes from outside: replies,
// messages, signs, times, amounts and query conditions. None may panic,
// hang or allocate without bound. Seed corpora live in
// testdata/fuzz/<FuzzName>/; run one target with e.g.
//
//	go test -run '^$' -fuzz '^FuzzOpen$' -fuzztime 10s .

// The fuzz targets' shop keys; fuzzHashID is their HashID.
var fuzzKeys = HashKeys{A1: "1F2E3D4C5B6A7988", A2: "0A1B2C3D4E5F6071", B1: "C0FFEE1234567890", B2: "7788990011AABBCC"}

const fuzzHashID = "15351171153519F9B777771225FCC35C" // fuzzKeys.HashID()

func fuzzClient(f *testing.F) *Client {
	c, err := NewClient("NA0001_001", fuzzKeys, WithBaseURL("http://127.0.0.1:1/api"))
	if err != nil {
		f.Fatal(err)
	}
	return c
}

// FuzzOpen feeds arbitrary bytes to the reply path twice: as a whole HTTP
// reply body (envelope or error JSON, garbage), and as the plaintext of a
// reply that is sealed, opened and decoded into ResponseOrderQuery as
// QueryOrders does. Whatever Seal accepts, Open must return byte for byte,
// unless it is not UTF-8, and a changed Sign or Nonce must never verify.
func FuzzOpen(f *testing.F) {
	c := fuzzClient(f)
	f.Add([]byte(`{"ShopNo":"NA0001_001","Date":"202110012245","Status":"S","Description":"S0000 – 處理成功","OrderList":[{"OrderNo":"A202110507397","Amount":79900,"PayStatus":"1A400","PayDate":"202110012245","ATMParam":{"AtmPayNo":"99922530175613"}}]}`), "NjM4MDk5")
	f.Add([]byte(`{"Version":"1.0.0","ShopNo":"NA0001_001","APIService":"OrderQuery","Sign":"00","Nonce":"N","Message":"00112233445566778899AABBCCDDEEFF"}`), "N")
	f.Add([]byte(`{"Status":"F","Description":"E2101 – 訂單查詢條件不足"}`), "")
	f.Add([]byte(`{"ShopNo":"NA0001_001","Status":"S","Description":"S0000","OrderList":[],"status":"F"}`), "N")
	f.Add([]byte(`{"shopNo":"NA0001_001","Status":"S","Description":" ","Date":null}`), "N")
	f.Fuzz(func(t *testing.T, body []byte, nonce string) {
		// 1. As a reply body.
		var typed ResponseOrderQuery
		o, st, err := c.openReply("OrderQuery", 200, nil, body, &typed)
		raw, rawSt, rawErr := c.openReply("OrderQuery", 200, nil, body, nil)
		if st != rawSt || (err == nil) != (rawErr == nil) {
			t.Fatalf("typed and raw openReply disagree: %v %v, %v %v", st, err, rawSt, rawErr)
		}
		if err == nil {
			var r ResponseOrderQuery
			v1Err := json.Unmarshal(raw.plain, &r)
			if (v1Err == nil) != (o.decodeErr == nil) || v1Err == nil && !reflect.DeepEqual(r, typed) {
				t.Fatalf("decoding %q: encoding/json and the one-pass reader disagree (%v)", raw.plain, o.decodeErr)
			}
		} else if !isTyped(err) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if st == stageVerified {
			// Only a sealed reply whose Sign verifies is the bank's word.
			var env APIMessage
			if json.Unmarshal(body, &env) != nil {
				t.Fatalf("verified stage for a body that is no envelope")
			}
			if _, err := env.Open(fuzzHashID); err != nil {
				t.Fatalf("verified stage for an envelope that does not open: %v", err)
			}
		}

		// 2. As the plaintext of a sealed reply.
		env, err := Seal("OrderQuery", "NA0001_001", json.RawMessage(body), nonce, fuzzHashID)
		if errors.Is(err, ErrDuplicateField) && utf8.Valid(body) {
			// Refused however it is signed: the Sign is not even looked at.
			msg, err := EncryptMessage(body, fuzzHashID, nonce)
			if err != nil {
				t.Fatal(err)
			}
			dup := APIMessage{APIService: "OrderQuery", Nonce: nonce, Message: msg, Sign: "00"}
			if _, err := dup.OpenReply(fuzzHashID); !errors.Is(err, ErrDuplicateField) {
				t.Fatalf("OpenReply of a duplicate name: %v", err)
			}
			return
		}
		if err != nil {
			return // not a JSON object: Sign refuses it, as it must
		}
		plain, err := env.Open(fuzzHashID)
		if !utf8.Valid(body) {
			// The bank speaks UTF-8; Open refuses anything else.
			if !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("Open of invalid UTF-8: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Open of a sealed message: %v", err)
		}
		if !bytes.Equal(plain, body) {
			t.Fatalf("Open returned %q, sealed %q", plain, body)
		}
		// The raw rule is one of OpenReply's two.
		if again, err := env.OpenReply(fuzzHashID); err != nil || !bytes.Equal(again, body) {
			t.Fatalf("OpenReply of a raw-signed reply: %q, %v", again, err)
		}
		// Signed as the bank's sample signs an OrderQuery reply (its model
		// rule), it verifies too, and through the client's reply path.
		if members, err := scanObject(body); err == nil {
			if mf, ok := modelFields(members, orderQueryService.reply); ok {
				bank := *env
				bank.Sign = signFields(mf, nonce, fuzzHashID)
				if again, err := bank.OpenReply(fuzzHashID); err != nil || !bytes.Equal(again, body) {
					t.Fatalf("OpenReply of a model-signed reply: %q, %v", again, err)
				}
				wire, _ := json.Marshal(&bank)
				if _, _, err := c.openReply("OrderQuery", 200, nil, wire, &ResponseOrderQuery{}); err != nil && !isTyped(err) {
					t.Fatalf("untyped error %T: %v", err, err)
				}
			}
		}
		var r ResponseOrderQuery
		if json.Unmarshal(plain, &r) == nil && len(r.OrderList) > 0 {
			_ = r.OrderList[0].PayStatus.Label()
			_ = r.OrderList[0].Amount.String()
			_ = r.Truncated()
		}
		// Through the client's reply path too: the envelope as JSON,
		// which marshalEnvelope writes as encoding/json does.
		wire, _ := json.Marshal(env)
		if fast, _ := marshalEnvelope(env); !bytes.Equal(fast, wire) {
			t.Fatalf("marshalEnvelope: %q, json.Marshal: %q", fast, wire)
		}
		if _, _, err := c.openReply("OrderQuery", 200, nil, wire, &ResponseOrderQuery{}); err != nil && !isTyped(err) {
			t.Fatalf("untyped error %T: %v", err, err)
		}

		forged := *env
		forged.Sign = flipHex(env.Sign)
		if _, err := forged.Open(fuzzHashID); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("a changed Sign verified: %v", err)
		}
		renonced := *env
		renonced.Nonce = nonce + "x"
		if _, err := renonced.Open(fuzzHashID); err == nil {
			t.Fatal("a changed Nonce verified")
		}
	})
}

// isTyped reports whether err is one of the SDK's error types.
func isTyped(err error) bool {
	var ae *APIError
	var ge *GatewayError
	var me *MessageError
	return errors.As(err, &ae) || errors.As(err, &ge) || errors.As(err, &me) || errors.Is(err, ErrSignatureMismatch)
}

// flipHex changes the first hex digit of s.
func flipHex(s string) string {
	if s == "" {
		return "0"
	}
	c := byte('0')
	if s[0] == '0' {
		c = '1'
	}
	return string(c) + s[1:]
}

// FuzzDecryptMessage: arbitrary Message text never panics; whatever
// decrypts re-encrypts to the same (upper-case) hex; whatever is encrypted
// decrypts to itself.
func FuzzDecryptMessage(f *testing.F) {
	f.Add("", "N")
	f.Add("0", "N")
	f.Add("ZZ112233445566778899AABBCCDDEEFF", "N")
	f.Add("00112233445566778899aabbccddeeff", "NjM4MDk5")
	if m, err := EncryptMessage([]byte(`{"Status":"S"}`), fuzzHashID, "N1"); err == nil {
		f.Add(m, "N1")
	}
	f.Fuzz(func(t *testing.T, message, nonce string) {
		plain, err := DecryptMessage(message, fuzzHashID, nonce)
		if err == nil {
			again, err := EncryptMessage(plain, fuzzHashID, nonce)
			if err != nil {
				t.Fatal(err)
			}
			if again != strings.ToUpper(message) {
				t.Fatalf("decrypt/encrypt of %q gave %q", message, again)
			}
		} else if !errors.Is(err, ErrMalformedMessage) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		enc, err := EncryptMessage([]byte(message), fuzzHashID, nonce)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecryptMessage(enc, fuzzHashID, nonce)
		if err != nil || string(back) != message {
			t.Fatalf("round trip of %q: %q, %v", message, back, err)
		}
	})
}

// FuzzSign: arbitrary bytes never panic; for a valid JSON object the fast
// scanner must agree with slowSign, an independent implementation on
// encoding/json and sort, and both refuse an object naming a field twice
// (exactly or differing in case).
func FuzzSign(f *testing.F) {
	f.Add([]byte(`{"ShopNo":"NA0249_001","OrderNo":"A202110507397","Amount":79900,"PrdtName":"商品 & <測試>","ATMParam":{"ExpireDate":"20211010"},"List":[1,2],"Empty":"","Nil":null,"Flag":true}`), "NjM4MDk5")
	f.Add([]byte(`{"b":1,"B":2,"a":"x\u0026y","A":"\"q\"","_":"u","Z":-0.5e+10}`), "")
	f.Add([]byte(`{"b":1,"a":"x\u0026y","_":"u","Z":-0.5e+10}`), "")
	f.Add([]byte(`{"a":{"b":{"c":[[[{"d":"}"}]]]}},"e":"]"}`), "n")
	f.Add([]byte(` { "k" : "v" } `), "n")
	f.Add([]byte(`{"k":"v"} x`), "n")
	f.Add([]byte(`[1,2]`), "n")
	f.Add([]byte(`{"k":tru}`), "n")
	f.Add([]byte(`{"Status":"S","ſtatus":"F"}`), "n")
	f.Fuzz(func(t *testing.T, data []byte, nonce string) {
		got, err := Sign(data, nonce, fuzzHashID)
		if err != nil && !errors.Is(err, ErrMalformedMessage) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if !json.Valid(data) || !utf8.Valid(data) {
			return // only "no panic" is asked of invalid input
		}
		want, werr := slowSign(data, nonce, fuzzHashID)
		switch {
		case errors.Is(werr, errSlowDuplicate):
			if !errors.Is(err, ErrDuplicateField) {
				t.Fatalf("Sign(%q) of a duplicate name: %v", data, err)
			}
		case werr != nil && err == nil:
			t.Fatalf("Sign accepted %q: %v", data, werr)
		case werr != nil:
			return // not an object: both refuse
		case err != nil && jsonDepth(data) > maxJSONDepth:
			return // the scanner's documented nesting limit
		case err != nil:
			t.Fatalf("Sign refused a valid object %q: %v", data, err)
		case got != want:
			t.Fatalf("Sign(%q) = %s, slow implementation says %s", data, got, want)
		}
	})
}

// slowMember is a top-level member as encoding/json reads it.
type slowMember struct {
	name string
	raw  json.RawMessage
}

var errSlowDuplicate = errors.New("duplicate name")

// slowMembers reads the top-level members of msg with encoding/json,
// independently of the scanner, and refuses names strings.EqualFold calls
// equal (comparing every pair: slow and obviously right).
func slowMembers(msg []byte) ([]slowMember, error) {
	dec := json.NewDecoder(bytes.NewReader(msg))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var ms []slowMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		ms = append(ms, slowMember{tok.(string), raw})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	for i := range ms {
		for j := range i {
			if strings.EqualFold(ms[i].name, ms[j].name) {
				return nil, errSlowDuplicate
			}
		}
	}
	return ms, nil
}

// slowSign implements the raw-JSON sign rule (protocol §2.5) independently
// of the scanner: encoding/json reads the top-level members, sort orders
// them.
func slowSign(msg []byte, nonce, hashID string) (string, error) {
	ms, err := slowMembers(msg)
	if err != nil {
		return "", err
	}
	var pairs [][2]string
	for _, m := range ms {
		switch m.raw[0] {
		case '{', '[', 'n':
		case '"':
			var s string
			if err := json.Unmarshal(m.raw, &s); err != nil {
				return "", err
			}
			if s != "" {
				pairs = append(pairs, [2]string{m.name, s})
			}
		default:
			pairs = append(pairs, [2]string{m.name, string(m.raw)})
		}
	}
	return slowHash(pairs, nonce, hashID), nil
}

// slowHash sorts name=value pairs by name, ASCII case folded, ties by the
// exact bytes, and hashes them with the nonce and HashID.
func slowHash(pairs [][2]string, nonce, hashID string) string {
	lower := func(s string) string {
		return strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 32
			}
			return r
		}, s)
	}
	sort.SliceStable(pairs, func(i, j int) bool {
		a, b := lower(pairs[i][0]), lower(pairs[j][0])
		if a != b {
			return a < b
		}
		return pairs[i][0] < pairs[j][0]
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p[0] + "=" + p[1]
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "&") + nonce + hashID))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// FuzzSignRules is the differential test of the two sign rules. The model
// is made from the object itself: every top-level scalar member becomes a
// model property (an int when its bit in ints is set, else a string), plus
// the names in absent (comma separated), which the object lacks. Then:
//   - an object naming a field twice is refused by the scanner, and by
//     open whatever its Sign;
//   - the model rule agrees with slowModelSign, an independent
//     implementation on encoding/json;
//   - the model rule and the raw rule agree whenever every model int is
//     present as a JSON integer (canonical: not -0), no string member
//     holds true, false or only whitespace, and no absent name is an int;
//     an absent int makes them differ (it is signed as 0);
//   - whenever the model rule applies, a reply signed by it opens with the
//     model, byte for byte.
func FuzzSignRules(f *testing.F) {
	v := loadVectors(f)
	for _, rv := range []replyVector{v.SpecReply, v.SandboxReply, v.SeedOrderQueryReply} {
		f.Add([]byte(rv.Plaintext), uint64(1<<4), "", rv.Envelope.Nonce)
	}
	f.Add([]byte(e0302Reply), uint64(0), "Amount", "N")
	f.Add([]byte(`{"Amount":"007","Staging":"3","ExpBillingDays":"","Status":"S"}`), uint64(0b111), "", "N")
	f.Add([]byte(`{"status":"S","Param1":"  ","Memo":"\u3000","N":-0,"F":1.5,"B":true}`), uint64(0b1100), "X,Y", "N")
	f.Add([]byte(`{"Status":"S","status":"F"}`), uint64(0), "", "N")
	f.Add([]byte(`{"A":1,"a":{}}`), uint64(1), "", "N")
	f.Fuzz(func(t *testing.T, data []byte, ints uint64, absent, nonce string) {
		if !json.Valid(data) || !utf8.Valid(data) || jsonDepth(data) > maxJSONDepth {
			return
		}
		members, err := scanObject(data)
		slow, serr := slowMembers(data)
		switch {
		case errors.Is(serr, errSlowDuplicate):
			if !errors.Is(err, ErrDuplicateField) {
				t.Fatalf("scanObject(%q) of a duplicate name: %v", data, err)
			}
			msg, err := EncryptMessage(data, fuzzHashID, nonce)
			if err != nil {
				t.Fatal(err)
			}
			env := APIMessage{APIService: "OrderQuery", Nonce: nonce, Message: msg, Sign: "00"}
			if _, _, err := env.open(fuzzHashID, orderQueryService.reply); !errors.Is(err, ErrDuplicateField) {
				t.Fatalf("open of a duplicate name: %v", err)
			}
			return
		case serr != nil:
			return // not an object
		case err != nil:
			t.Fatalf("scanObject refused %q: %v", data, err)
		}

		// The model, and whether the two rules must agree on this object.
		var model replyModel
		agree, absentInt := true, false
		for i, m := range slow {
			number := i < 64 && ints>>i&1 == 1
			switch c := m.raw[0]; {
			case c == '{' || c == '[':
				continue // never a model property
			case number && !canonicalInt(m.raw):
				agree = false // absent-like (null, ""), a string, a fraction: the rules may differ
			case !number && (c == 't' || c == 'f'):
				agree = false // the model rule does not bind booleans to strings
			case !number && c == '"':
				var s string
				_ = json.Unmarshal(m.raw, &s)
				if s != "" && strings.TrimSpace(s) == "" {
					agree = false // whitespace only: raw signs it, the model leaves it out
				}
			}
			model = append(model, modelField{name: m.name, number: number})
		}
		for j, name := range strings.Split(absent, ",") {
			if name == "" || slices.ContainsFunc(model, func(p modelField) bool { return strings.EqualFold(p.name, name) }) {
				continue
			}
			number := ints>>(32+j%32)&1 == 1
			absentInt = absentInt || number
			model = append(model, modelField{name: name, number: number})
		}

		mf, ok := modelFields(members, model)
		want, wantOK := slowModelSign(slow, model, nonce, fuzzHashID)
		if ok != wantOK {
			t.Fatalf("model rule of %q applies: %v, slow implementation says %v", data, ok, wantOK)
		}
		if !ok {
			if agree && !absentInt {
				t.Fatalf("model rule refused %q, which it must sign like the raw rule", data)
			}
			return
		}
		got := signFields(mf, nonce, fuzzHashID)
		if got != want {
			t.Fatalf("model rule of %q: %s, slow implementation says %s", data, got, want)
		}
		raw, err := Sign(data, nonce, fuzzHashID)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case agree && !absentInt && raw != got:
			t.Fatalf("the rules disagree on %q (model %q)", data, joinFields(mf))
		case agree && absentInt && raw == got:
			t.Fatalf("an absent int did not change the Sign of %q", data)
		}

		msg, err := EncryptMessage(data, fuzzHashID, nonce)
		if err != nil {
			t.Fatal(err)
		}
		env := APIMessage{APIService: "Fuzz", Nonce: nonce, Message: msg, Sign: got}
		plain, _, err := env.open(fuzzHashID, model)
		if err != nil || !bytes.Equal(plain, data) {
			t.Fatalf("a model-signed reply does not open: %q, %v", plain, err)
		}
	})
}

// canonicalInt reports a JSON integer the model rule signs as it is
// written: no fraction or exponent, not -0, within int64.
func canonicalInt(raw []byte) bool {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return err == nil && strconv.FormatInt(n, 10) == string(raw)
}

// slowModelSign implements the model rule (protocol §2a) independently:
// encoding/json decodes each member, strconv reads ints. ok is false when
// the rule does not apply.
func slowModelSign(ms []slowMember, model replyModel, nonce, hashID string) (string, bool) {
	var pairs [][2]string
	for _, p := range model {
		var v any // nil when absent
		for _, m := range ms {
			if strings.EqualFold(m.name, p.name) {
				dec := json.NewDecoder(bytes.NewReader(m.raw))
				dec.UseNumber()
				if dec.Decode(&v) != nil {
					return "", false
				}
			}
		}
		if p.number {
			var text string
			switch x := v.(type) {
			case nil:
				text = "0"
			case json.Number:
				text = string(x)
			case string:
				text = x
				if x == "" {
					text = "0"
				}
			default:
				return "", false
			}
			if strings.HasPrefix(text, "+") {
				return "", false
			}
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return "", false
			}
			pairs = append(pairs, [2]string{p.name, strconv.FormatInt(n, 10)})
			continue
		}
		switch x := v.(type) {
		case nil:
		case string:
			if strings.TrimSpace(x) != "" {
				pairs = append(pairs, [2]string{p.name, x})
			}
		case json.Number:
			pairs = append(pairs, [2]string{p.name, string(x)})
		default:
			return "", false
		}
	}
	return slowHash(pairs, nonce, hashID), true
}

// jsonDepth is the deepest nesting of objects and arrays in valid JSON.
func jsonDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// FuzzTimestamp: parsing never panics, and whatever parses prints back as
// itself (the 12-digit form exactly) and survives a JSON round trip.
func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"", "202110012245", "20211001", "20211001224530", "202102310000", "000101010800", "999912312359", "2021100122", "２０２１", "202113010000", "2021-10-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var viaJSON Timestamp
		_ = viaJSON.UnmarshalJSON([]byte(s)) // raw bytes, quotes or not
		ts, err := ParseTimestamp(s)
		if err != nil {
			if !ts.IsZero() {
				t.Fatalf("%q: error %v with a value %v", s, err, ts)
			}
			return
		}
		if s == "" {
			if !ts.IsZero() {
				t.Fatal("empty is not zero")
			}
			return
		}
		if ts.IsZero() {
			t.Fatalf("%q parsed to the zero Timestamp (\"no value\")", s)
		}
		if len(s) == 12 && ts.String() != s {
			t.Fatalf("%q prints as %q", s, ts.String())
		}
		back, err := ParseTimestamp(ts.String())
		if err != nil || !back.Equal(ts) || back.DateOnly() != ts.DateOnly() {
			t.Fatalf("%q → %q → %v, %v", s, ts.String(), back, err)
		}
		js, err := json.Marshal(ts)
		if err != nil {
			t.Fatal(err)
		}
		var dec Timestamp
		if err := json.Unmarshal(js, &dec); err != nil || !dec.Equal(ts) {
			t.Fatalf("JSON round trip of %q: %s → %v, %v", s, js, dec, err)
		}
		if ts.Time().Location() != Taipei {
			t.Fatalf("%q not in Taipei time", s)
		}
	})
}

// FuzzAmount: decoding never panics; Amount accepts exactly 1–18 digits
// without a leading zero ("0" itself is fine), bare or quoted, plus `""`
// and null (as 0), and nothing else: no sign, no -0, no fraction; a
// refused input leaves the value unchanged. The net sums of AllotQuery
// (signedAmount) accept the same plus a minus sign before a non-zero
// amount. Whatever is accepted holds the digits' value and round-trips
// through MarshalJSON.
func FuzzAmount(f *testing.F) {
	for _, s := range []string{`79900`, `"9440300"`, `""`, `null`, `-500`, `"-500"`, `"-"`, `-0`, `"-0"`, `0`, `"0"`, `00`, `0799`,
		`1e5`, `799.00`, `"1`, `999999999999999999`, `9999999999999999999`, `"+5"`, `+5`, `" 5"`, `"null"`, `-"5"`, `--5`, `-null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const untouched = Amount(-7)
		inner := b
		if len(inner) >= 2 && inner[0] == '"' && inner[len(inner)-1] == '"' {
			inner = inner[1 : len(inner)-1]
		}
		digitsOK := func(d []byte) bool {
			return len(d) >= 1 && len(d) <= 18 && strings.Trim(string(d), "0123456789") == "" && (d[0] != '0' || len(d) == 1)
		}
		absent := string(b) == "null" || string(b) == `""`
		var want int64
		if digitsOK(inner) {
			_ = json.Unmarshal(inner, &want) // the digits as a JSON number: an independent reading
		}

		a := untouched
		err := a.UnmarshalJSON(b)
		if wantOK := absent || digitsOK(inner); (err == nil) != wantOK {
			t.Fatalf("Amount.UnmarshalJSON(%q): err %v, want ok=%v", b, err, wantOK)
		}
		switch {
		case err != nil && a != untouched:
			t.Fatalf("refused %q but changed the value to %d", b, a)
		case err == nil && a != Amount(want):
			t.Fatalf("%q decoded to %d, want %d", b, a, want)
		}

		s := signedAmount(untouched)
		serr := s.UnmarshalJSON(b)
		neg := len(inner) > 1 && inner[0] == '-' && digitsOK(inner[1:]) && inner[1] != '0'
		if wantOK := absent || digitsOK(inner) || neg; (serr == nil) != wantOK {
			t.Fatalf("signedAmount.UnmarshalJSON(%q): err %v, want ok=%v", b, serr, wantOK)
		}
		if neg {
			_ = json.Unmarshal(inner, &want)
		}
		switch {
		case serr != nil && s != signedAmount(untouched):
			t.Fatalf("signed: refused %q but changed the value to %d", b, s)
		case serr == nil && s != signedAmount(want):
			t.Fatalf("signed: %q decoded to %d, want %d", b, s, want)
		}

		for _, v := range []Amount{a, Amount(s)} {
			if v == untouched {
				continue
			}
			js, err := v.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var back signedAmount
			if err := json.Unmarshal(js, &back); err != nil || Amount(back) != v {
				t.Fatalf("round trip of %q: %s → %d, %v", b, js, back, err)
			}
			_ = v.String()
		}
	})
}

// FuzzQueryConditionsValidate: Validate never panics, and whatever it
// accepts is sendable: OrderNo within the bank's rules, every time the
// 12-digit Taipei form with start ≤ end, and a request the signer takes.
func FuzzQueryConditionsValidate(f *testing.F) {
	f.Add("A202110507397", "A", "Y", int64(1633017600), int64(1633104000), int64(0), int64(0))
	f.Add("", "", "", int64(0), int64(0), int64(0), int64(0))
	f.Add("bad%", "X", "Q", int64(-62135596800), int64(253402300799), int64(5), int64(4))
	f.Add(" x", "C", "O", int64(0), int64(0), int64(253402271999), int64(253402300800))
	f.Add("", "", "", int64(253402300800), int64(253402271999), int64(0), int64(0))      // start in year 10000
	f.Add("", "", "", int64(253402271999), int64(253402271999+3600), int64(0), int64(0)) // 9999-12-31 in UTC, 10000 in Taipei
	f.Fuzz(func(t *testing.T, orderNo, payType, payFlag string, os, oe, ps, pe int64) {
		at := func(sec int64) time.Time {
			if sec == 0 {
				return time.Time{}
			}
			return time.Unix(sec, 0).UTC()
		}
		q := QueryConditions{OrderNo: orderNo, PayType: PayType(payType), PayFlag: PayFlag(payFlag),
			OrderDateTimeS: at(os), OrderDateTimeE: at(oe), PayDateTimeS: at(ps), PayDateTimeE: at(pe)}
		err := q.Validate()
		o := Order{OrderNo: orderNo, PayType: PayType(payType), PayStatus: PayStatus(payFlag), TSDate: At(at(os)), PayDate: At(at(pe))}
		_ = q.Match(&o)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field == "" {
				t.Fatalf("not a *ValidationError naming a field: %v", err)
			}
			return
		}
		if len(orderNo) > 50 || strings.ContainsAny(orderNo, `'"%`) || strings.TrimSpace(orderNo) != orderNo {
			t.Fatalf("accepted OrderNo %q", orderNo)
		}
		for _, r := range [][2]time.Time{{q.OrderDateTimeS, q.OrderDateTimeE}, {q.PayDateTimeS, q.PayDateTimeE}} {
			s, e := wireMinute(r[0]), wireMinute(r[1])
			if (s == "") != (e == "") {
				t.Fatalf("half a range accepted: %q %q", s, e)
			}
			if s == "" {
				continue
			}
			for _, w := range []string{s, e} {
				if len(w) != 12 || strings.Trim(w, "0123456789") != "" {
					t.Fatalf("accepted a time that is not yyyyMMddHHmm: %q", w)
				}
			}
			if s > e {
				t.Fatalf("accepted start %s after end %s", s, e)
			}
		}
		req := orderQueryRequest{ShopNo: "NA0001_001", OrderNo: q.OrderNo, PayType: q.PayType, PayFlag: q.PayFlag,
			OrderDateTimeS: wireMinute(q.OrderDateTimeS), OrderDateTimeE: wireMinute(q.OrderDateTimeE),
			PayDateTimeS: wireMinute(q.PayDateTimeS), PayDateTimeE: wireMinute(q.PayDateTimeE)}
		if _, err := Seal("OrderQuery", "NA0001_001", req, "N", fuzzHashID); err != nil {
			t.Fatalf("valid conditions do not seal: %v", err)
		}
	})
}

// Hostile sizes and shapes, beyond what the fuzzer's small inputs reach:
// each is refused or handled in linear time, without a stack overflow.
func TestHostileInputsBounded(t *testing.T) {
	t.Parallel()
	deep := func(n int) []byte {
		return []byte(`{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	manyFields := func(n int, name func(i int) string) []byte {
		var b bytes.Buffer
		b.WriteByte('{')
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + name(i) + `":"v"`)
		}
		b.WriteByte('}')
		return b.Bytes()
	}
	distinct := func(i int) string { return "k" + strconv.Itoa(i) }
	same := func(int) string { return "k" }
	// The first and the last name differ only in case: found by the map,
	// at the end of a long object.
	caseAtEnd := func(i int) string {
		if i == 49_999 {
			return "K0"
		}
		return distinct(i)
	}
	for name, tc := range map[string]struct {
		msg    []byte
		wantOK bool
	}{
		"depth 64":           {deep(64), true},
		"depth 65":           {deep(65), false},
		"depth 1e6":          {deep(1_000_000), false},
		"unclosed 1e6":       {[]byte(`{"a":` + strings.Repeat("[", 1_000_000)), false},
		"long string 1MiB":   {[]byte(`{"a":"` + strings.Repeat("x", 1<<20) + `"}`), true},
		"unterminated 1MiB":  {[]byte(`{"a":"` + strings.Repeat("x", 1<<20)), false},
		"backslashes 1MiB":   {[]byte(`{"a":"` + strings.Repeat(`\`, 1<<20)), false},
		"50k fields":         {manyFields(50_000, distinct), true},
		"50k duplicates":     {manyFields(50_000, same), false},
		"50k, last dup":      {manyFields(50_000, caseAtEnd), false},
		"number 256KiB":      {[]byte(`{"a":` + strings.Repeat("9", 256<<10) + `}`), true},
		"escapes 256KiB":     {[]byte(`{"a":"` + strings.Repeat(`\u0041`, 1<<15) + `"}`), true},
		"nested strings 1e4": {[]byte(`{"a":[` + strings.TrimSuffix(strings.Repeat(`"}]",`, 10_000), ",") + `]}`), true},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := Sign(tc.msg, "N", fuzzHashID)
			if tc.wantOK && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.wantOK && !errors.Is(err, ErrMalformedMessage) {
				t.Fatalf("want a *MessageError, got %v", err)
			}
			if tc.wantOK {
				env, err := Seal("OrderQuery", "NA0001_001", tc.msg, "N", fuzzHashID)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := env.Open(fuzzHashID); err != nil {
					t.Fatal(err)
				}
			}
			var r ResponseOrderQuery
			_ = json.Unmarshal(tc.msg, &r)
			// Linear work takes milliseconds; the bound is loose for -race on a busy machine.
			if d := time.Since(start); d > 20*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// FuzzParseReturnNotification: the ReturnURL form from a browser is
// arbitrary input. Parsing never panics; what it accepts passes the ShopNo
// and PayToken rules; what it refuses is a *ValidationError naming one of
// the documented fields. (The BackendURL body has FuzzNotificationBody.)
func FuzzParseReturnNotification(f *testing.F) {
	f.Add("POST", "application/x-www-form-urlencoded", []byte("ShopNo=NA0249_001&PayToken=PT0000000123ABCDEF"), "")
	f.Add("POST", "application/x-www-form-urlencoded", []byte("ShopNo=NA0249_001&PayToken=%27x"), "")
	f.Add("POST", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"ShopNo\"\r\n\r\nNA0249_001\r\n--x--\r\n"), "")
	f.Add("GET", "", []byte(nil), "ShopNo=NA0249_001&PayToken=PT1")
	f.Add("POST", "application/json", []byte(`{"ShopNo":"NA0249_001","PayToken":"PT1"}`), "PayToken=PT1")
	f.Add("PUT", "", []byte("x"), "")
	f.Add("POST", "application/x-www-form-urlencoded", []byte("ShopNo=%zz&&&==;"), "a=%")
	f.Fuzz(func(t *testing.T, method, contentType string, body []byte, query string) {
		if len(method) == 0 || len(method) > 10 || strings.ContainsAny(method, " \t\r\n/") {
			method = "POST"
		}
		r := httptest.NewRequest("POST", "/return", bytes.NewReader(body))
		r.Method = method
		r.URL.RawQuery = query
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		shopNo, payToken, err := ParseReturnNotification(r)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("not a *ValidationError: %T %v", err, err)
			}
			switch ve.Field {
			case "Method", "Body", "ShopNo", "PayToken":
			default:
				t.Fatalf("undocumented field %q", ve.Field)
			}
			return
		}
		if checkShopNo(shopNo) != nil || checkPayToken(payToken) != nil {
			t.Fatalf("accepted ShopNo %q PayToken %q", shopNo, payToken)
		}
	})
}

// A huge ReturnURL form is refused at MaxNotificationBytes, without
// reading (or keeping) the rest.
func TestReturnNotificationBodyBounded(t *testing.T) {
	t.Parallel()
	body := io.MultiReader(strings.NewReader("ShopNo=NA0249_001&PayToken="), &endlessReader{})
	r := httptest.NewRequest("POST", "/return", body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	_, _, err := ParseReturnNotification(r)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "Body" {
		t.Fatalf("want a Body *ValidationError, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("read too long")
	}
}

// endlessReader yields 'A' forever.
type endlessReader struct{}

func (*endlessReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}

// replyTypes are the reply types the one-pass reader decodes, by the
// kind byte of FuzzReplyDecode; each call returns two fresh values.
var replyTypes = []func() (replyTarget, replyTarget){
	func() (replyTarget, replyTarget) { return &ResponseOrderQuery{}, &ResponseOrderQuery{} },
	func() (replyTarget, replyTarget) { return &ResponseOrderPayQuery{}, &ResponseOrderPayQuery{} },
	func() (replyTarget, replyTarget) { return &ResponseOrderCreate{}, &ResponseOrderCreate{} },
	func() (replyTarget, replyTarget) { return &ResponseOrderMaintain{}, &ResponseOrderMaintain{} },
	func() (replyTarget, replyTarget) {
		return &ResponseOrderUnCapturedQuery{}, &ResponseOrderUnCapturedQuery{}
	},
	func() (replyTarget, replyTarget) { return &ResponseBillQuery{}, &ResponseBillQuery{} },
	func() (replyTarget, replyTarget) { return &ResponseAllotQuery{}, &ResponseAllotQuery{} },
}

// FuzzReplyDecode holds the one-pass reader (readReply) to what it
// replaces, for every reply type: scanObject for the top-level members
// and its refusals, then encoding/json's Unmarshal into the same type.
// The same members, the same value, or both refuse. Plaintext that is not
// UTF-8 is refused before either runs (open), so it is not fed here.
func FuzzReplyDecode(f *testing.F) {
	v := loadVectors(f)
	for _, rv := range []replyVector{v.SpecReply, v.SandboxReply, v.SeedOrderQueryReply} {
		for k := range replyTypes {
			f.Add([]byte(rv.Plaintext), uint8(k))
		}
	}
	files, _ := filepath.Glob("testdata/replies/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for k := range replyTypes {
			f.Add(b, uint8(k))
		}
	}
	for _, s := range []string{
		`{"OrderList":[{"Amount":100,"ATMParam":{"AtmPayNo":"1"},"atmparam":{"BankNo":"2"}}],"Status":"S"}`,
		`{"OrderList":[{"RefundList":[{"RefundNo":"a"},{"RefundNo":"b"}],"REFUNDLIST":[{"RefundAmount":1}]}]}`,
		`{"OrderList":[{"ATMParam":{"AtmPayNo":"1"},"ATMParam":null}],"Date":null,"ShopNo":null}`,
		`{"OrderList":[],"Description":"S0000 \u2013 \u8655\u7406\u6210\u529f","\u0053tatus":"S"}`,
		`{"orderlist":[{"Amount":"79900","TSDate":"20211001","PayDate":"20211001224510","x":[1,{"a":[true,false,null,-0.5e+3]}]}]}`,
		`{"OrderList":[{"Amount":1.5}]}`, `{"OrderList":[{"Amount":-1}]}`, `{"OrderList":{"Amount":1}}`,
		`{"OrderList":[{"PayType":1}]}`, `{"OrderList":[{"\u212Aey":1,"paymenthod":"A"}]}`, `{"OrderList":[null,{}]}`,
		`{"OrderList":[{"x":[1:2]}],"Status":"F"}`, `{"OrderList":[{"x":{"a" 1}}]}`, `{"OrderList":[{"x":"\x"}]}`,
		`{"TSResultContent":{"Amount":"9440300","Status":"S"},"TSResultContent":null}`,
		`{"TSResultContent":{"Amount":"9440300"},"tsresultcontent":{"Status":"F"}}`,
		`{"Allot":[{"AllotAmount":"-30000","ExtAllotAmount":-5,"List":[{"TSNO":"1","OrderNO":"2","Amount":"100"}]},null]}`,
		`{"Allot":[{"AllotAmount":"-0"}]}`, `{"Allot":["x"]}`, `{"Allot":[{"allotamount":-100}],"Allot":[{"PayAmount":1}]}`,
		`{"CardParam":{"BonusCount":"","StagingEachAmount":null},"WalletParam":{"WalletPayURL":"u"},"Amount":null}`,
		`{"Command":"R","Date":"202110012245","RefundToken":"t"}`, `{"BillDate":"20211001","OrderList":[{"TSType":"P"}]}`,
		`{"A":1,"a":2}`, `[]`, `{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	} {
		for k := range replyTypes {
			f.Add([]byte(s), uint8(k))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		if !utf8.Valid(data) {
			return
		}
		got, want := replyTypes[int(kind)%len(replyTypes)]()
		members, decodeErr, err := readReply(data, got)
		wantMembers, wantErr := scanObject(data)
		switch {
		case (err == nil) != (wantErr == nil):
			t.Fatalf("readReply(%q): scan error %v, scanObject says %v", data, err, wantErr)
		case err != nil:
			if errors.Is(err, ErrDuplicateField) != errors.Is(wantErr, ErrDuplicateField) ||
				errors.Is(err, ErrNotJSONObject) != errors.Is(wantErr, ErrNotJSONObject) {
				t.Fatalf("readReply(%q): %v, scanObject: %v", data, err, wantErr)
			}
			return
		}
		if len(members) != len(wantMembers) {
			t.Fatalf("readReply(%q): %d members, scanObject %d", data, len(members), len(wantMembers))
		}
		for i := range members {
			if members[i].name != wantMembers[i].name || !bytes.Equal(members[i].raw, wantMembers[i].raw) {
				t.Fatalf("readReply(%q): member %d is %q=%q, scanObject %q=%q", data, i,
					members[i].name, members[i].raw, wantMembers[i].name, wantMembers[i].raw)
			}
		}
		v1Err := json.Unmarshal(data, want)
		switch {
		case (decodeErr == nil) != (v1Err == nil):
			t.Fatalf("decoding %q into %T: %v, encoding/json: %v", data, got, decodeErr, v1Err)
		case decodeErr == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("decoding %q into %T:\n got %+v\nwant %+v", data, got, got, want)
		}
	})
}
