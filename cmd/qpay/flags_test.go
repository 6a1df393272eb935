package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	want := qpay(t, nil, "", "version")
	wantCode(t, want, 0)
	r := qpay(t, nil, "", "--version")
	wantCode(t, r, 0)
	if r.stdout != want.stdout || !strings.HasPrefix(r.stdout, "qpay ") || r.stderr != "" {
		t.Errorf("--version printed %q, version %q", r.stdout, want.stdout)
	}
}

// -v logs every attempt and retry through the SDK's logger, on stderr,
// and never a secret.
func TestVerboseLogsAttemptsAndRetries(t *testing.T) {
	t.Parallel()
	const keyID = "5c8a3f51-0bd4-4e9e-a0a6-3c7f3d1f9e21"
	srv := qpaytest.NewServer(qpaytest.WithDemoData(), qpaytest.WithKeyID(keyID))
	defer srv.Close()
	srv.InjectFault(qpaytest.Fault{Service: "OrderQuery", Status: 503}) // once: the retry succeeds
	env := serverEnv(srv)
	env["QPAY_KEY_ID"] = keyID
	r := qpay(t, env, "", "-v", "query", "--order-no", qpaytest.SeedOrderNo, "-o", "json")
	wantCode(t, r, 0)
	for _, want := range []string{
		`msg="qpay config" shop_no=NA0249_001`, "QPAY_HASH_A1=\"from QPAY_HASH_A1\"",
		`msg="qpay call" service=OrderQuery attempt=1`, "HTTP 503",
		`msg="qpay retry" service=OrderQuery attempt=1`,
		`msg="qpay call" service=OrderQuery attempt=2`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	hashID, _ := srv.Keys().HashID()
	for _, secret := range []string{keyID, hashID, srv.Keys().A1, srv.Keys().A2, srv.Keys().B1, srv.Keys().B2} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("-v logged a secret:\n%s", r.stderr)
		}
	}
	// Without -v: silent.
	srv.InjectFault(qpaytest.Fault{Service: "OrderQuery", Status: 503})
	r = qpay(t, env, "", "query", "--order-no", qpaytest.SeedOrderNo)
	wantCode(t, r, 0)
	if r.stderr != "" {
		t.Errorf("stderr without -v: %q", r.stderr)
	}
}

// --timeout bounds the whole command, retries included.
func TestTimeout(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	srv.InjectFault(qpaytest.Fault{Service: "OrderQuery", Delay: time.Minute, Times: -1})
	r := qpay(t, serverEnv(srv), "", "--timeout", "200ms", "query", "--order-no", qpaytest.SeedOrderNo)
	wantCode(t, r, 3)
	if !strings.Contains(r.stderr, "--timeout 200ms ran out") || !strings.Contains(r.stderr, "deadline exceeded") {
		t.Errorf("stderr: %s", r.stderr)
	}
	r = runInProcess(serverEnv(srv), "", "--timeout", "-1s", "query", "--order-no", "X")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "--timeout must be 0 (none) or more") {
		t.Errorf("negative timeout: %s", r.stderr)
	}
	// A timeout that does not run out changes nothing.
	srv.ClearFaults()
	wantCode(t, qpay(t, serverEnv(srv), "", "--timeout", "1m", "query", "--order-no", qpaytest.SeedOrderNo), 0)
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{"bash": "__start_qpay", "zsh": "#compdef qpay", "fish": "complete -c qpay", "powershell": "Register-ArgumentCompleter"} {
		r := runInProcess(nil, "", "completion", shell)
		wantCode(t, r, 0)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
	for args, want := range map[string]string{"tcsh": `unknown shell "tcsh": choose bash, zsh, fish or powershell`,
		"": "completion needs a shell", "bash zsh": "unknown shell"} {
		r := runInProcess(nil, "", append([]string{"completion"}, strings.Fields(args)...)...)
		wantCode(t, r, 2)
		if !strings.Contains(r.stderr, want) || r.stdout != "" {
			t.Errorf("completion %s: stdout %q stderr %q", args, r.stdout, r.stderr)
		}
	}
	// Values of -o complete.
	r := runInProcess(nil, "", "__complete", "query", "-o", "")
	wantCode(t, r, 0)
	for _, f := range []string{"table\t", "wide\t", "json\t", "jsonl\t", "csv\t", ":4"} {
		if !strings.Contains(r.stdout, f) {
			t.Errorf("-o completion lacks %q:\n%s", f, r.stdout)
		}
	}
}

