package sinopac

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vectors mirrors testdata/qpay-vectors.json (the bank's published
// examples and a real sandbox reply).
type vectors struct {
	HashID []struct {
		Keys   HashKeys `json:"keys"`
		HashID string   `json:"hash_id"`
	} `json:"hash_id"`
	IV []struct {
		Nonce       string `json:"nonce"`
		SHA256Upper string `json:"sha256_upper"`
		IV          string `json:"iv"`
	} `json:"iv"`
	SpecRequest struct {
		APIService string `json:"api_service"`
		HashID     string `json:"hash_id"`
		Nonce      string `json:"nonce"`
		Plaintext  string `json:"plaintext"`
		SignString string `json:"sign_string"`
		Sign       string `json:"sign"`
		Message    string `json:"message"`
	} `json:"spec_request"`
	SpecReply           replyVector `json:"spec_reply"`
	SandboxReply        replyVector `json:"sandbox_reply"`
	SeedOrderQueryReply replyVector `json:"seed_orderquery_reply"`
}

type replyVector struct {
	Keys       *keysJSON  `json:"keys"`
	HashID     string     `json:"hash_id"`
	Envelope   APIMessage `json:"envelope"`
	Plaintext  string     `json:"plaintext"`
	SignString string     `json:"sign_string"`
}

// keysJSON exists because HashKeys deliberately never round-trips through
// JSON output; input decoding is plain.
type keysJSON struct{ A1, A2, B1, B2 string }

func loadVectors(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/qpay-vectors.json")
	require.NoError(t, err)
	var v vectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.Len(t, v.HashID, 2)
	return v
}

func TestHashIDVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range loadVectors(t).HashID {
		got, err := tc.Keys.HashID()
		require.NoError(t, err)
		assert.Equal(t, tc.HashID, got)
	}
}

func TestHashIDAcceptsGUIDAndLowerCase(t *testing.T) {
	t.Parallel()
	k := HashKeys{
		A1: "4d9709d6-99ca-40ee-1111-222233334444", A2: " 5A4FEF83140C4E9E ",
		B1: "BC74301945134CB4", B2: "961F67F8-FCA4-4AB9-AAAA-BBBBCCCCDDDD",
	}
	got, err := k.HashID()
	require.NoError(t, err)
	assert.Equal(t, "17D8E6558DC60E702A6B57E1B9B7060D", got)
}

func TestHashIDRejectsMalformedKeys(t *testing.T) {
	t.Parallel()
	good := "4D9709D699CA40EE"
	cases := map[string]struct {
		keys  HashKeys
		field string
	}{
		"empty A1":    {HashKeys{"", good, good, good}, "HashKeys.A1"},
		"short A2":    {HashKeys{good, "4D9709D699CA40E", good, good}, "HashKeys.A2"},
		"non-hex B1":  {HashKeys{good, good, "4D9709D699CA40EG", good}, "HashKeys.B1"},
		"bad GUID B2": {HashKeys{good, good, good, "4D9709D6-99CA-40EE-XXXX-222233334444"}, "HashKeys.B2"},
		"too long":    {HashKeys{good + "00", good, good, good}, "HashKeys.A1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := tc.keys.HashID()
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.NotContains(t, err.Error(), "4D9709D699CA40E", "a key must never be quoted in an error")
		})
	}
}

func TestHashKeysRedacted(t *testing.T) {
	t.Parallel()
	k := HashKeys{A1: "4D9709D699CA40EE", A2: "5A4FEF83140C4E9E", B1: "BC74301945134CB4", B2: "961F67F8FCA44AB9"}
	var out []string
	out = append(out, fmt.Sprintf("%T", k))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		out = append(out, fmt.Sprintf(verb, k))
	}
	out = append(out, fmt.Sprintf("%v", struct{ K HashKeys }{k}), fmt.Sprintf("%+v", &struct{ K HashKeys }{k}))
	js, err := json.Marshal(struct{ K HashKeys }{k})
	require.NoError(t, err)
	out = append(out, string(js))
	var logbuf strings.Builder
	slog.New(slog.NewJSONHandler(&logbuf, nil)).Info("keys", "k", k)
	slog.New(slog.NewTextHandler(&logbuf, nil)).Info("keys", "k", k)
	out = append(out, logbuf.String())
	for _, s := range out[1:] {
		assert.Contains(t, s, "redacted")
		for _, secret := range []string{k.A1, k.A2, k.B1, k.B2, "4d9709d699ca40ee"} {
			assert.NotContains(t, strings.ToUpper(s), strings.ToUpper(secret))
		}
	}
}

func TestIVVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range loadVectors(t).IV {
		assert.Equal(t, tc.IV, IV(tc.Nonce))
		assert.True(t, strings.HasSuffix(tc.SHA256Upper, tc.IV))
	}
}

func TestSpecRequestSignAndMessage(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).SpecRequest
	sign, err := Sign([]byte(v.Plaintext), v.Nonce, v.HashID)
	require.NoError(t, err)
	assert.Equal(t, v.Sign, sign)

	assert.Equal(t, v.SignString, rawSignString(t, v.Plaintext), "the sign string, field by field")

	msg, err := EncryptMessage([]byte(v.Plaintext), v.HashID, v.Nonce)
	require.NoError(t, err)
	assert.Equal(t, v.Message, msg)

	env, err := Seal(v.APIService, "BA0026_001", json.RawMessage(v.Plaintext), v.Nonce, v.HashID)
	require.NoError(t, err)
	assert.Equal(t, APIMessage{Version: "1.0.0", ShopNo: "BA0026_001", APIService: "OrderCreate", Sign: v.Sign, Nonce: v.Nonce, Message: v.Message}, *env)

	plain, err := DecryptMessage(v.Message, v.HashID, v.Nonce)
	require.NoError(t, err)
	assert.Equal(t, v.Plaintext, string(plain))
}

func TestReplyVectorsOpen(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for name, rv := range map[string]replyVector{"spec": v.SpecReply, "sandbox": v.SandboxReply, "seed": v.SeedOrderQueryReply} {
		t.Run(name, func(t *testing.T) {
			hashID := rv.HashID
			if rv.Keys != nil {
				got, err := HashKeys(*rv.Keys).HashID()
				require.NoError(t, err)
				require.Equal(t, rv.HashID, got)
			}
			env := rv.Envelope
			plain, err := env.Open(hashID)
			require.NoError(t, err)
			assert.Equal(t, rv.Plaintext, string(plain))

			// Seal of the same plaintext with the reply's nonce gives the
			// reply's own Sign and Message: one routine for both directions.
			again, err := Seal(env.APIService, env.ShopNo, json.RawMessage(plain), env.Nonce, hashID)
			require.NoError(t, err)
			assert.Equal(t, env, *again)
		})
	}
}

func TestSpecReplySignString(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).SpecReply
	assert.Equal(t, v.SignString, rawSignString(t, v.Plaintext))
}

// rawSignString is the string the raw-JSON rule hashes for msg (before the
// nonce and HashID).
func rawSignString(t *testing.T, msg string) string {
	t.Helper()
	members, err := scanObject([]byte(msg))
	require.NoError(t, err)
	fields, err := rawFields(members)
	require.NoError(t, err)
	return joinFields(fields)
}

// joinFields sorts fields as signFields does and joins them.
func joinFields(fields []field) string {
	signFields(fields, "", "")
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.name + "=" + f.value
	}
	return strings.Join(parts, "&")
}

func TestOpenRejectsTampering(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).SandboxReply
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	otherHashID := "17D8E6558DC60E702A6B57E1B9B7060D"
	cases := map[string]struct {
		mutate  func(*APIMessage)
		hashID  string
		wantSig bool // ErrSignatureMismatch, else ErrMalformedMessage
	}{
		"forged Sign":          {func(m *APIMessage) { m.Sign = flip(m.Sign, 3) }, v.HashID, true},
		"empty Sign":           {func(m *APIMessage) { m.Sign = "" }, v.HashID, true},
		"other nonce":          {func(m *APIMessage) { m.Nonce = m.Nonce[:len(m.Nonce)-1] + "x" }, v.HashID, false},
		"truncated Message":    {func(m *APIMessage) { m.Message = m.Message[:len(m.Message)-32] }, v.HashID, false},
		"odd-length Message":   {func(m *APIMessage) { m.Message = m.Message[:len(m.Message)-1] }, v.HashID, false},
		"partial block":        {func(m *APIMessage) { m.Message = m.Message[:len(m.Message)-2] }, v.HashID, false},
		"non-hex Message":      {func(m *APIMessage) { m.Message = "ZZ" + m.Message[2:] }, v.HashID, false},
		"empty Message":        {func(m *APIMessage) { m.Message = "" }, v.HashID, false},
		"wrong keys":           {func(*APIMessage) {}, otherHashID, false},
		"last block corrupted": {func(m *APIMessage) { m.Message = flip(m.Message, len(m.Message)-40) }, v.HashID, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := v.Envelope
			tc.mutate(&env)
			plain, err := env.Open(tc.hashID)
			require.Error(t, err)
			assert.Nil(t, plain)
			if tc.wantSig {
				assert.ErrorIs(t, err, ErrSignatureMismatch)
			} else if !errors.Is(err, ErrSignatureMismatch) {
				assert.ErrorIs(t, err, ErrMalformedMessage)
			}
			assert.NotContains(t, err.Error(), tc.hashID)
		})
	}
}

