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
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

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

// DefaultTimeout is the whole-request timeout (reply body included) of the
// http.Client the SDK builds when none is given with WithHTTPClient.
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
	observer *Observer // nil: no WithObserver (observer.go)

	nonceBody []byte // {"ShopNo":…}, the same for every nonce request
}

// credentials hold the client's secrets two pointers away from the Client.
// fmt prints a pointer nested in a struct as its address, but a verb that
// does not fit a pointer (%s, %q, %t on a Client held by value, or inside a
// struct fmt cannot call methods on) prints the value pointed to once, with
// %v: that value is only another address here. The redacting methods serve
// tools that do follow pointers.
type credentials struct{ *keyMaterial }

// keyMaterial is what credentials point to.
type keyMaterial struct {
	hashID string // AES key and sign salt
	keyID  string // X-KeyID header
}

func (credentials) String() string             { return redacted }
func (credentials) GoString() string           { return redacted }
func (credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }
func (credentials) LogValue() slog.Value       { return slog.StringValue(redacted) }

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
		cred:     &credentials{&keyMaterial{hashID: hashID}},
		base:     ProductionURL,
		maxReply: DefaultMaxReplyBytes,
		retry:    DefaultRetryPolicy(),
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
		c.nonces.fetch = func(ctx context.Context) (string, error) { return c.fetchNonce(c.withTurn(ctx), true) }
		if c.limiter != nil {
			c.nonces.spare = c.limiter.Allow
		}
	}
	// The nonce request never changes: encode it once.
	c.nonceBody, _ = json.Marshal(struct{ ShopNo string }{c.shopNo})
	return c, nil
}

func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	// The whole-request timeout is the transport's (a deadline on the
	// request's context), not http.Client.Timeout, which costs a goroutine
	// and its wake-up per request.
	return &http.Client{Transport: newLeanTransport(tr, DefaultTimeout), CheckRedirect: noRedirect}
}

// noRedirect: the gateway never redirects a valid call, and following one
// would re-post a signed request somewhere else.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// WithSandbox points the client at the bank's sandbox.
func WithSandbox() Option { return WithBaseURL(SandboxURL) }

// WithBaseURL points the client at another QPay endpoint (a simulator such
// as qpaytest, a proxy). The base is the part before /Nonce and /Order. It
// must not carry credentials (user:password@), a query or a fragment: the
// base is printed with the client and in errors, and /Nonce is appended to
// it. The error never repeats the URL. A proxy that needs authentication
// gets it from the transport (WithHTTPClient).
func WithBaseURL(base string) Option {
	return func(c *Client) error {
		u, err := url.Parse(base)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			return &ValidationError{Field: "BaseURL", Reason: "must be an absolute http(s) URL"}
		case u.User != nil:
			return &ValidationError{Field: "BaseURL", Reason: "must not carry credentials (user:password@); authenticate in the transport"}
		case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(base, "#"):
			return &ValidationError{Field: "BaseURL", Reason: "must not have a query or fragment"}
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
// printed with %+v while debugging must not reveal them. The receiver is a
// value so that a Client held by value (or in a slice or an exported
// field) prints the same way.
func (c Client) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "sinopac.Client{ShopNo:%s BaseURL:%s}", c.shopNo, c.base)
}

// LogValue keeps the client's secrets out of slog output; like Format it
// works on a Client value and pointer alike.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("shop_no", c.shopNo), slog.String("base_url", c.base))
}

// Call performs one APIService call through the full pipeline (nonce, seal,
// post, gateway check, open and verify, Status check) and returns the
// verified plaintext JSON of the reply. Typed methods such as QueryOrders
// are built on it; use it for services or fields the SDK does not model.
// payload must be a JSON object (a struct, map, or raw JSON bytes). A
// service the SDK does not model is taken as one that changes something:
// it is resent only when the bank provably did not process it.
func (c *Client) Call(ctx context.Context, service string, payload any) ([]byte, error) {
	o, _, err := c.call(ctx, lookupService(service), payload, nil)
	return o.plain, err
}

