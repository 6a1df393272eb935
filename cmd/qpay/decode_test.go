package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// vectors is the part of the repository's protocol vectors decode uses.
type vectors struct {
	HashID []struct {
		Keys   sinopac.HashKeys `json:"keys"`
		HashID string           `json:"hash_id"`
	} `json:"hash_id"`
	SpecReply    vectorReply `json:"spec_reply"`
	SandboxReply vectorReply `json:"sandbox_reply"`
	SeedReply    vectorReply `json:"seed_orderquery_reply"`
}

type vectorReply struct {
	HashID    string             `json:"hash_id"`
	Envelope  sinopac.APIMessage `json:"envelope"`
	Plaintext string             `json:"plaintext"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("../../testdata/qpay-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func keyEnv(k sinopac.HashKeys) map[string]string {
	return map[string]string{"QPAY_HASH_A1": k.A1, "QPAY_HASH_A2": k.A2, "QPAY_HASH_B1": k.B1, "QPAY_HASH_B2": k.B2}
}

func envelopeJSON(t *testing.T, m sinopac.APIMessage) string {
	t.Helper()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// samePlaintext compares decode's pretty output with the vector's compact
// plaintext, byte for byte after compacting.
func samePlaintext(t *testing.T, got, want string) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(got)); err != nil {
		t.Fatalf("decode output is not JSON: %v\n%s", err, got)
	}
	if buf.String() != want {
		t.Errorf("plaintext\n got %s\nwant %s", buf.String(), want)
	}
}

func TestDecodeVectors(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	// spec_reply gives only its HashID; the hash_id vector with that HashID
	// gives the keys.
	var specKeys sinopac.HashKeys
	for _, h := range v.HashID {
		if h.HashID == v.SpecReply.HashID {
			specKeys = h.Keys
		}
	}
	if specKeys.A1 == "" {
		t.Fatal("no hash_id vector gives spec_reply's HashID")
	}
	cases := []struct {
		name   string
		env    map[string]string
		reply  vectorReply
		stderr string
	}{
		{"spec reply", keyEnv(specKeys), v.SpecReply,
			"qpay: Sign verified with the keys from QPAY_HASH_A1 … QPAY_HASH_B2: OrderCreate reply for shop BA0026_001 (Status S, S0000 – 處理成功)\n"},
		{"sandbox reply", keyEnv(qpaytest.DemoKeys), v.SandboxReply,
			"qpay: Sign verified with the keys from QPAY_HASH_A1 … QPAY_HASH_B2: OrderCreate reply for shop NA0249_001 (Status S, S0000 – 處理成功)\n"},
		{"sandbox reply, demo keys", nil, v.SandboxReply,
			"qpay: Sign verified with the demo keys (no QPAY_HASH_* set): OrderCreate reply for shop NA0249_001 (Status S, S0000 – 處理成功)\n"},
		{"seed OrderQuery reply", nil, v.SeedReply,
			"qpay: Sign verified with the demo keys (no QPAY_HASH_* set): OrderQuery reply for shop NA0249_001 (Status S, S0000 – 處理成功)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := qpay(t, tc.env, envelopeJSON(t, tc.reply.Envelope), "decode")
			wantCode(t, r, 0)
			samePlaintext(t, r.stdout, tc.reply.Plaintext)
			if r.stderr != tc.stderr {
				t.Errorf("stderr\n got %q\nwant %q", r.stderr, tc.stderr)
			}
		})
	}
	r := qpay(t, nil, envelopeJSON(t, v.SandboxReply.Envelope), "decode")
	golden(t, "decode-sandbox.json", r.stdout)
}

// A request envelope verifies the same way: what the merchant's code sent.
func TestDecodeRequestEnvelope(t *testing.T) {
	t.Parallel()
	hashID, err := qpaytest.DemoKeys.HashID()
	if err != nil {
		t.Fatal(err)
	}
	plain := `{"ShopNo":"NA0249_001","OrderNo":"A202110507397"}`
	env, err := sinopac.Seal("OrderQuery", "NA0249_001", []byte(plain), "bm9uY2UtZm9yLWEtdGVzdA==", hashID)
	if err != nil {
		t.Fatal(err)
	}
	r := runInProcess(nil, envelopeJSON(t, *env), "decode")
	wantCode(t, r, 0)
	samePlaintext(t, r.stdout, plain)
	if !strings.Contains(r.stderr, "OrderQuery request for shop NA0249_001") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	good := v.SandboxReply.Envelope

	flipSign := good
	flipSign.Sign = "0" + good.Sign[1:]
	if flipSign.Sign == good.Sign {
		flipSign.Sign = "1" + good.Sign[1:]
	}
	// Changing the last ciphertext block garbles the padding.
	lastBlock := good
	lastBlock.Message = good.Message[:len(good.Message)-2] + flipHex(good.Message[len(good.Message)-2:])
	// Changing an early block garbles that block's plaintext.
	earlyBlock := good
	earlyBlock.Message = good.Message[:4] + flipHex(good.Message[4:6]) + good.Message[6:]
	otherNonce := good
	otherNonce.Nonce = v.SpecReply.Envelope.Nonce
	notHex := good
	notHex.Message = good.Message[:10] + "ZZ" + good.Message[12:]
	cut := good
	cut.Message = good.Message[:len(good.Message)-6]
	noSign := good
	noSign.Sign = ""

	cases := []struct {
		name  string
		env   map[string]string
		stdin string
		code  int
		want  string
	}{
		{"tampered Sign", nil, envelopeJSON(t, flipSign), 4, "Sign mismatch: the Message decrypts with the demo keys (no QPAY_HASH_* set), but the envelope's Sign does not match its content"},
		{"tampered last block", nil, envelopeJSON(t, lastBlock), 4, "bad PKCS#7 padding"},
		{"tampered early block", nil, envelopeJSON(t, earlyBlock), 4, "altered"},
		{"other nonce", nil, envelopeJSON(t, otherNonce), 4, "Message or Nonce was altered"},
		{"wrong keys", keyEnv(loadVectors(t).HashID[0].Keys), envelopeJSON(t, good), 4, "Wrong keys? They must be the hash keys of shop NA0249_001"},
		{"not hex", nil, envelopeJSON(t, notHex), 4, "Message is not hex: character 11 is \"Z\""},
		{"cut short", nil, envelopeJSON(t, cut), 4, "not a whole number of 16-byte AES blocks"},
		{"no Sign", nil, envelopeJSON(t, noSign), 2, "the envelope has no Sign"},
		{"bad JSON", nil, `{"Version":"1.0.0",`, 2, "stdin is not valid JSON"},
		{"array", nil, `[1,2]`, 2, "not an object"},
		{"empty", nil, "", 2, "stdin is empty"},
		{"plain error body", nil, `{"Status":"F","Description":"E0000 – 安全簽章錯誤"}`, 2, "unencrypted error body"},
		{"partial keys", map[string]string{"QPAY_HASH_A1": "86D50DEF3EB7400E"}, envelopeJSON(t, good), 2, "QPAY_HASH_A2, QPAY_HASH_B1, QPAY_HASH_B2 not set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runInProcess(tc.env, tc.stdin, "decode")
			wantCode(t, r, tc.code)
			if r.stdout != "" {
				t.Errorf("stdout = %q: nothing unverified may be printed", r.stdout)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
		})
	}
	// As a shell sees it.
	r := qpay(t, nil, envelopeJSON(t, flipSign), "decode")
	wantCode(t, r, 4)
}

// flipHex changes a two-digit hex string to another value.
func flipHex(s string) string {
	if s == "00" {
		return "01"
	}
	return "00"
}

// Keys may come as flags too (with a warning): the spec's reply decoded
// with --hash-a1 … --hash-b2.
func TestDecodeKeysAsFlags(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	k := v.HashID[0].Keys
	if h, _ := k.HashID(); h != v.SpecReply.HashID {
		t.Fatalf("hash_id[0] gives %s, not spec_reply's HashID", h)
	}
	r := runInProcess(nil, envelopeJSON(t, v.SpecReply.Envelope), "decode",
		"--hash-a1", k.A1, "--hash-a2", k.A2, "--hash-b1", k.B1, "--hash-b2", k.B2)
	wantCode(t, r, 0)
	samePlaintext(t, r.stdout, v.SpecReply.Plaintext)
	if strings.Count(r.stderr, "warning: secrets given as flags end up in shell history") != 1 {
		t.Errorf("want one warning about flags, stderr:\n%s", r.stderr)
	}
}

func TestDecodeFileArgument(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	path := filepath.Join(t.TempDir(), "reply.json")
	if err := os.WriteFile(path, []byte(envelopeJSON(t, v.SandboxReply.Envelope)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := qpay(t, nil, "", "decode", path)
	wantCode(t, r, 0)
	samePlaintext(t, r.stdout, v.SandboxReply.Plaintext)
	r = runInProcess(nil, "", "decode", filepath.Join(t.TempDir(), "missing.json"))
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "cannot read the envelope") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

// A reply signed as the bank's .NET sample signs it (from its model: the
// absent Amount of an E0302 reply as Amount=0) verifies; one that names a
// field twice is refused with the reason, whatever its Sign.
func TestDecodeBankModelSignAndDuplicates(t *testing.T) {
	t.Parallel()
	hashID, err := qpaytest.DemoKeys.HashID()
	if err != nil {
		t.Fatal(err)
	}
	const nonce = "bm9uY2UtZm9yLWEtdGVzdA=="
	seal := func(plain, signString string) sinopac.APIMessage {
		msg, err := sinopac.EncryptMessage([]byte(plain), hashID, nonce)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(signString + nonce + hashID))
		return sinopac.APIMessage{Version: "1.0.0", ShopNo: "NA0249_001", APIService: "OrderCreate",
			Sign: strings.ToUpper(hex.EncodeToString(sum[:])), Nonce: nonce, Message: msg}
	}
	e0302 := `{"OrderNo":"A1","ShopNo":"NA0249_001","Status":"F","Description":"E0302 – 訂單編號重複"}`
	r := runInProcess(nil, envelopeJSON(t, seal(e0302, "Amount=0&Description=E0302 – 訂單編號重複&OrderNo=A1&ShopNo=NA0249_001&Status=F")), "decode")
	wantCode(t, r, 0)
	samePlaintext(t, r.stdout, e0302)

	dup := `{"Status":"S","Description":"S0000 – 處理成功","status":"F"}`
	r = runInProcess(nil, envelopeJSON(t, seal(dup, "Description=S0000 – 處理成功&Status=S&status=F")), "decode")
	wantCode(t, r, 4)
	if r.stdout != "" || !strings.Contains(r.stderr, `fields "Status" and "status" differ only in case`) {
		t.Errorf("stdout %q, stderr:\n%s", r.stdout, r.stderr)
	}
}
