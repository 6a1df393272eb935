package sinopac

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// Base URLs of the bank's two environments (protocol §1).
const (
	ProductionURL = "https://api.sinopac.com/funBIZ/QPay.WebAPI/api"
	SandboxURL    = "https://apisbx.sinopac.com/funBIZ-Sbx/QPay.WebAPI/api"
)

// DefaultMaxReplyBytes bounds a reply body. A full 300-order OrderQuery
// reply is well under 2 MiB of hex.
const DefaultMaxReplyBytes = 8 << 20

// DefaultTimeout is the whole-request timeout of the http.Client the SDK
// builds when none is given with WithHTTPClient.
const DefaultTimeout = 30 * time.Second

// Client calls the QPay API for one shop. It is safe for concurrent use;
// several Clients (shops) may live in one process. Build it with NewClient.
type Client struct {
	shopNo   string
	cred     *credentials
	base     string
	hc       *http.Client
	log      *slog.Logger
	maxReply int64
	retry    RetryPolicy
	limiter  *rate.Limiter
	nonces   *noncePool
}

// credentials are the client's secrets, behind a pointer so that printing a
// Client (even with %#v) shows an address, and with redacting methods for
// tools that follow pointers.
type credentials struct {
	hashID string // AES key and sign salt
	keyID  string // X-KeyID header
}

func (*credentials) String() string             { return redacted }
func (*credentials) GoString() string           { return redacted }
func (*credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }
func (*credentials) LogValue() slog.Value       { return slog.StringValue(redacted) }

// Option configures a Client in NewClient. An Option fails for bad input.
type Option func(*Client) error

// NewClient returns a Client for shopNo with its hash keys. Malformed keys
// or options fail here, not on the first call. Without WithSandbox or
// WithBaseURL the client talks to production.
func NewClient(shopNo string, keys HashKeys, opts ...Option) (*Client, error) {
	if err := checkShopNo(shopNo); err != nil {
		return nil, err
	}
	hashID, err := keys.HashID()
	if err != nil {
		return nil, err
	}
	c := &Client{
		shopNo:   shopNo,
		cred:     &credentials{hashID: hashID},
		base:     ProductionURL,
		maxReply: DefaultMaxReplyBytes,
		retry:    DefaultRetryPolicy,
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.nonces != nil {
		c.nonces.fetch = c.fetchNonce
	}
	return c, nil
}

func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: DefaultTimeout, CheckRedirect: noRedirect}
}

// noRedirect: the gateway never redirects a valid call, and following one
// would re-post a signed request somewhere else.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// WithSandbox points the client at the bank's sandbox.
func WithSandbox() Option { return WithBaseURL(SandboxURL) }

// WithBaseURL points the client at another QPay endpoint (a simulator such
// as qpaytest, a proxy). The base is the part before /Nonce and /Order.
func WithBaseURL(base string) Option {
	return func(c *Client) error {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &ValidationError{Field: "BaseURL", Reason: "must be an absolute http(s) URL"}
		}
		c.base = strings.TrimRight(base, "/")
		return nil
	}
}

// WithKeyID sets the X-KeyID API key sent on every request. Whitespace
// around it is trimmed (a stray space has broken real integrations).
func WithKeyID(id string) Option {
	return func(c *Client) error {
		id = strings.TrimSpace(id)
		if id == "" || strings.ContainsAny(id, "\r\n") {
			return &ValidationError{Field: "X-KeyID", Reason: "must be a non-empty single-line value"}
		}
		c.cred.keyID = id
		return nil
	}
}

// WithHTTPClient uses hc for all requests. Its redirect policy is replaced
// by one that refuses redirects (on a copy; hc itself is not changed).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return &ValidationError{Field: "HTTPClient", Reason: "is nil"}
		}
		cp := *hc
		cp.CheckRedirect = noRedirect
		c.hc = &cp
		return nil
	}
}

// WithLogger logs each call (service, attempt, outcome, duration) at Debug
// and retries at Info. Bodies, keys, signatures and nonces are never logged.
// Without it the client is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		c.log = l
		return nil
	}
}

// WithMaxReplyBytes bounds reply bodies (DefaultMaxReplyBytes by default).
func WithMaxReplyBytes(n int64) Option {
	return func(c *Client) error {
		if n < 1024 {
			return &ValidationError{Field: "MaxReplyBytes", Reason: "must be at least 1024"}
		}
		c.maxReply = n
		return nil
	}
}

// WithRateLimit spaces requests (Nonce and Order alike) to at most perSecond
// on average with bursts of burst. The gateway answers 429 above about 5
// requests a second per shop.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *Client) error {
		if perSecond <= 0 || burst < 1 {
			return &ValidationError{Field: "RateLimit", Reason: "needs perSecond > 0 and burst >= 1"}
		}
		c.limiter = rate.NewLimiter(rate.Limit(perSecond), burst)
		return nil
	}
}