func TestSignRules(t *testing.T) {
	t.Parallel()
	const nonce, hashID = "N", "H"
	// Expected strings are built by hand from protocol §2 rule 5.
	cases := map[string]struct{ msg, signed string }{
		"case-insensitive order": {`{"b":"2","A":"1","C":"3"}`, "A=1&b=2&C=3"},
		"empty and null dropped": {`{"A":"","B":null,"C":"x"}`, "C=x"},
		"objects, arrays out":    {`{"A":{"X":"1"},"B":[1,2],"C":{},"D":"d"}`, "D=d"},
		"numbers verbatim":       {`{"Amount":50000,"F":1.50,"Z":0}`, "Amount=50000&F=1.50&Z=0"},
		"escapes decoded":        {`{"A":"a\u0026b\"c","B":"<\/>"}`, `A=a&b"c&B=</>`},
		"raw UTF-8 and &":        {`{"P":"虛擬 & 帳號"}`, "P=虛擬 & 帳號"},
		"booleans as text":       {`{"T":true,"F":false}`, "F=false&T=true"},
		"whitespace around":      {" {\n \"A\" : \"1\" ,\t\"B\":2 }\n", "A=1&B=2"},
		"empty object":           {`{}`, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Sign([]byte(tc.msg), nonce, hashID)
			require.NoError(t, err)
			want := signFields(nil, tc.signed+nonce, hashID) // hash of the raw string
			assert.Equal(t, want, got)
		})
	}
}

func TestSignRejectsNonObjects(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{``, `[]`, `"x"`, `{"A":}`, `{"A":"1"`, `{"A":"1"}x`, `{"A" "1"}`, `{"A":tru}`, `{"A":01}`, `{A:1}`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100), `{"A":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`} {
		_, err := Sign([]byte(msg), "n", "h")
		assert.ErrorIs(t, err, ErrMalformedMessage, "message %q", msg)
	}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	t.Parallel()
	const hashID = "87282A2FA0E209EBE1B3713AB56A06C2"
	for n := 0; n <= 48; n++ {
		plain := []byte(strings.Repeat("x", n))
		msg, err := EncryptMessage(plain, hashID, "nonce")
		require.NoError(t, err)
		assert.Equal(t, strings.ToUpper(msg), msg)
		assert.Len(t, msg, (n/16+1)*32)
		back, err := DecryptMessage(msg, hashID, "nonce")
		require.NoError(t, err)
		assert.Equal(t, plain, back)
		back, err = DecryptMessage(strings.ToLower(msg), hashID, "nonce")
		require.NoError(t, err, "lower-case hex is read too")
		assert.Equal(t, plain, back)
	}
	_, err := EncryptMessage(nil, "short", "n")
	var ve *ValidationError
	assert.ErrorAs(t, err, &ve)
}

func TestOpenRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	const hashID = "87282A2FA0E209EBE1B3713AB56A06C2"
	plain := []byte(`{"Status":"S","OrderList":[{"PrdtName":"` + "\xff\xfe" + `"}]}`) // nested, so not signed
	env, err := Seal("OrderQuery", "NA0249_001", plain, "N1", hashID)
	require.NoError(t, err)
	got, err := env.Open(hashID)
	assert.Nil(t, got)
	assert.ErrorIs(t, err, ErrMalformedMessage)
	assert.ErrorContains(t, err, "UTF-8")
}

