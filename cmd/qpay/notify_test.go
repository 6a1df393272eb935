package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// endpoint is a merchant's BackendURL answering as told; it records the
// notifications it got.
type endpoint struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	ctypes []string
}

func newEndpoint(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *endpoint {
	t.Helper()
	e := &endpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.bodies = append(e.bodies, string(b))
		e.ctypes = append(e.ctypes, r.Header.Get("Content-Type"))
		e.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(e.Close)
	return e
}

func answers(status int, ctype, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		if status == http.StatusFound {
			w.Header().Set("Location", "https://shop.example/login")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func runNotifyJSON(t *testing.T, env map[string]string, args ...string) (result, notifyView) {
	t.Helper()
	r := runInProcess(env, "", append([]string{"notify", "-o", "json"}, args...)...)
	var v notifyView
	if r.code != exitUsage {
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("notify -o json: %v\n%s\n%s", err, r.stdout, r.stderr)
		}
	}
	return r, v
}

// The port of a test server's address, for --resolve.
func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func problemCodes(v notifyView) []string {
	var out []string
	for _, p := range v.Problems {
		out = append(out, p.Code)
	}
	return out
}

// qpay notify tells each classic failure apart: a correct endpoint, a
// redirect, an HTML page, a CSRF refusal, {"Status":"F"}, a timeout, a
// port the bank does not call, a local address.
func TestNotifyReportsEachFailure(t *testing.T) {
	t.Parallel()
	blocked := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	tests := []struct {
		name     string
		handler  func(http.ResponseWriter, *http.Request)
		to       string // with HOST standing for the test server's address
		extra    []string
		code     int
		received bool
		problems []string
	}{
		{"correct endpoint", answers(200, "application/json", `{"Status":"S"}`), "http://shop.example/qpay/notify", nil, exitOK, true, nil},
		{"302 redirect", answers(http.StatusFound, "", ""), "http://shop.example/qpay/notify", nil, exitFailed, false, []string{"redirect"}},
		{"HTML 200", answers(200, "text/html; charset=utf-8", "<!DOCTYPE html><html><body>Welcome</body></html>"), "http://shop.example/qpay/notify", nil, exitFailed, false, []string{"html"}},
		{"CSRF page", answers(419, "text/html", "<html><title>Page Expired</title></html>"), "http://shop.example/qpay/notify", nil, exitFailed, false, []string{"csrf"}},
		{`{"Status":"F"}`, answers(200, "application/json", `{"Status":"F"}`), "http://shop.example/qpay/notify", nil, exitFailed, false, []string{"status_f"}},
		{"not exactly S", answers(200, "application/json", `{"status":"S"}`), "http://shop.example/qpay/notify", nil, exitFailed, false, []string{"not_s"}},
		{"timeout", blocked, "http://shop.example/qpay/notify", []string{"--bank-timeout", "200ms"}, exitNetwork, false, []string{"timeout"}},
		{"non-standard port", answers(200, "application/json", `{"Status":"S"}`), "http://shop.example:8080/qpay/notify", nil, exitFailed, true, []string{"port"}},
		{"localhost", answers(200, "application/json", `{"Status":"S"}`), "http://HOST/qpay/notify", nil, exitFailed, true, []string{"port", "local_host"}},
		{"localhost, handler only", answers(200, "application/json", `{"Status":"S"}`), "http://HOST/qpay/notify", []string{"--handler-only"}, exitOK, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEndpoint(t, tt.handler)
			addr := hostPort(t, e.URL)
			to := strings.ReplaceAll(tt.to, "HOST", addr)
			args := []string{"--to", to, "--token", "PT-TEST-1"}
			if u, _ := url.Parse(to); u.Hostname() == "shop.example" {
				port := u.Port()
				if port == "" {
					port = "80"
				}
				args = append(args, "--resolve", "shop.example:"+port+":"+addr)
			}
			r, v := runNotifyJSON(t, nil, append(args, tt.extra...)...)
			if r.code != tt.code || v.Received != tt.received || strings.Join(problemCodes(v), ",") != strings.Join(tt.problems, ",") {
				t.Fatalf("exit %d received %v problems %v, want %d %v %v\n%s\n%s", r.code, v.Received, problemCodes(v), tt.code, tt.received, tt.problems, r.stdout, r.stderr)
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if len(e.bodies) != 1 || e.bodies[0] != `{"ShopNo":"`+qpaytest.DemoShopNo+`","PayToken":"PT-TEST-1"}` || e.ctypes[0] != "application/json" {
				t.Fatalf("the endpoint got %q (%q): want the bank's one JSON POST", e.bodies, e.ctypes)
			}
		})
	}
}

// The table says it in words.
func TestNotifyTable(t *testing.T) {
	t.Parallel()
	e := newEndpoint(t, answers(http.StatusFound, "", ""))
	r := runInProcess(nil, "", "notify", "--to", "http://shop.example:8443/cb", "--resolve", "shop.example:8443:"+hostPort(t, e.URL), "--token", "PT1")
	wantCode(t, r, exitFailed)
	for _, want := range []string{"HTTP 302 Found → https://shop.example/login", "NOT RECEIVED", "✗ redirect", "does not follow redirects",
		"✗ port", "port 8443", "the bank waits 10000 ms"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "would not count this notification as received") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

// Against a running simulator the PayToken comes from it, so the shop's
// handler (here the SDK's BackendHandler) verifies it for real: an unpaid
// order's result is not final (the handler answers {"Status":"F"}, the
// bank would resend); after 'qpay trigger pay' it is received.
func TestNotifyWithSimulatorTokens(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithAdmin())
	t.Cleanup(srv.Close)
	c, err := srv.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "N1", Amount: sinopac.TWD(100), PayType: sinopac.PayTypeCard,
		CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "x"}); err != nil {
		t.Fatal(err)
	}
	shop := httptest.NewServer(c.BackendHandler(func(context.Context, *sinopac.ResponseOrderPayQuery) error { return nil }))
	t.Cleanup(shop.Close)
	env := simulatorEnv(srv)

	r, v := runNotifyJSON(t, env, "--to", shop.URL, "--order-no", "N1", "--handler-only")
	if r.code != exitFailed || v.Received || strings.Join(problemCodes(v), ",") != "status_f" || v.HTTPStatus != http.StatusAccepted || v.ShopNo != srv.ShopNo() {
		t.Fatalf("unpaid: exit %d %+v\n%s", r.code, v, r.stderr)
	}
	wantCode(t, runInProcess(env, "", "trigger", "pay", "--order-no", "N1"), exitOK)
	r, v = runNotifyJSON(t, env, "--to", shop.URL, "--order-no", "N1", "--handler-only")
	if r.code != exitOK || !v.Received || v.PayToken == "" {
		t.Fatalf("paid: exit %d %+v\n%s", r.code, v, r.stderr)
	}
	if r := runInProcess(env, "", "notify", "--to", shop.URL, "--order-no", "NOPE"); r.code != exitMissing {
		t.Fatalf("an unknown order: exit %d %s", r.code, r.stderr)
	}
	// Without a simulator there is no token to be had.
	r = runInProcess(nil, "", "notify", "--to", shop.URL, "--order-no", "N1")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--token is needed") {
		t.Fatalf("demo mode without --token: exit %d %s", r.code, r.stderr)
	}
}

func TestNotifyUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"notify", "--order-no", "X"},
		{"notify", "--to", "ftp://x/y", "--token", "T"},
		{"notify", "--to", "http://x/y"},
		{"notify", "--to", "http://x/y", "--token", "T", "--resolve", "x:80"},
		{"notify", "--to", "http://x/y", "--token", "T", "--bank-timeout", "0s"},
	} {
		if r := runInProcess(nil, "", args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}

// The verdict's rules, with the elapsed time given (a slow answer is
// warned of, not refused).
func TestJudgeNotification(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://shop.example/notify")
	v := judgeNotification(u, false, 10*time.Second, notifyAnswer{status: 200, body: []byte("{\"Status\":\"S\"}\n"), elapsed: 7 * time.Second})
	if !v.Received || len(v.Problems) != 0 || len(v.Warnings) != 1 || v.Warnings[0].Code != "slow" {
		t.Fatalf("slow S: %+v", v)
	}
	for body, code := range map[string]string{`{"Status":"S","Message":"ok"}`: "not_s", `OK`: "not_s", ``: "not_s",
		`{"error":"CSRF token mismatch."}`: "csrf", `<p>hi</p>`: "html"} {
		v := judgeNotification(u, false, 10*time.Second, notifyAnswer{status: 200, body: []byte(body)})
		if v.Received || len(v.Problems) != 1 || v.Problems[0].Code != code {
			t.Errorf("%q: %+v, want %s", body, v.Problems, code)
		}
	}
	if v := judgeNotification(u, false, time.Second, notifyAnswer{status: 500, body: []byte(`{"Status":"S"}`)}); v.Received || v.Problems[0].Code != "http_status" {
		t.Errorf("S with HTTP 500: %+v", v)
	}
	for _, h := range []string{"localhost", "10.1.2.3", "192.168.0.9", "[::1]", "printer.local"} {
		u, _ := url.Parse("http://" + h + "/n")
		if v := judgeNotification(u, false, time.Second, notifyAnswer{status: 200, body: []byte(`{"Status":"S"}`)}); len(v.Problems) != 1 || v.Problems[0].Code != "local_host" {
			t.Errorf("%s: %+v", h, v.Problems)
		}
	}
}
