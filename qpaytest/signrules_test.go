package qpaytest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The two Sign rules as the tests compute them, written apart from the
// server's: the raw-JSON rule (protocol §2 step 5) and the model rule of
// the bank's .NET sample (§2a).

// prop is one scalar property of one of the bank's typed models.
type prop struct {
	name string
	int  bool
}

// testReplyModels are the reply models of the bank's sample, as the task
// lists them (top-level scalars; ints marked).
var testReplyModels = map[string][]prop{
	"OrderQuery":    {{"ShopNo", false}, {"Date", false}, {"Status", false}, {"Description", false}},
	"OrderPayQuery": {{"ShopNo", false}, {"PayToken", false}, {"Date", false}, {"Status", false}, {"Description", false}},
	"OrderCreate": {{"OrderNo", false}, {"ShopNo", false}, {"TSNo", false}, {"Amount", true}, {"Status", false},
		{"Description", false}, {"Param1", false}, {"Param2", false}, {"Param3", false}, {"PayType", false}, {"QRCodeURL", false}},
	"OrderMaintain": {{"OrderNo", false}, {"ShopNo", false}, {"TSNo", false}, {"Command", false}, {"Amount", true},
		{"Date", false}, {"Status", false}, {"Description", false}, {"RefundToken", false}},
	"OrderUnCapturedQuery": {{"ShopNo", false}, {"Date", false}, {"Status", false}, {"Description", false}},
	"BillQuery":            {{"ShopNo", false}, {"Date", false}, {"Status", false}, {"Description", false}, {"BillDate", false}},
	"AllotQuery":           {{"ShopNo", false}, {"Date", false}, {"Status", false}, {"Description", false}},
}

// topScalars returns the top-level members of a JSON object that are not
// objects or arrays: strings unquoted, numbers and booleans as written,
// null as nil.
func topScalars(t testing.TB, msg []byte) map[string]*string {
	t.Helper()
	var all map[string]json.RawMessage
	if err := json.Unmarshal(msg, &all); err != nil {
		t.Fatalf("not a JSON object: %s", msg)
	}
	out := map[string]*string{}
	for k, raw := range all {
		switch raw[0] {
		case '{', '[':
		case 'n':
			out[k] = nil
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			out[k] = &s
		default:
			s := string(raw)
			out[k] = &s
		}
	}
	return out
}

// signString hashes "k=v&…" + nonce + hashID, keys sorted ignoring case.
func signString(kv map[string]string, nonce, hashID string) string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return strings.ToLower(keys[i]) < strings.ToLower(keys[j]) })
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + kv[k])
	}
	return sha256Upper(b.String() + nonce + hashID)
}

// sha256Upper is the upper-case hex SHA-256 of s.
func sha256Upper(s string) string {
	sum := sha256.Sum256([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// rawRuleSign is the raw-JSON rule over msg.
func rawRuleSign(t testing.TB, msg []byte, nonce, hashID string) string {
	kv := map[string]string{}
	for k, v := range topScalars(t, msg) {
		if v != nil && *v != "" {
			kv[k] = *v
		}
	}
	return signString(kv, nonce, hashID)
}

// modelRuleSign is the .NET sample's rule: the model's properties bound
// from msg ignoring case, white-space-only and null dropped, an absent int
// taken as 0.
func modelRuleSign(t testing.TB, model []prop, msg []byte, nonce, hashID string) string {
	t.Helper()
	scalars := topScalars(t, msg)
	kv := map[string]string{}
	for _, p := range model {
		var v *string
		for k, x := range scalars {
			if strings.EqualFold(k, p.name) {
				v = x
			}
		}
		switch {
		case p.int && (v == nil || *v == ""):
			kv[p.name] = "0"
		case p.int:
			n, err := strconv.ParseInt(*v, 10, 64)
			if err != nil {
				t.Fatalf("%s = %q is not an int", p.name, *v)
			}
			kv[p.name] = strconv.FormatInt(n, 10)
		case v != nil && strings.TrimSpace(*v) != "":
			kv[p.name] = *v
		}
	}
	return signString(kv, nonce, hashID)
}