// hashSignString is the Sign of a sign string written out by hand: the
// expected values below do not go through the code under test.
func hashSignString(s, nonce, hashID string) string {
	sum := sha256.Sum256([]byte(s + nonce + hashID))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// The bank's model rule (protocol §2a), case by case. Each expected sign
// string is written from the rule, not computed; "" in want means the
// rule does not apply (the bank's sample could not have bound the reply).
func TestModelRule(t *testing.T) {
	t.Parallel()
	create := orderCreateService.reply
	query := orderQueryService.reply
	cases := map[string]struct {
		model   replyModel
		msg     string
		want    string // the model rule's sign string; "-" when it does not apply
		rawSame bool   // the raw rule gives the same string
	}{
		"absent int is 0": {create, `{"OrderNo":"A1","ShopNo":"NA0249_001","Status":"F","Description":"E0302 – 訂單編號重複"}`,
			"Amount=0&Description=E0302 – 訂單編號重複&OrderNo=A1&ShopNo=NA0249_001&Status=F", false},
		"null int is 0":        {create, `{"Amount":null,"Status":"F"}`, "Amount=0&Status=F", false},
		`"" int is 0`:          {create, `{"Amount":"","Status":"F"}`, "Amount=0&Status=F", false},
		"int as a string":      {create, `{"Amount":"50000","Status":"S"}`, "Amount=50000&Status=S", true},
		"int string, zeros":    {create, `{"Amount":"007"}`, "Amount=7", false},
		"negative int string":  {create, `{"Amount":"-12"}`, "Amount=-12", true},
		"minus zero":           {create, `{"Amount":-0}`, "Amount=0", false},
		"int present":          {create, `{"Amount":50000,"Status":"S"}`, "Amount=50000&Status=S", true},
		"whitespace-only out":  {create, `{"Status":"S","Param1":"  ","Param2":"\u3000","Param3":"\t"}`, "Amount=0&Status=S", false},
		"spaces inside kept":   {create, `{"Amount":1,"Param1":" a b "}`, "Amount=1&Param1= a b ", true},
		"model names the pair": {query, `{"status":"S","DESCRIPTION":"S0000 – 處理成功","shopno":"NA0249_001"}`, "Description=S0000 – 處理成功&ShopNo=NA0249_001&Status=S", false},
		"escaped name":         {query, `{"St\u0061tus":"S"}`, "Status=S", true},
		"number in a string":   {create, `{"Amount":1,"TSNo":12345}`, "Amount=1&TSNo=12345", true},
		"null string out":      {query, `{"Status":"S","Date":null}`, "Status=S", true},
		"others take no part":  {query, `{"Status":"S","Extra":"x","N":5,"OrderList":[{"Amount":1}],"ATMParam":{}}`, "Status=S", false},
		"int 1.5":              {create, `{"Amount":1.5}`, "-", false},
		"int 1e3":              {create, `{"Amount":1e3}`, "-", false},
		`int "+1"`:             {create, `{"Amount":"+1"}`, "-", false},
		`int " 1"`:             {create, `{"Amount":" 1"}`, "-", false},
		`int "abc"`:            {create, `{"Amount":"abc"}`, "-", false},
		"int out of range":     {create, `{"Amount":99999999999999999999}`, "-", false},
		"int true":             {create, `{"Amount":true}`, "-", false},
		"int object":           {create, `{"Amount":{}}`, "-", false},
		"string true":          {query, `{"Status":true}`, "-", false},
		"string array":         {query, `{"Status":["S"]}`, "-", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			members, err := scanObject([]byte(tc.msg))
			require.NoError(t, err)
			fields, ok := modelFields(members, tc.model)
			if tc.want == "-" {
				assert.False(t, ok, "the model rule must not apply")
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want, joinFields(fields))
			assert.Equal(t, tc.rawSame, rawSignString(t, tc.msg) == tc.want, "raw rule: %s", rawSignString(t, tc.msg))
		})
	}
}

// Every vector verifies by both rules, and the model rule of its service
// gives the vector's own Sign: the rules agree on every message the bank
// has published or sent.
func TestReplyVectorsAgreeWithModelRule(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	for name, rv := range map[string]replyVector{"spec": v.SpecReply, "sandbox": v.SandboxReply, "seed": v.SeedOrderQueryReply} {
		t.Run(name, func(t *testing.T) {
			env := rv.Envelope
			svc := lookupService(env.APIService)
			require.NotEmpty(t, svc.reply, "a modelled service")
			members, err := scanObject([]byte(rv.Plaintext))
			require.NoError(t, err)
			fields, ok := modelFields(members, svc.reply)
			require.True(t, ok)
			assert.Equal(t, env.Sign, signFields(fields, env.Nonce, rv.HashID))
			plain, err := env.OpenReply(rv.HashID)
			require.NoError(t, err)
			assert.Equal(t, rv.Plaintext, string(plain))
		})
	}
}