// ShopNo returns the shop the client signs for.
func (c *Client) ShopNo() string { return c.shopNo }

// BaseURL returns the endpoint base the client posts to.
func (c *Client) BaseURL() string { return c.base }

// Format prints the client with every fmt verb as its shop and endpoint
// only: the HashID and the X-KeyID it holds are secrets, and a client
// printed with %+v while debugging must not reveal them.
func (c *Client) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "sinopac.Client{ShopNo:%s BaseURL:%s}", c.shopNo, c.base)
}

// LogValue keeps the client's secrets out of slog output.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("shop_no", c.shopNo), slog.String("base_url", c.base))
}

// Call performs one APIService call through the full pipeline (nonce, seal,
// post, gateway check, open and verify, Status check) and returns the
// verified plaintext JSON of the reply. Typed methods such as QueryOrders
// are built on it; use it for services or fields the SDK does not model.
// payload must be a JSON object (a struct, map, or raw JSON bytes).
func (c *Client) Call(ctx context.Context, service string, payload any) ([]byte, error) {
	plain, _, err := c.call(ctx, lookupService(service), payload)
	return plain, err
}

// do calls service and decodes a successful reply into out.
func (c *Client) do(ctx context.Context, svc *service, payload, out any) error {
	plain, _, err := c.call(ctx, svc, payload)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(plain, out); err != nil {
		return &MessageError{Service: svc.name, Reason: "reply does not decode: " + scrubJSONError(err)}
	}
	return nil
}

// scrubJSONError keeps the position and type of a JSON error but never the
// reply's content (which may hold account or card numbers).
func scrubJSONError(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return fmt.Sprintf("field %s: cannot hold a JSON %s", ute.Field, ute.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	}
	return "invalid field value"
}

