package qpaytest

import (
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/funbiz-go/sinopac"
)

// DemoShopNo is the sandbox shop of the bank's published examples.
const DemoShopNo = "NA0249_001"

// DemoKeys are the hash keys of DemoShopNo in the bank's sandbox examples.
// They are public test values, not secrets. The server never reads this
// variable (it has its own copy), so changing it changes nothing but the
// caller's own use of it.
var DemoKeys = demoKeys()

// demoKeys are the keys a server without WithShop serves.
func demoKeys() sinopac.HashKeys {
	return sinopac.HashKeys{A1: "86D50DEF3EB7400E", A2: "01FD27C09E5549E5", B1: "9E004965F4244953", B2: "7FB3385F414E4F91"}
}

// BasePath is the path part of URL. It is deliberately non-empty, like the
// bank's, so a client that drops or doubles the base path fails loudly.
const BasePath = "/funBIZ/QPay.WebAPI/api"

// NonceLifetime is how long an issued nonce may be presented (protocol §2).
const NonceLifetime = 60 * time.Second

// DefaultNotifyRetry is the bank's interval between notification resends.
const DefaultNotifyRetry = 10 * time.Minute

// NotifyTimeout is how long the server waits for a merchant's answer to
// a notification before it counts the attempt as not received.
const NotifyTimeout = 10 * time.Second

// notifyRetries is how often the bank resends a BackendURL notification
// that was not answered {"Status":"S"}.
const notifyRetries = 5

// maxRequestBytes bounds a request body; real requests are a few KiB.
const maxRequestBytes = 1 << 20

// Server is an in-process QPay server for tests, examples and the CLI's
// simulator. It serves POST {URL}/Nonce and POST {URL}/Order like the bank
// (protocol §2–§6), keeps an order book, and can inject faults. All methods
// are safe for concurrent use. Create it with NewServer or Start; Close it.
type Server struct {
	cfg    config
	hashID string
	ts     *httptest.Server

	ctx    context.Context // cancelled by Close: stops sleeps, notifications
	cancel context.CancelFunc
	wg     sync.WaitGroup // timer callbacks and notifications (see beginLocked)
	notify *http.Client   // for BackendURL / ReturnURL posts

	mu         sync.Mutex
	closed     bool
	nonces     nonceBook
	book       orderBook
	tokens     map[string]payToken
	tsSeq      uint64
	tokenSeq   uint64
	faults     []*faultState
	timers     map[uint64]*time.Timer // real-time timers not yet fired (without a Clock)
	timerSeq   uint64
	busy       int           // work under way (see beginLocked)
	idle       chan struct{} // closed when busy falls to 0
	deliveries []Delivery
	stats      Stats

	pages        pageBook         // the payment pages (pages.go); its own lock
	recentTokens []RecentPayToken // WithRecentDemoData (demo.go)
}

type config struct {
	shopNo      string
	keys        sinopac.HashKeys
	keyID       string
	now         func() time.Time
	clock       *Clock // drives the timers when set (WithClock with a *Clock)
	demo        bool
	latency     time.Duration
	autoPay     bool
	autoPayWait time.Duration
	notifyRetry time.Duration
	queryLag    time.Duration // WithQueryLag (faults.go)
	rateLimit   *gatewayLimit // WithRateLimit (ratelimit.go)
	admin       bool          // WithAdmin (admin.go)
	recentDemo  time.Time     // WithRecentDemoData (demo.go)
}

// Option configures a Server.
type Option func(*config)

// WithShop serves shopNo with keys instead of DemoShopNo and DemoKeys.
func WithShop(shopNo string, keys sinopac.HashKeys) Option {
	return func(c *config) { c.shopNo, c.keys = shopNo, keys }
}

// WithKeyID requires the header X-KeyID: id on /Nonce and /Order, as the
// bank's gateway does; a missing or different value gets HTTP 401.
func WithKeyID(id string) Option { return func(c *config) { c.keyID = id } }

// WithDemoData fills the book with the seed order A202110507397 (exactly
// as in the bank's sandbox reply) and a generated, deterministic month of
// about 200 orders in October 2026 (see DemoOrders).
func WithDemoData() Option { return func(c *config) { c.demo = true } }