// An order asked for by --order-no that the bank lacks exits 5.
func TestMissingOrderExitsNonZero(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	env := serverEnv(srv)
	r := qpay(t, env, "", "query", "--order-no", "NO-SUCH-ORDER")
	wantCode(t, r, 5)
	if !strings.Contains(r.stderr, "the bank has no order NO-SUCH-ORDER") || !strings.Contains(r.stdout, "No orders match.") {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = qpay(t, env, "", "query", "--order-no", "NO-SUCH-ORDER", "-o", "json")
	wantCode(t, r, 5)
	if !strings.Contains(r.stdout, `"count": 0`) {
		t.Errorf("json: %s", r.stdout)
	}
	// Found by the bank but filtered out by another condition.
	r = qpay(t, env, "", "query", "--order-no", qpaytest.SeedOrderNo, "--pay-type", "C")
	wantCode(t, r, 5)
	if !strings.Contains(r.stderr, "does not match the other conditions") {
		t.Errorf("filtered: %s", r.stderr)
	}
	// A range with no orders is no error.
	wantCode(t, qpay(t, env, "", "query", "--from", "2030-01-01", "--to", "2030-01-02"), 0)
	// Demo mode too.
	wantCode(t, qpay(t, nil, "", "query", "--order-no", "NO-SUCH-ORDER"), 5)
}

// Errors name the flag, variable or profile key that gave a value.
func TestKeyErrorsNameTheirSource(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	env := serverEnv(srv)
	r := runInProcess(env, "", "query", "--order-no", "X", "--hash-a1", "XYZ")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "qpay: --hash-a1 must be 16 hex digits") || strings.Contains(r.stderr, "QPAY_HASH_A1 must") {
		t.Errorf("query with --hash-a1: %s", r.stderr)
	}
	r = runInProcess(env, envelopeJSON(t, loadVectors(t).SeedReply.Envelope), "decode", "--hash-b2", "not-hex-not-hex!")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "qpay: --hash-b2 must contain only hex digits") {
		t.Errorf("decode with --hash-b2: %s", r.stderr)
	}
	r = runInProcess(env, "", "query", "--order-no", "X", "--shop-no", "NA 1")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "qpay: --shop-no contains spaces") {
		t.Errorf("--shop-no: %s", r.stderr)
	}
	r = runInProcess(env, "", "query", "--order-no", "X", "--sandbox", "--base-url", srv.URL())
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "both the sandbox (--sandbox) and a base URL (--base-url) are set") {
		t.Errorf("--sandbox: %s", r.stderr)
	}
	both := serverEnv(srv)
	both["QPAY_SANDBOX"] = "1"
	r = runInProcess(both, "", "query", "--order-no", "X")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "both the sandbox (QPAY_SANDBOX) and a base URL (QPAY_BASE_URL) are set") {
		t.Errorf("QPAY_SANDBOX: %s", r.stderr)
	}
	// The keys' source in decode's summary follows the flags too.
	k := srv.Keys()
	r = runInProcess(nil, envelopeJSON(t, loadVectors(t).SeedReply.Envelope), "decode",
		"--hash-a1", k.A1, "--hash-a2", k.A2, "--hash-b1", k.B1, "--hash-b2", k.B2)
	wantCode(t, r, 0)
	if !strings.Contains(r.stderr, "Sign verified with the keys from --hash-a1 … --hash-b2") {
		t.Errorf("decode summary: %s", r.stderr)
	}
	if st := srv.Stats(); st.NoncesIssued != 0 {
		t.Errorf("bad credentials sent %d requests", st.NoncesIssued)
	}
}

// decode names the file it read, not stdin.
func TestDecodeNamesItsInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.json": "", "garbage.json": `{"Version":`, "array.json": `[1]`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"empty.json": "empty.json is empty", "garbage.json": "garbage.json is not valid JSON",
		"array.json": "array.json is JSON but not an object"} {
		r := runInProcess(nil, "", "decode", filepath.Join(dir, name))
		wantCode(t, r, 2)
		if !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "stdin") {
			t.Errorf("decode %s: %s", name, r.stderr)
		}
	}
	r := runInProcess(nil, `{"Version":`, "decode", "-")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "stdin is not valid JSON") {
		t.Errorf("decode -: %s", r.stderr)
	}
}

// The meaning printed for a code is the SDK's one table (sinopac.Code),
// and every hint belongs to a code the table explains.
func TestCodeMeaningsComeFromTheSDK(t *testing.T) {
	t.Parallel()
	for _, c := range sinopac.Codes() {
		msg := explainAPIError(&sinopac.APIError{Service: "OrderQuery", Status: "F", Code: c, Message: c.Text()})
		if !strings.Contains(msg, string(c)+" "+c.Text()) || !strings.Contains(msg, "\n  meaning: "+c.Meaning()) {
			t.Errorf("%s: %q", c, msg)
		}
	}
	for c, hint := range codeHints {
		if c.Meaning() == "" {
			t.Errorf("hint for %s, a code the table does not explain", c)
		}
		if !strings.Contains(codeNotes(c), "\n  hint: "+hint) {
			t.Errorf("%s: hint missing from %q", c, codeNotes(c))
		}
	}

	// E0401 through the binary: the bank's text, the table's meaning and a
	// hint that agrees with it.
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	r := qpay(t, serverEnv(srv), "", "maintain", "refund", "--order-no", "QP202610010001", "--amount", "99,999")
	wantCode(t, r, 1)
	for _, want := range []string{"E0401 金額錯誤", "meaning: " + sinopac.CodeAmount.Meaning(), "hint: check --amount"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("E0401 stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}