// call runs the pipeline with the retry policy.
func (c *Client) call(ctx context.Context, svc *service, payload any) ([]byte, []field, error) {
	service := svc.name
	if err := ctx.Err(); err != nil {
		return nil, nil, &NetworkError{Service: service, Err: err}
	}
	plainReq, err := marshalPayload(payload)
	if err != nil {
		return nil, nil, err
	}
	idempotent := svc.idempotent
	start := time.Now()
	for attempt := 1; ; attempt++ {
		plain, fields, sent, err := c.attempt(ctx, service, plainReq)
		c.logCall(ctx, service, attempt, start, err)
		if err == nil {
			return plain, fields, nil
		}
		wait, ok := c.retry.next(attempt, start, err, idempotent || !sent)
		if !ok || ctx.Err() != nil {
			return nil, nil, err
		}
		if c.log != nil {
			c.log.LogAttrs(ctx, slog.LevelInfo, "qpay retry", slog.String("service", service),
				slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, &NetworkError{Service: service, Err: ctx.Err()}
		case <-t.C:
		}
	}
}

// attempt is one try: a fresh nonce, seal, post, open. sent reports whether
// the Order request may have reached the bank.
func (c *Client) attempt(ctx context.Context, service string, plainReq []byte) (plain []byte, fields []field, sent bool, err error) {
	nonce, err := c.nonce(ctx)
	if err != nil {
		// The Order request never left: whatever happened to the nonce
		// request, the call's outcome is known (not processed).
		var ne *NetworkError
		if errors.As(err, &ne) && ne.MaybeSent {
			cp := *ne
			cp.MaybeSent = false
			err = &cp
		}
		return nil, nil, false, err
	}
	if c.nonces != nil {
		// Refill the pool while the Order POST is in flight.
		done := make(chan struct{})
		go func() { defer close(done); c.nonces.fill(ctx) }()
		defer func() { <-done }()
	}
	env, err := Seal(service, c.shopNo, json.RawMessage(plainReq), nonce, c.cred.hashID)
	if err != nil {
		return nil, nil, false, err
	}
	body, err := json.Marshal(env)
	if err != nil {
		return nil, nil, false, err
	}
	status, hdr, reply, sent, err := c.post(ctx, service, "/Order", body)
	if err != nil {
		return nil, nil, sent, err
	}
	plain, fields, err = c.openReply(service, status, hdr, reply)
	if err != nil {
		// A nonce error or a 429 means the bank refused the call unprocessed.
		var ae *APIError
		var ge *GatewayError
		nonceRefused := errors.As(err, &ae) && (ae.Code == CodeNonceError || ae.Code == CodeNonceInvalid || ae.Code == CodeNonceExpired)
		if nonceRefused || errors.As(err, &ge) && ge.StatusCode == http.StatusTooManyRequests {
			sent = false
		}
		if nonceRefused && c.nonces != nil {
			// The pooled nonces are as old as the refused one or older.
			c.nonces.drop()
		}
	}
	return plain, fields, sent, err
}

// post sends one JSON POST and reads the bounded reply.
func (c *Client) post(ctx context.Context, service, path string, body []byte) (status int, hdr http.Header, reply []byte, sent bool, err error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return 0, nil, nil, false, &NetworkError{Service: service, Err: err}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, false, &NetworkError{Service: service, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.cred.keyID != "" {
		req.Header.Set("X-KeyID", c.cred.keyID)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, true, &NetworkError{Service: service, Err: err, MaybeSent: true}
	}
	defer resp.Body.Close()
	reply, err = io.ReadAll(io.LimitReader(resp.Body, c.maxReply+1))
	if err != nil {
		return 0, nil, nil, true, &NetworkError{Service: service, Err: err, MaybeSent: true}
	}
	if int64(len(reply)) > c.maxReply {
		if resp.StatusCode != http.StatusOK {
			return 0, nil, nil, true, c.gatewayError(service, resp.StatusCode, resp.Header, reply)
		}
		return 0, nil, nil, true, &MessageError{Service: service, Reason: fmt.Sprintf("reply larger than %d bytes", c.maxReply)}
	}
	return resp.StatusCode, resp.Header, reply, true, nil
}

// replyShape is an envelope, or the unencrypted error body some gateway
// paths return instead.
type replyShape struct {
	APIMessage
	Status      string `json:"Status"`
	Description string `json:"Description"`
}

// openReply turns an HTTP reply into verified plaintext or a typed error.
func (c *Client) openReply(service string, status int, hdr http.Header, body []byte) ([]byte, []field, error) {
	if status != http.StatusOK {
		return nil, nil, c.gatewayError(service, status, hdr, body)
	}
	var r replyShape
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, nil, c.gatewayError(service, status, hdr, body)
	}
	if r.Message == "" {
		if r.Status != "" {
			return nil, nil, apiError(service, r.Status, r.Description)
		}
		return nil, nil, c.gatewayError(service, status, hdr, body)
	}
	if r.Sign == "" || r.Nonce == "" {
		return nil, nil, &MessageError{Service: service, Reason: "envelope lacks Sign or Nonce"}
	}
	if r.APIService != "" && r.APIService != service {
		return nil, nil, &MessageError{Service: service, Reason: "reply is for APIService " + r.APIService}
	}
	plain, fields, err := r.APIMessage.open(c.cred.hashID, lookupService(service).reply)
	if err != nil {
		return nil, nil, err
	}
	st := fieldValue(fields, "Status")
	switch st {
	case "S":
		return plain, fields, nil
	case "":
		return nil, nil, &MessageError{Service: service, Reason: "reply has no Status"}
	}
	return nil, nil, apiError(service, st, fieldValue(fields, "Description"))
}

func apiError(service, status, desc string) *APIError {
	code, msg := parseDescription(desc)
	return &APIError{Service: service, Status: status, Code: code, Message: msg, Description: desc}
}

const excerptLen = 256

// gatewayError keeps a bounded, printable excerpt of the body with the
// client's secrets cut out, in case a proxy echoes request headers.
func (c *Client) gatewayError(service string, status int, hdr http.Header, body []byte) *GatewayError {
	return &GatewayError{Service: service, StatusCode: status, Excerpt: c.excerpt(body), RetryAfter: retryAfter(hdr)}
}

// excerpt squeezes the start of body into one printable line of at most
// excerptLen bytes. Secrets are replaced before the line is cut, over a
// window long enough to hold any secret that starts inside the excerpt, so
// a secret cut in half at the end cannot leave a piece behind.
func (c *Client) excerpt(body []byte) string {
	secrets := [...]string{c.cred.hashID, c.cred.keyID}
	window := excerptLen
	for _, s := range secrets {
		window += len(s)
	}
	var b strings.Builder
	space := true // no leading space
	for len(body) > 0 && b.Len() < window {
		r, n := utf8.DecodeRune(body)
		body = body[n:]
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		b.WriteRune(r)
		space = false
	}
	s := b.String()
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, redacted)
		}
	}
	if len(s) > excerptLen {
		cut := excerptLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return strings.TrimSpace(s)
}

// maxRetryAfter caps a Retry-After value; the policy's MaxElapsed decides
// whether to wait that long at all.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// Clamp before converting: a huge value must not wrap around.
		if err != nil || secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

func (c *Client) logCall(ctx context.Context, service string, attempt int, start time.Time, err error) {
	if c.log == nil {
		return
	}
	attrs := []slog.Attr{slog.String("service", service), slog.Int("attempt", attempt),
		slog.Duration("elapsed", time.Since(start))}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "qpay call", attrs...)
}