// WithLatency adds d to every /Nonce and /Order request before it is
// handled (the request's context is honoured).
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithAutoPay behaves like the bank's sandbox: a virtual-account order
// (PayType A) still waiting for payment is paid delay after it enters the
// book, unless its OrderNo ends in '9'; those expire (1A250) at their
// ExpireDate instead. The timers run on the server's Clock (WithClock),
// else in real time; Close stops them.
func WithAutoPay(delay time.Duration) Option {
	return func(c *config) { c.autoPay, c.autoPayWait = true, delay }
}

// WithNotifyRetry sets the interval between resends of a BackendURL
// notification that was not answered {"Status":"S"} (the bank waits 10
// minutes, DefaultNotifyRetry). At most 5 resends follow the first try.
// With a Clock the bank's own interval needs no change: Advance the clock.
func WithNotifyRetry(interval time.Duration) Option {
	return func(c *config) { c.notifyRetry = interval }
}

// NewServer starts a Server on a loopback port. Without options it serves
// DemoShopNo with DemoKeys, an empty book and no X-KeyID. It panics if the
// keys given with WithShop are malformed, like httptest.NewServer panics
// when it cannot listen.
func NewServer(opts ...Option) *Server {
	s, err := newServer(nil, opts)
	if err != nil {
		panic("qpaytest: " + err.Error())
	}
	return s
}

// Start is NewServer listening on addr (e.g. "127.0.0.1:8080"), for a
// long-running simulator such as `qpay simulator`. With an address of
// every interface (":8080"), URL names 127.0.0.1.
func Start(addr string, opts ...Option) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("qpaytest: listen %s: %w", addr, err)
	}
	s, err := newServer(l, opts)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("qpaytest: %w", err)
	}
	return s, nil
}

func newServer(l net.Listener, opts []Option) (*Server, error) {
	cfg := config{shopNo: DemoShopNo, keys: demoKeys(), now: time.Now, notifyRetry: DefaultNotifyRetry}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.clock != nil {
		cfg.now = cfg.clock.Now
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	hashID, err := cfg.keys.HashID()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:    cfg,
		hashID: hashID,
		ctx:    ctx,
		cancel: cancel,
		nonces: newNonceBook(),
		tokens: make(map[string]payToken),
		book:   newOrderBook(),
		timers: make(map[uint64]*time.Timer),
		notify: &http.Client{
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second},
			Timeout:   NotifyTimeout,
			// The bank posts to the URL it was given and nowhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		stats: Stats{Requests: make(map[string]int)},
	}
	if cfg.demo {
		s.AddOrders(DemoOrders()...)
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0) // a library never prints
	if l != nil {
		s.ts.Listener.Close()
		s.ts.Listener = l
	}
	s.ts.Start()
	// Listening on every interface (":8080"): clients dial loopback.
	if a, ok := s.ts.Listener.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		s.ts.URL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	if !cfg.recentDemo.IsZero() {
		s.addRecentDemo(cfg.recentDemo) // its payment pages need the URL
	}
	return s, nil
}

// URL is the base URL to give sinopac.WithBaseURL, e.g.
// http://127.0.0.1:PORT/funBIZ/QPay.WebAPI/api.
func (s *Server) URL() string { return s.ts.URL + BasePath }

// ShopNo is the shop the server serves.
func (s *Server) ShopNo() string { return s.cfg.shopNo }

// Keys are the shop's hash keys.
func (s *Server) Keys() sinopac.HashKeys { return s.cfg.keys }

// NewClient returns a sinopac.Client wired to this server: its URL, shop,
// keys, X-KeyID and an HTTP client whose idle connections Close releases.
// opts are applied after those and may override them.
func (s *Server) NewClient(opts ...sinopac.Option) (*sinopac.Client, error) {
	base := []sinopac.Option{sinopac.WithBaseURL(s.URL()), sinopac.WithHTTPClient(s.ts.Client())}
	if s.cfg.keyID != "" {
		base = append(base, sinopac.WithKeyID(s.cfg.keyID))
	}
	return sinopac.NewClient(s.cfg.shopNo, s.cfg.keys, append(base, opts...)...)
}

// Close stops the server, its timers (on its Clock too) and notifications,
// and waits for them: no goroutine of the server is left behind. The book
// stays readable (Order, Orders, Deliveries).
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, t := range s.timers {
		t.Stop()
	}
	clear(s.timers)
	s.mu.Unlock()
	if s.cfg.clock != nil {
		s.cfg.clock.cancel(s)
	}
	s.cancel()
	s.wg.Wait()
	s.ts.Close()
	s.notify.CloseIdleConnections()
}

