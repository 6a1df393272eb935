package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// startSimulator runs "qpay simulator" as a user would and returns what it
// printed and a func that interrupts it and returns its exit code and stderr.
func startSimulator(t *testing.T, args ...string) (*bufio.Reader, func(syscall.Signal) (int, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	cmd := exec.CommandContext(ctx, qpayBin, append([]string{"simulator", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func(sig syscall.Signal) (int, string) {
		stopped = true
		defer cancel()
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, out)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), stderr.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, stderr.String()
	}
	t.Cleanup(func() {
		if !stopped {
			stop(syscall.SIGKILL)
		}
	})
	return bufio.NewReader(out), stop
}

func TestSimulatorServesSDKAndOtherClients(t *testing.T) {
	t.Parallel()
	out, stop := startSimulator(t, "-o", "json")
	var info simulatorView
	if err := json.NewDecoder(out).Decode(&info); err != nil {
		t.Fatalf("simulator did not print its JSON document: %v", err)
	}
	if info.ShopNo != qpaytest.DemoShopNo || info.HashKeys["A1"] != qpaytest.DemoKeys.A1 || info.HashKeys["B2"] != qpaytest.DemoKeys.B2 ||
		!strings.HasPrefix(info.BaseURL, "http://127.0.0.1:") || !strings.HasSuffix(info.BaseURL, qpaytest.BasePath) {
		t.Fatalf("unexpected simulator info %+v", info)
	}

	// The SDK, in this process.
	c, err := sinopac.NewClient(info.ShopNo, qpaytest.DemoKeys, sinopac.WithBaseURL(info.BaseURL))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.OrderList) != 1 || r.OrderList[0].Amount != sinopac.TWD(799) {
		t.Fatalf("seed order via the SDK: %+v", r.OrderList)
	}

	// Plain HTTP: the nonce endpoint is the bank's, not an SDK detail.
	resp, err := http.Post(info.BaseURL+"/Nonce", "application/json", strings.NewReader(`{"ShopNo":"`+info.ShopNo+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var nonce struct{ Nonce string }
	err = json.NewDecoder(resp.Body).Decode(&nonce)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || nonce.Nonce == "" {
		t.Fatalf("POST /Nonce: %d %v %+v", resp.StatusCode, err, nonce)
	}

	// Another qpay process, configured by the printed variables.
	q := qpay(t, info.Env, "", "query", "--order-no", qpaytest.SeedOrderNo, "-o", "csv")
	wantCode(t, q, 0)
	if !strings.Contains(q.stdout, "A202110507397,NA024900000369,A,79900,799.00,1A400") {
		t.Errorf("qpay against the simulator:\n%s", q.stdout)
	}

	code, stderr := stop(syscall.SIGINT)
	if code != 0 || !strings.Contains(stderr, "simulator stopped") {
		t.Errorf("after SIGINT: exit %d, stderr %q", code, stderr)
	}
}

func TestSimulatorTableAndSIGTERM(t *testing.T) {
	t.Parallel()
	out, stop := startSimulator(t, "--key-id", "k-123")
	var text strings.Builder
	for !strings.Contains(text.String(), "Serving until interrupted") {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the simulator's banner: %v (so far %q)", err, text.String())
		}
		text.WriteString(line)
	}
	env := map[string]string{}
	for _, line := range strings.Split(text.String(), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "="); ok && strings.HasPrefix(line, "  export QPAY_") {
			env[k] = v
		}
	}
	for _, want := range []string{"QPAY_BASE_URL", "QPAY_SHOP_NO", "QPAY_HASH_A1", "QPAY_HASH_A2", "QPAY_HASH_B1", "QPAY_HASH_B2", "QPAY_KEY_ID"} {
		if env[want] == "" {
			t.Errorf("banner lacks export %s:\n%s", want, text.String())
		}
	}
	if !strings.Contains(text.String(), "Hash A1  86D50DEF3EB7400E") {
		t.Errorf("banner lacks the demo keys:\n%s", text.String())
	}
	// With the key ID exported, queries work; without, the gateway refuses (exit 3).
	wantCode(t, qpay(t, env, "", "query", "--order-no", qpaytest.SeedOrderNo), 0)
	delete(env, "QPAY_KEY_ID")
	r := qpay(t, env, "", "query", "--order-no", qpaytest.SeedOrderNo)
	wantCode(t, r, 3)
	if !strings.Contains(r.stderr, "HTTP 401") || !strings.Contains(r.stderr, "QPAY_KEY_ID") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if code, _ := stop(syscall.SIGTERM); code != 0 {
		t.Errorf("after SIGTERM: exit %d", code)
	}
}

func TestSimulatorAddressInUse(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer()
	defer srv.Close()
	addr := strings.TrimPrefix(strings.TrimSuffix(srv.URL(), qpaytest.BasePath), "http://")
	r := runInProcess(nil, "", "simulator", "--addr", addr)
	wantCode(t, r, 1)
	if !strings.Contains(r.stderr, "cannot start the simulator on "+addr) {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := qpay(t, nil, "", "version", "-o", "json")
	wantCode(t, r, 0)
	var v versionView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if v.Module != "github.com/funbiz-go/sinopac/cmd/qpay" || v.Version == "" || !strings.HasPrefix(v.GoVersion, "go1.") {
		t.Errorf("version %+v", v)
	}
	r = qpay(t, nil, "", "version")
	if !strings.HasPrefix(r.stdout, "qpay "+v.Version+" (github.com/funbiz-go/sinopac/cmd/qpay) "+v.GoVersion) {
		t.Errorf("version table: %q", r.stdout)
	}
}

// formValue is the value of the named input of an HTML page.
func formValue(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no input %s in:\n%s", name, page)
	}
	return html.UnescapeString(m[1])
}

func fetch(t *testing.T, method, target string, form url.Values) (int, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodGet {
		resp, err = http.Get(target)
	} else {
		resp, err = http.PostForm(target, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// qpay simulator serves the payment pages of the orders created through
// it, with forms a plain HTTP client can complete; demo PayTokens for
// pay-query, statements of the last 30 days for bill, and the admin
// endpoint for trigger.
func TestSimulatorPagesAndDevLoop(t *testing.T) {
	t.Parallel()
	out, stop := startSimulator(t, "-o", "json")
	var info simulatorView
	if err := json.NewDecoder(out).Decode(&info); err != nil {
		t.Fatalf("simulator did not print its JSON document: %v", err)
	}
	origin := strings.TrimSuffix(info.BaseURL, qpaytest.BasePath)
	if info.PagesURL != origin+qpaytest.PayPagePath || info.AdminURL != origin+qpaytest.AdminPath || len(info.PayTokens) == 0 || len(info.Waiting) == 0 {
		t.Fatalf("simulator info %+v", info)
	}

	c, err := sinopac.NewClient(info.ShopNo, qpaytest.DemoKeys, sinopac.WithBaseURL(info.BaseURL))
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "SIM-CARD-1", Amount: sinopac.TWD(990), PayType: sinopac.PayTypeCard,
		CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "x", ReturnURL: "https://shop.example/return"})
	if err != nil {
		t.Fatal(err)
	}
	st, page := fetch(t, http.MethodGet, created.CardParam.CardPayURL, nil)
	if st != 200 {
		t.Fatalf("card page: HTTP %d", st)
	}
	form := url.Values{"TD": {formValue(t, page, "TD")}, "TK": {formValue(t, page, "TK")}, "CSRFToken": {formValue(t, page, "CSRFToken")},
		"CardNo": {qpaytest.TestCardNo}, "ExpDate": {qpaytest.TestCardExp}, "CVV": {qpaytest.TestCardCVV}}
	st, page = fetch(t, http.MethodPost, origin+qpaytest.PayPagePath+"PayCard", form)
	if st != 200 {
		t.Fatalf("OTP page: HTTP %d\n%s", st, page)
	}
	form = url.Values{"TD": {formValue(t, page, "TD")}, "TK": {formValue(t, page, "TK")}, "CSRFToken": {formValue(t, page, "CSRFToken")}, "OTP": {qpaytest.TestOTP}}
	st, page = fetch(t, http.MethodPost, origin+qpaytest.PayPagePath+"PayOTP", form)
	if st != 200 || !strings.Contains(page, `action="https://shop.example/return"`) || formValue(t, page, "ShopNo") != info.ShopNo {
		t.Fatalf("result page: HTTP %d\n%s", st, page)
	}
	pq, err := c.QueryPayment(t.Context(), formValue(t, page, "PayToken"))
	if err != nil || !pq.Paid() || pq.TSResultContent.OrderNo != "SIM-CARD-1" {
		t.Fatalf("OrderPayQuery %+v %v", pq, err)
	}

	r := qpay(t, info.Env, "", "pay-query", "--token", info.PayTokens[0].PayToken)
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, info.PayTokens[0].OrderNo) {
		t.Errorf("pay-query of a demo token:\n%s", r.stdout)
	}
	r = qpay(t, info.Env, "", "bill")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "transactions") {
		t.Errorf("bill of yesterday:\n%s", r.stdout)
	}
	var waiting string
	for _, w := range info.Waiting {
		if w.PayType == "C" {
			waiting = w.OrderNo
		}
	}
	r = qpay(t, info.Env, "", "trigger", "pay", "--order-no", waiting)
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "1C400") {
		t.Errorf("trigger pay %s:\n%s", waiting, r.stdout)
	}
	if code, _ := stop(syscall.SIGTERM); code != 0 {
		t.Errorf("after SIGTERM: exit %d", code)
	}
}