// do calls service and decodes a successful reply into out.
func (c *Client) do(ctx context.Context, svc *service, payload any, out replyTarget) error {
	_, err := c.send(ctx, svc, payload, out)
	return err
}

// send is do that also tells how far the call got, for the services that
// settle an unknown outcome (CreateOrder, MaintainOrder). The reply is
// decoded into out while it is read and verified (openReply); out is
// zero unless the call succeeds.
func (c *Client) send(ctx context.Context, svc *service, payload any, out replyTarget) (stage, error) {
	o, st, err := c.call(ctx, svc, payload, out)
	if err == nil && o.decodeErr != nil {
		err = &MessageError{Service: svc.name, Reason: "reply does not decode: " + o.decodeErr.Error()}
	}
	if err != nil {
		out.reset()
	}
	return st, err
}

// call runs the pipeline with the retry policy. The stage is the last
// attempt's; an attempt of a service that changes something is followed by
// another only when its stage proves the bank did not process it, so the
// last attempt's stage is the whole call's.
func (c *Client) call(ctx context.Context, svc *service, payload any, into replyTarget) (opened, stage, error) {
	if err := ctx.Err(); err != nil {
		return opened{}, stageUnsent, &NetworkError{Service: svc.name, Err: err}
	}
	plainReq, err := marshalPayload(payload)
	if err != nil {
		return opened{}, stageUnsent, err
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		actx, obs := c.observeCallStart(ctx, svc.name, attempt)
		if into != nil {
			into.reset() // each attempt decodes afresh
		}
		o, st, err := c.attempt(actx, svc, plainReq, into)
		c.logCall(ctx, svc.name, attempt, start, err)
		if err == nil {
			obs.end(nil, fieldValue(o.fields, "Description"), false, false, 0)
			return o, st, nil
		}
		wait, ok := c.retry.next(attempt, start, err, svc.idempotent || st.unprocessed(err))
		retry := ok && ctx.Err() == nil
		obs.end(err, "", st == stageNonce, retry, wait)
		if !retry {
			return opened{}, st, err
		}
		if c.log != nil {
			c.log.LogAttrs(ctx, slog.LevelInfo, "qpay retry", slog.String("service", svc.name),
				slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return opened{}, st, &NetworkError{Service: svc.name, Err: ctx.Err(), MaybeSent: st == stageMaybeSent}
		case <-t.C:
		}
	}
}

// attempt is one try: a fresh nonce, seal, post, open. It records how far
// the try got.
func (c *Client) attempt(ctx context.Context, svc *service, plainReq []byte, into replyTarget) (opened, stage, error) {
	if c.nonces != nil {
		c.nonces.begin()
		defer c.nonces.end()
	}
	nonce, err := c.nonce(ctx)
	if err != nil {
		// Whatever happened to the nonce request, no Order request exists.
		return opened{}, stageNonce, err
	}
	// The Order POST takes its turn before any prefetch may take one.
	if err := c.waitTurn(ctx, svc.name); err != nil {
		return opened{}, stageUnsent, err
	}
	if c.nonces != nil {
		// Refill the pool while the Order POST is in flight.
		done := make(chan struct{})
		go func() { defer close(done); c.nonces.fill(ctx) }()
		defer func() { <-done }()
	}
	env, err := Seal(svc.name, c.shopNo, json.RawMessage(plainReq), nonce, c.cred.hashID)
	if err != nil {
		return opened{}, stageUnsent, err
	}
	body, err := marshalEnvelope(env)
	if err != nil {
		return opened{}, stageUnsent, err
	}
	r, st, err := c.post(c.withTurn(ctx), svc.name, "/Order", body, stageMaybeSent)
	if err != nil {
		return opened{}, st, err
	}
	defer r.release()
	o, st, err := c.openReply(svc.name, r.status, r.header, r.body, into)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code.nonceRefusal() && c.nonces != nil {
		// The pooled nonces are as old as the refused one or older.
		c.nonces.drop()
	}
	return o, st, err
}

// httpReply is a POST's answer, bounded.
type httpReply struct {
	status int
	header http.Header
	body   []byte
	buf    *[]byte // body's buffer, from scratch until release
}

// turnTaken marks the context of a request whose turn of the rate
// budget was taken before post: the Order POST (before the pool's refill
// may take one) and a prefetch (which takes only a free one).
type turnTaken struct{}

// withTurn is ctx for a request that has its turn already.
func (c *Client) withTurn(ctx context.Context) context.Context {
	if c.limiter == nil {
		return ctx
	}
	return context.WithValue(ctx, turnTaken{}, true)
}

// waitTurn waits for the rate limiter (WithRateLimit) before a request;
// a wait that ends early (the context) is a NetworkError of a request that
// was never sent.
func (c *Client) waitTurn(ctx context.Context, service string) error {
	if c.limiter == nil {
		return nil
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return &NetworkError{Service: service, Err: err}
	}
	return nil
}

// post sends one JSON POST and reads the bounded reply. written is the
// stage a failure leaves the call in when the request may have been
// written: stageMaybeSent for the Order POST, stageNonce for the nonce
// request (whatever became of it, no Order request exists). A failure
// before anything was written is stageUnsent; a reply is stageAnswered
// until openReply verifies it.
func (c *Client) post(ctx context.Context, service, path string, body []byte, written stage) (*httpReply, stage, error) {
	netErr := func(st stage, err error) error {
		return &NetworkError{Service: service, Err: err, MaybeSent: st == stageMaybeSent}
	}
	if ctx.Value(turnTaken{}) == nil {
		if err := c.waitTurn(ctx, service); err != nil {
			return nil, stageUnsent, err
		}
	}
	var w wireTrace
	req, err := http.NewRequestWithContext(w.trace(ctx), http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, stageUnsent, netErr(stageUnsent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.cred.keyID != "" {
		req.Header.Set("X-KeyID", c.cred.keyID)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		st := written
		if w.unwritten() {
			st = stageUnsent
		}
		return nil, st, netErr(st, err)
	}
	defer resp.Body.Close()
	r := &httpReply{status: resp.StatusCode, header: resp.Header, buf: getScratch()}
	r.body, err = readBody(resp.Body, resp.ContentLength, c.maxReply, *r.buf)
	if err != nil {
		r.release()
		return nil, written, netErr(written, err)
	}
	if int64(len(r.body)) > c.maxReply {
		defer r.release()
		if resp.StatusCode != http.StatusOK {
			return nil, stageAnswered, c.gatewayError(service, resp.StatusCode, resp.Header, r.body)
		}
		return nil, stageAnswered, &MessageError{Service: service, Reason: fmt.Sprintf("reply larger than %d bytes", c.maxReply)}
	}
	return r, stageAnswered, nil
}

// release hands the body's buffer back for reuse: the caller is done
// with the body and kept nothing of it (errors and values copy what they
// take).
func (r *httpReply) release() {
	if r.buf != nil {
		*r.buf = r.body[:0]
		putScratch(r.buf)
		r.buf, r.body = nil, nil
	}
}

// readBody reads a reply to its end (so that the connection is reused),
// or to max+1 bytes, into b when it is large enough. A body that
// announces its length is read into one buffer of that size, not grown by
// copying as io.ReadAll grows it.
func readBody(r io.Reader, length, max int64, b []byte) ([]byte, error) {
	size := int64(512)
	if length >= 0 && length <= max {
		size = length + 1 // room to read the EOF without growing
	}
	if int64(cap(b)) < size {
		b = make([]byte, 0, size)
	}
	b = b[:0]
	lr := io.LimitedReader{R: r, N: max + 1}
	for {
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// wireTrace watches the transport write a request: the only proof that a
// request which failed never left is a transport that began (GetConn) and
// failed before writing its headers. A transport that reports nothing (a
// test double, a custom RoundTripper) proves nothing: such a failure is
// taken as maybe sent. Never set an Idempotency-Key header: net/http would
// then replay a POST on its own.
type wireTrace struct{ began, wrote atomic.Bool }

func (w *wireTrace) trace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn:      func(string) { w.began.Store(true) },
		WroteHeaders: func() { w.wrote.Store(true) },
	})
}

func (w *wireTrace) unwritten() bool { return w.began.Load() && !w.wrote.Load() }

// replyShape is an envelope, or the unencrypted error body some gateway
// paths return instead.
type replyShape struct {
	APIMessage
	Status      string `json:"Status"`
	Description string `json:"Description"`
}

// openReply turns an HTTP reply into verified plaintext or a typed error,
// and says what the reply proves: stageVerified for a reply whose Sign
// verified (Status S or F), stageAnswered for anything else (an HTTP
// status, an unsigned body, a reply that does not open or verify): not the
// bank's word. With into, the plaintext is decoded into it as it is read;
// decodeErr is set, for a verified reply of Status S only, when it does
// not fit.
//
// The body is read by readEnvelope when it has the common shape, else by
// encoding/json; both read the same fields from it.
func (c *Client) openReply(service string, status int, hdr http.Header, body []byte, into replyTarget) (opened, stage, error) {
	if status != http.StatusOK {
		return opened{}, stageAnswered, c.gatewayError(service, status, hdr, body)
	}
	if env, ok := readEnvelope(body); ok {
		o, st, err := c.openEnvelope(service, hdr, body, env, into)
		if !errors.Is(err, ErrMessageNotHex) && !errors.Is(err, ErrMessageTruncated) {
			return o, st, err
		}
		// Not hex, or not whole: what encoding/json makes of such a body
		// (escapes, invalid UTF-8, control characters) decides the error.
	}
	var r replyShape
	if err := json.Unmarshal(body, &r); err != nil {
		return opened{}, stageAnswered, c.gatewayError(service, status, hdr, body)
	}
	env := envelope{version: r.Version, shopNo: r.ShopNo, apiService: r.APIService, sign: r.Sign, nonce: r.Nonce,
		status: r.Status, description: r.Description, message: []byte(r.Message)}
	return c.openEnvelope(service, hdr, body, env, into)
}

// opened is a reply that verified with Status S: its plaintext, the
// fields of the rule that verified it, and whether it failed to decode
// into the typed reply.
type opened struct {
	plain     []byte
	fields    []field
	decodeErr error
}

// openEnvelope is openReply once the body is read.
func (c *Client) openEnvelope(service string, hdr http.Header, body []byte, r envelope, into replyTarget) (opened, stage, error) {
	if len(r.message) == 0 {
		if r.status != "" {
			ae := apiError(service, r.status, r.description)
			ae.Unverified = true
			return opened{}, stageAnswered, ae
		}
		return opened{}, stageAnswered, c.gatewayError(service, http.StatusOK, hdr, body)
	}
	if r.sign == "" || r.nonce == "" {
		return opened{}, stageAnswered, &MessageError{Service: service, Reason: "envelope lacks Sign or Nonce"}
	}
	if r.apiService != "" && r.apiService != service {
		return opened{}, stageAnswered, &MessageError{Service: service, Reason: "reply is for APIService " + r.apiService}
	}
	plain, fields, decodeErr, err := openSealed(sealed{r.apiService, r.sign, r.nonce, r.message}, c.cred.hashID, lookupService(service).reply, into)
	if err != nil {
		return opened{}, stageAnswered, err
	}
	st := fieldValue(fields, "Status")
	switch st {
	case "S":
		return opened{plain, fields, decodeErr}, stageVerified, nil
	case "":
		return opened{}, stageVerified, &MessageError{Service: service, Reason: "reply has no Status"}
	}
	return opened{}, stageVerified, apiError(service, st, fieldValue(fields, "Description"))
}

func apiError(service, status, desc string) *APIError {
	code, msg := parseDescription(desc)
	return &APIError{Service: service, Status: status, Code: code, Message: msg, Description: desc}
}

// gatewayError describes a reply that is not a sealed envelope by what is
// safe to show: the HTTP status, the media type, and an excerpt that
// carries neither the client's secrets nor the numbers a reply holds.
func (c *Client) gatewayError(service string, status int, hdr http.Header, body []byte) *GatewayError {
	return &GatewayError{Service: service, StatusCode: status, ContentType: mediaType(hdr),
		Excerpt: c.excerpt(hdr, body), RetryAfter: retryAfter(hdr)}
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