// now is the server's clock.
func (s *Server) now() time.Time { return s.cfg.now() }

// sleep waits d unless the request or the server ends first; it reports
// whether the full time passed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
	return false
}

// serveHTTP is the gateway: path, method, X-KeyID and content type are
// checked (404, 405, 401, 415, unencrypted) before the QPay layer.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if page, ok := strings.CutPrefix(r.URL.Path, PayPagePath); ok {
		s.servePage(w, r, page) // the bank's payment pages (pages.go)
		return
	}
	if s.cfg.admin && strings.HasPrefix(r.URL.Path, AdminPath) {
		s.serveAdmin(w, r) // WithAdmin (admin.go)
		return
	}
	endpoint := endpointOf(r.URL.Path)
	if endpoint == "" {
		http.Error(w, "Resource not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.rateLimited(w) {
		return
	}
	if !s.sleep(r.Context(), s.cfg.latency) {
		return
	}
	if s.cfg.keyID != "" && strings.TrimSpace(r.Header.Get("X-KeyID")) != s.cfg.keyID {
		http.Error(w, `{"statusCode":401,"message":"Access denied due to invalid subscription key."}`, http.StatusUnauthorized)
		return
	}
	// A declared type other than JSON is refused like the gateway does; a
	// missing one is read as JSON, so that bare HTTP clients in users'
	// tests are not tripped by the simulator alone.
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			http.Error(w, "Unsupported Media Type", http.StatusUnsupportedMediaType)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		return
	}
	if len(body) > maxRequestBytes {
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	}
	if endpoint == "Nonce" {
		s.serveNonce(w, r, body)
		return
	}
	s.serveOrder(w, r, body)
}

// endpointOf is "Nonce" or "Order" for a path the gateway routes there:
// BasePath, then "/" or "//" (the bank's PHP sample joins its base URL
// ending in "/" with "/Nonce"), then the endpoint, case-sensitively.
func endpointOf(path string) string {
	rest, found := strings.CutPrefix(path, BasePath+"/")
	if !found {
		return ""
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest == "Nonce" || rest == "Order" {
		return rest
	}
	return ""
}

// applyFault runs the parts of a fault that replace the normal answer. It
// reports whether the request was answered (or abandoned) by the fault.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f == nil {
		return false
	}
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	if f.Delay > 0 && !s.sleep(r.Context(), f.Delay) {
		return true
	}
	switch {
	case f.Status != 0:
		w.WriteHeader(f.Status)
		io.WriteString(w, f.Body)
		return true
	case f.Plain:
		code := f.Code
		if code == "" {
			code = sinopac.CodeSystem
		}
		writeJSON(w, plainReply{Status: "F", Description: description(code)})
		return true
	}
	return false
}

// serveNonce answers POST /Nonce {"ShopNo"} with {"Nonce"}.
func (s *Server) serveNonce(w http.ResponseWriter, r *http.Request, body []byte) {
	s.count("Nonce")
	f := s.takeFault("Nonce")
	if s.applyFault(w, r, f) {
		return
	}
	var req struct{ ShopNo string }
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, plainReply{Status: "F", Description: description(sinopac.CodeBadFormat)})
		return
	}
	if f != nil && f.Code != "" {
		writeJSON(w, plainReply{Status: "F", Description: description(f.Code)})
		return
	}
	if req.ShopNo != s.cfg.shopNo {
		writeJSON(w, plainReply{Status: "F", Description: description(sinopac.CodeShopUnknown)})
		return
	}
	n := s.issueNonce(clientIP(r.RemoteAddr))
	if f != nil && f.Garble {
		n = "\x01" + n[1:]
	}
	if f != nil && f.DropReply {
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, struct{ Nonce string }{n})
}

