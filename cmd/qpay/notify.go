package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/spf13/cobra"
)

// bankTimeout is how long the bank waits for the merchant's answer: the
// bank does not publish it; qpaytest's notifier waits 10 s, and so does
// this check, so that a handler that passes it passes the simulator too.
const bankTimeout = qpaytest.NotifyTimeout

type notifyFlags struct {
	to, orderNo, token, resolve string
	timeout                     time.Duration
	handlerOnly                 bool
}

func (a *app) notifyCommand() *cobra.Command {
	f := notifyFlags{timeout: bankTimeout}
	cmd := &cobra.Command{
		Use:   "notify --to URL --order-no NO",
		Short: "Post a payment notification to your BackendURL as the bank does, and say whether the bank would count it as received",
		Long: `Post the bank's BackendURL notification to --to exactly as the bank does — a JSON
POST {"ShopNo":…,"PayToken":…}, no redirect followed, an answer awaited for
10 s — and report whether the bank would count it as received: only HTTP 200
with the body exactly {"Status":"S"} is; anything else is resent every 10
minutes, 5 times, and then the payment is a lost order unless you query it.

It flags the classic reasons notifications never arrive:
  redirect     a 301/302/307/308 (http→https, a trailing slash, a login page):
               the bank does not follow redirects
  html         an HTML page instead of the JSON answer (a framework's error page)
  csrf         a CSRF check refused the POST (HTTP 419, "CSRF token mismatch"):
               exempt the BackendURL route from CSRF protection
  status_f     {"Status":"F"}: your handler refused it (the SDK's BackendHandler
               answers so for a result that is not final yet)
  not_s        another body, e.g. {"status":"S"}, "OK", extra fields
  http_status  a status other than 200
  timeout      no answer within 10 s (--bank-timeout): answer first, work later
  unreachable  no connection at all
  port         a port other than 80 or 443: the bank calls no other
  local_host   localhost or a private address: the bank cannot reach it
and warns of slow answers (over half the timeout).

The PayToken: --token, or, when QPAY_BASE_URL points at a running
'qpay simulator', a new one the simulator makes for --order-no, so that your
handler's OrderPayQuery gets a real answer from the simulator. --resolve
HOST:PORT:ADDR sends to ADDR instead of resolving HOST (like curl's), to try
the production URL against a local server; --handler-only skips the port and
host checks, for a handler in development on localhost:3000.

Exit codes: 0 received (and reachable by the bank), 1 not received or not
reachable, 2 usage, 3 no answer (timeout, refused), 5 no such order at the
simulator.`,
		Example: `  qpay notify --to https://shop.example/qpay/notify --order-no A1001
  qpay notify --to http://localhost:3000/qpay/notify --order-no A1001 --handler-only
  qpay notify --to https://shop.example/qpay/notify --resolve shop.example:443:127.0.0.1:8443 --token PT…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runNotify(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.to, "to", "", "the BackendURL to notify (required)")
	fl.StringVar(&f.orderNo, "order-no", "", "the order whose payment to announce (a running simulator makes its PayToken)")
	fl.StringVar(&f.token, "token", "", "the PayToken to send (default: a new one from the simulator for --order-no)")
	fl.StringVar(&f.resolve, "resolve", "", "HOST:PORT:ADDR: connect to ADDR for HOST:PORT (like curl --resolve)")
	fl.DurationVar(&f.timeout, "bank-timeout", bankTimeout, "how long to wait for the answer (the bank: 10 s)")
	fl.BoolVar(&f.handlerOnly, "handler-only", false, "check the handler's answer only, not whether the bank can reach the URL (port, local address)")
	return cmd
}

func (a *app) runNotify(ctx context.Context, f notifyFlags) error {
	u, err := url.Parse(strings.TrimSpace(f.to))
	switch {
	case f.to == "":
		return usagef("--to is required: the BackendURL to notify")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return usagef("--to %q is not an http or https URL", f.to)
	case f.timeout <= 0:
		return usagef("--bank-timeout must be above 0")
	case f.token == "" && strings.TrimSpace(f.orderNo) == "":
		return usagef("give --order-no (a running simulator makes the PayToken) or --token")
	}
	dial, err := resolveDialer(f.resolve)
	if err != nil {
		return err
	}
	r := a.credentials()
	if r.err != nil {
		return r.err
	}
	shopNo := qpaytest.DemoShopNo
	if r.cfg != nil {
		shopNo = r.cfg.ShopNo
	}
	token := strings.TrimSpace(f.token)
	if token == "" {
		sim, err := a.simulator(ctx)
		if err != nil {
			var ue *usageError
			if errors.As(err, &ue) {
				return usagef("--token is needed: %s (only a qpay simulator hands out PayTokens)", ue.msg)
			}
			return err
		}
		ans, err := sim.post(ctx, "token", map[string]string{"OrderNo": strings.TrimSpace(f.orderNo)})
		if err != nil {
			return err
		}
		token = ans.PayToken
	}

	body, _ := json.Marshal(struct{ ShopNo, PayToken string }{shopNo, token})
	tr := &http.Transport{Proxy: nil, DialContext: dial, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: f.timeout,
		// The bank posts to the URL it was given and nowhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return usagef("--to: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	ans := notifyAnswer{elapsed: time.Since(start)}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ans.err = err
	} else {
		ans.status, ans.location, ans.contentType = resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Type")
		ans.body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
	}
	v := judgeNotification(u, f.handlerOnly, f.timeout, ans)
	v.ShopNo, v.PayToken, v.Sent = shopNo, token, string(body)
	if err := a.emit(v); err != nil {
		return err
	}
	switch {
	case ans.err != nil:
		return &unreachableError{fmt.Sprintf("no answer from %s: %s", u.Redacted(), v.Problems[0].Text)}
	case !v.Received:
		return errors.New("the bank would not count this notification as received")
	case len(v.Problems) > 0:
		return errors.New("the handler answers correctly, but the bank cannot reach this URL")
	}
	return nil
}

// resolveDialer is a dialer that sends HOST:PORT to ADDR (--resolve).
func resolveDialer(spec string) (func(ctx context.Context, network, addr string) (net.Conn, error), error) {
	var d net.Dialer
	if spec == "" {
		return d.DialContext, nil
	}
	host, rest, ok1 := strings.Cut(spec, ":")
	port, addr, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || host == "" || addr == "" {
		return nil, usagef("--resolve %q: write HOST:PORT:ADDR, e.g. shop.example:443:127.0.0.1:8443", spec)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, usagef("--resolve %q: %q is not a port", spec, port)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, port)
	}
	from := net.JoinHostPort(host, port)
	return func(ctx context.Context, network, a string) (net.Conn, error) {
		if strings.EqualFold(a, from) {
			a = addr
		}
		return d.DialContext(ctx, network, a)
	}, nil
}

// notifyAnswer is what the merchant's endpoint did with the notification.
type notifyAnswer struct {
	status                int
	location, contentType string
	body                  []byte
	elapsed               time.Duration
	err                   error // no answer
}

// notifyProblem is one reason the notification would not be received.
type notifyProblem struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// notifyView is the report of qpay notify.
type notifyView struct {
	URL         string          `json:"url"`
	ShopNo      string          `json:"shop_no"`
	PayToken    string          `json:"pay_token"`
	Sent        string          `json:"sent"`
	HTTPStatus  int             `json:"http_status"` // 0: no answer
	Location    string          `json:"location,omitempty"`
	ContentType string          `json:"content_type,omitempty"`
	Body        string          `json:"body"`
	ElapsedMS   int64           `json:"elapsed_ms"`
	TimeoutMS   int64           `json:"timeout_ms"`
	Received    bool            `json:"received"` // the bank counts the answer as received
	Problems    []notifyProblem `json:"problems"` // why it is not received, or cannot reach the URL
	Warnings    []notifyProblem `json:"warnings"`
}

// judgeNotification says what the bank would make of ans, and what in u
// keeps the bank from calling it at all (unless handlerOnly).
func judgeNotification(u *url.URL, handlerOnly bool, timeout time.Duration, ans notifyAnswer) *notifyView {
	v := &notifyView{URL: u.Redacted(), HTTPStatus: ans.status, Location: ans.location, ContentType: ans.contentType,
		Body: excerpt(ans.body), ElapsedMS: ans.elapsed.Milliseconds(), TimeoutMS: timeout.Milliseconds(),
		Problems: []notifyProblem{}, Warnings: []notifyProblem{}}
	add := func(code, format string, args ...any) {
		v.Problems = append(v.Problems, notifyProblem{code, fmt.Sprintf(format, args...)})
	}
	body := bytes.TrimSpace(ans.body)
	mt, _, _ := mime.ParseMediaType(ans.contentType)
	isHTML := mt == "text/html" || mt == "application/xhtml+xml" || bytes.HasPrefix(body, []byte("<"))
	lower := strings.ToLower(string(body))
	var js struct{ Status *string }
	isJSON := json.Unmarshal(body, &js) == nil
	switch {
	case ans.err != nil:
		var ne net.Error
		if errors.As(ans.err, &ne) && ne.Timeout() {
			add("timeout", "no answer within %s: the bank gives up and resends in 10 minutes. Answer {\"Status\":\"S\"} at once and do the work afterwards", timeout)
		} else {
			add("unreachable", "no connection: %v", unwrapURLError(ans.err))
		}
	case qpaytest.Acknowledges(ans.status, ans.body):
		v.Received = true
	case ans.status >= 300 && ans.status < 400:
		where := ans.location
		if where == "" {
			where = "nowhere (no Location)"
		}
		add("redirect", "HTTP %d to %s: the bank does not follow redirects. Give the bank the final URL (https, exact path, no login)", ans.status, where)
	case ans.status == 419 || strings.Contains(lower, "csrf") || strings.Contains(lower, "xsrf") || strings.Contains(lower, "page expired"):
		add("csrf", "HTTP %d, a CSRF check refused the POST: exempt the BackendURL route from CSRF protection (the bank's POST has no token; it is verified by OrderPayQuery instead)", ans.status)
	case isHTML:
		add("html", "HTTP %d with an HTML page, not {\"Status\":\"S\"}: an error, login or framework page answered instead of your handler", ans.status)
	case isJSON && js.Status != nil && *js.Status == "F":
		add("status_f", "HTTP %d {\"Status\":\"F\"}: your handler refused the notification; the bank resends it every 10 minutes, 5 times", ans.status)
	case ans.status != http.StatusOK:
		add("http_status", "HTTP %d: the bank takes only HTTP 200 with {\"Status\":\"S\"}", ans.status)
	default:
		add("not_s", "HTTP 200 with %s: the bank takes only the body {\"Status\":\"S\"}, exactly (this case, no other fields)", quoteBody(body))
	}
	if ans.err == nil && ans.elapsed > timeout/2 {
		v.Warnings = append(v.Warnings, notifyProblem{"slow", fmt.Sprintf("the answer took %s, over half the bank's %s: answer first, work later",
			ans.elapsed.Round(time.Millisecond), timeout)})
	}
	if !handlerOnly {
		if p := u.Port(); p != "" && p != "80" && p != "443" {
			add("port", "port %s: the bank calls only ports 80 and 443 (put the handler behind a proxy on 443)", p)
		}
		if localHost(u.Hostname()) {
			add("local_host", "%s is a local or private address: the bank cannot reach it (use a public host name)", u.Hostname())
		}
	}
	return v
}

// unwrapURLError drops the "Post URL:" prefix the client adds.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// localHost reports loopback, private and link-local addresses and the
// names of this machine.
func localHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || strings.HasSuffix(h, ".local") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified())
}

func excerpt(b []byte) string {
	s := strings.ToValidUTF8(string(bytes.TrimSpace(b)), "?")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// oneLine is s with its white space collapsed, at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

func quoteBody(b []byte) string {
	if len(b) == 0 {
		return "an empty body"
	}
	return strconv.Quote(excerpt(b))
}

func (v *notifyView) table(w io.Writer, _ tableOpts) {
	answer := "none"
	if v.HTTPStatus != 0 {
		answer = fmt.Sprintf("HTTP %d %s", v.HTTPStatus, http.StatusText(v.HTTPStatus))
		if v.Location != "" {
			answer += " → " + v.Location
		}
		if v.Body != "" {
			answer += "  " + strconv.Quote(oneLine(v.Body, 80))
		}
	}
	verdict := "RECEIVED: the bank stops resending"
	if !v.Received {
		verdict = "NOT RECEIVED: the bank resends every 10 minutes, 5 times, then gives up"
	} else if len(v.Problems) > 0 {
		verdict = "the answer is right, but the bank cannot call this URL"
	}
	keyValues(w, kv("POST", v.URL), kv("Body", v.Sent), kv("Answer", answer),
		kv("Time", fmt.Sprintf("%d ms (the bank waits %d ms)", v.ElapsedMS, v.TimeoutMS)), kv("Verdict", verdict))
	for _, p := range v.Problems {
		fmt.Fprintf(w, "  ✗ %s\t%s\n", p.Code, p.Text)
	}
	for _, p := range v.Warnings {
		fmt.Fprintf(w, "  ! %s\t%s\n", p.Code, p.Text)
	}
}

func (v *notifyView) csv() ([]string, [][]string) {
	codes := make([]string, 0, len(v.Problems)+len(v.Warnings))
	for _, p := range append(v.Problems, v.Warnings...) {
		codes = append(codes, p.Code)
	}
	return []string{"url", "http_status", "elapsed_ms", "received", "problems"},
		[][]string{{v.URL, strconv.Itoa(v.HTTPStatus), strconv.FormatInt(v.ElapsedMS, 10), yesNo(v.Received), strings.Join(codes, " ")}}
}