// serveOrder handles POST /Order: the envelope, the nonce, the Sign, then
// the APIService's handler; the reply is sealed with a new server nonce.
func (s *Server) serveOrder(w http.ResponseWriter, r *http.Request, body []byte) {
	var env sinopac.APIMessage
	if err := json.Unmarshal(body, &env); err != nil {
		s.count("")
		if f := s.takeFault(""); s.applyFault(w, r, f) {
			return
		}
		writeJSON(w, plainReply{Status: "F", Description: description(sinopac.CodeBadFormat)})
		return
	}
	service := env.APIService
	s.count(service)
	f := s.takeFault(service)
	after := f != nil && f.AfterProcessing
	if !after && s.applyFault(w, r, f) {
		return
	}
	if env.ShopNo != s.cfg.shopNo {
		// Without the shop's keys the bank cannot seal its answer.
		writeJSON(w, plainReply{Status: "F", Description: description(sinopac.CodeShopUnknown)})
		return
	}
	var reply any
	switch {
	case f != nil && f.Code != "" && !after:
		reply = s.fail(&request{Service: service}, f.Code)
	case env.Version != sinopac.Version:
		reply = s.fail(&request{Service: service}, sinopac.CodeVersion)
	default:
		reply = s.handle(&env, clientIP(r.RemoteAddr))
	}
	out, err := s.seal(service, reply)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if after && s.applyFault(w, r, f) {
		return
	}
	if f != nil && f.BadSign {
		out.Sign = corruptSign(out.Sign)
	}
	if f != nil && f.Garble {
		// Two hex digits short: no longer whole AES blocks.
		out.Message = out.Message[:len(out.Message)-2]
	}
	if f != nil && f.DropReply {
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, out)
}

// handle checks the nonce and Sign of a well-formed envelope and runs the
// service's handler. It returns the reply object to seal.
func (s *Server) handle(env *sinopac.APIMessage, ip string) any {
	req := &request{Service: env.APIService, ShopNo: env.ShopNo}
	if env.Nonce == "" {
		return s.fail(req, sinopac.CodeNonceError)
	}
	if code := s.useNonce(env.Nonce, ip); code != "" {
		return s.fail(req, code)
	}
	h, known := handlers[env.APIService]
	plain, fields, ok := s.open(env, serviceModels[env.APIService].request)
	if !ok {
		s.mu.Lock()
		s.stats.BadSigns++
		s.mu.Unlock()
		return s.fail(req, sinopac.CodeBadSign)
	}
	if !known {
		return s.fail(req, sinopac.CodeNoService)
	}
	req.Body, req.fields = plain, fields
	return h(s, req)
}

// open decrypts a request's Message and checks its Sign, which may follow
// the raw-JSON rule or the model rule of md (protocol §2a): the bank's own
// samples sign from their typed models. It returns the plaintext and its
// top-level members.
func (s *Server) open(env *sinopac.APIMessage, md model) ([]byte, []member, bool) {
	plain, err := sinopac.DecryptMessage(env.Message, s.hashID, env.Nonce)
	if err != nil || !utf8.Valid(plain) {
		return nil, nil, false
	}
	fields, err := members(plain)
	if err != nil || !signMatches(env.Sign, md, fields, env.Nonce, s.hashID) {
		return nil, nil, false
	}
	return plain, fields, true
}

// seal encodes reply without HTML escaping and seals it with a new server
// nonce, signed as the bank signs: by the model rule of the service's
// reply model (an int field the reply leaves out is signed as 0).
func (s *Server) seal(service string, reply any) (*sinopac.APIMessage, error) {
	plain, err := marshal(reply)
	if err != nil {
		return nil, err
	}
	fields, err := members(plain)
	if err != nil {
		return nil, err
	}
	ps, _ := modelPairs(replyModel(service), fields)
	nonce := s.replyNonce()
	msg, err := sinopac.EncryptMessage(plain, s.hashID, nonce)
	if err != nil {
		return nil, err
	}
	return &sinopac.APIMessage{Version: sinopac.Version, ShopNo: s.cfg.shopNo, APIService: service,
		Sign: signPairs(ps, nonce, s.hashID), Nonce: nonce, Message: msg}, nil
}

func corruptSign(sign string) string {
	if sign == "" {
		return "0"
	}
	c := byte('0')
	if sign[0] == '0' {
		c = '1'
	}
	return string(c) + sign[1:]
}

func (s *Server) count(service string) {
	s.mu.Lock()
	s.stats.Requests[service]++
	s.mu.Unlock()
}

// marshal is json.Marshal without HTML escaping: the bank signs '&', '<'
// and '>' literally.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b)
}

// plainReply is the unencrypted error body the bank sends when it cannot
// (or does not) seal its answer.
type plainReply struct {
	Status      string `json:"Status"`
	Description string `json:"Description"`
}
