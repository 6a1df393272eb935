package sinopac

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// MaxNotificationBytes bounds the body of a notification the SDK reads.
// The bank's is about 100 bytes.
const MaxNotificationBytes = 16 << 10

// NotificationFunc handles one verified payment result. It sees every
// result the bank confirms, paid or not (check n.Paid, n.Failed), and must
// be idempotent: the bank resends a notification it did not see answered
// with {"Status":"S"} every 10 minutes, up to 5 times, and announces card
// payments on both the BackendURL and the ReturnURL. Deduper helps.
type NotificationFunc func(ctx context.Context, n *ResponseOrderPayQuery) error

// HandlerOption changes how a BackendHandler answers the bank.
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	ackFailed bool    // acknowledge an inner Status F (AcknowledgeFailed)
	client    *Client // the one client served (Client.BackendHandler), nil for a ClientSet
}

// AcknowledgeFailed makes a BackendHandler answer {"Status":"S"} also for
// a verified result whose inner Status is F, once fn returned nil, so the
// bank stops resending it. Use it only if a not-paid result is final for
// you: OrderPayQuery can lag a payment by minutes (a virtual account just
// paid may still read F), and with this option no resend asks again. Keep
// checking unpaid orders with OrderQuery (or the reconcile package) then.
func AcknowledgeFailed() HandlerOption {
	return func(c *handlerConfig) { c.ackFailed = true }
}

// BackendHandler serves the BackendURL: the bank's server-to-server
// notification, a JSON POST {"ShopNo":…,"PayToken":…}.
//
// The notification carries no signature, so the handler never trusts it:
// it checks its shape and ShopNo, asks the bank with QueryPayment (signed
// and verified; a reply about another PayToken is refused) and hands that
// verified result to fn, whatever the payment's outcome. It answers
// {"Status":"S"} only for a final result, after fn returned nil; otherwise
// the bank resends later and the handler asks the bank again:
//   - 200 {"Status":"S"}: the inner Status is S (n.Succeeded) and fn
//     returned nil;
//   - 202 {"Status":"F"}: fn returned nil but the result is not final: the
//     inner Status is F (not paid, declined) or missing. A declined card
//     is a genuine F, but a virtual-account payment can read F for minutes
//     because the query lags the payment; acknowledging it would stop the
//     resends that let the handler see the payment. So by default the bank
//     resends (5 more times, 10 minutes apart) and fn sees each new
//     result. AcknowledgeFailed answers S for an F instead;
//   - 405 for a method other than POST;
//   - 413 for a body over MaxNotificationBytes;
//   - 400 {"Status":"F"} for a Content-Type other than JSON (a missing
//     one is tolerated), a body that is not such JSON, another shop's
//     ShopNo, or a PayToken the bank does not know (fn is not called);
//   - 500 {"Status":"F"} when QueryPayment fails otherwise or fn returns
//     an error.
//
// fn runs with the request's context and must be idempotent (see
// NotificationFunc); wrap it with a Deduper to drop repeats.
func (c *Client) BackendHandler(fn NotificationFunc, opts ...HandlerOption) http.Handler {
	return backendHandler(c.ownShop, fn, append(opts, func(cfg *handlerConfig) { cfg.client = c }))
}

// ownShop resolves the one ShopNo a Client serves.
func (c *Client) ownShop(_ context.Context, shopNo string) (*Client, error) {
	if shopNo != c.shopNo {
		return nil, ErrUnknownShop
	}
	return c, nil
}

// backendHandler is the BackendURL handler of Client and ClientSet: resolve
// picks the client whose signed, verified OrderPayQuery decides, by the
// notification's ShopNo. The ShopNo only routes; it grants nothing, since
// the chosen shop's bank must know the PayToken.
func backendHandler(resolve func(ctx context.Context, shopNo string) (*Client, error), fn NotificationFunc, opts []HandlerOption) http.Handler {
	var cfg handlerConfig
	for _, o := range opts {
		o(&cfg)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Observed from arrival by the handler's own observer; a handler of
		// several shops (ClientSet) starts observing once it resolved one.
		ctx, obs := r.Context(), observedNotification{}
		if cfg.client != nil {
			ctx, obs = cfg.client.observeNotificationStart(ctx)
		}
		reply := func(status int, reason NotificationReason, res *ResponseOrderPayQuery, err error) {
			obs.end(status, reason, res, err)
			answer(w, status)
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			reply(http.StatusMethodNotAllowed, NotificationBadMethod, nil, nil)
			return
		}
		if !jsonContent(r.Header.Get("Content-Type")) {
			reply(http.StatusBadRequest, NotificationBadContentType, nil, nil)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotificationBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				reply(http.StatusRequestEntityTooLarge, NotificationTooLarge, nil, nil)
				return
			}
			reply(http.StatusBadRequest, NotificationBadBody, nil, nil)
			return
		}
		var note struct{ ShopNo, PayToken string }
		if json.Unmarshal(body, &note) != nil || checkShopNo(note.ShopNo) != nil || checkPayToken(note.PayToken) != nil {
			reply(http.StatusBadRequest, NotificationBadBody, nil, nil)
			return
		}
		c, err := resolve(ctx, note.ShopNo)
		if err != nil {
			reply(http.StatusBadRequest, NotificationOtherShop, nil, nil)
			return
		}
		if cfg.client == nil {
			ctx, obs = c.observeNotificationStart(ctx)
		}
		res, err := c.QueryPayment(ctx, note.PayToken)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ae.Code == CodePayTokenInvalid {
				reply(http.StatusBadRequest, NotificationUnknownToken, nil, err)
				return
			}
			reply(http.StatusInternalServerError, NotificationQueryFailed, nil, err)
			return
		}
		if err := fn(ctx, res); err != nil {
			reply(http.StatusInternalServerError, NotificationHandlerFailed, res, nil)
			return
		}
		if !res.Succeeded() && !(cfg.ackFailed && res.Failed()) {
			reply(http.StatusAccepted, NotificationNotFinal, res, nil)
			return
		}
		reply(http.StatusOK, NotificationReasonNone, res, nil)
	})
}

// jsonContent accepts a JSON media type, or none at all (the body is
// parsed as JSON either way); a form or text body is refused.
func jsonContent(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json"))
}

// answer writes the bank's expected reply: {"Status":"S"} with 200, else
// {"Status":"F"}.
func answer(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusOK {
		_, _ = io.WriteString(w, `{"Status":"S"}`)
		return
	}
	_, _ = io.WriteString(w, `{"Status":"F"}`)
}

// ParseReturnNotification reads the ReturnURL notification: the
// customer's browser posts the form ShopNo=…&PayToken=… (a GET query
// string is accepted too). The body is bounded by MaxNotificationBytes.
// Problems are *ValidationError values naming the field ("Method", "Body",
// "ShopNo", "PayToken").
//
// The values are not authenticated: check shopNo, then call
// Client.QueryPayment with payToken and act only on its result. Render a
// page for the customer; the bank expects no particular answer here.
//
// A not-paid result here is not final either: the browser can arrive
// before the query reflects the payment, and nothing resends a ReturnURL.
// For an inner Status F tell the customer the payment is being checked
// rather than that it failed, record nothing final, and let the
// BackendURL notification (BackendHandler, which the bank resends) or
// OrderQuery settle the order.
func ParseReturnNotification(r *http.Request) (shopNo, payToken string, err error) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		if r.Body != nil {
			r.Body = http.MaxBytesReader(nil, r.Body, MaxNotificationBytes)
		}
	default:
		return "", "", &ValidationError{Field: "Method", Reason: "must be POST or GET"}
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", "", &ValidationError{Field: "Body", Reason: "is larger than MaxNotificationBytes"}
		}
		return "", "", &ValidationError{Field: "Body", Reason: "is not a form (ShopNo=…&PayToken=…)"}
	}
	shopNo, payToken = r.Form.Get("ShopNo"), r.Form.Get("PayToken")
	if err := checkShopNo(shopNo); err != nil {
		return "", "", err
	}
	if err := checkPayToken(payToken); err != nil {
		return "", "", err
	}
	return shopNo, payToken, nil
}

// Deduper makes a NotificationFunc run once per PayToken for final
// results: after it succeeded for a token whose result is final (the inner
// Status is S), repeats of that token within TTL succeed without calling
// it again. A result that is not final (inner Status F: not paid yet,
// declined; or none) is not remembered, so the next resend runs fn with
// the bank's new answer: a payment the query showed late is never
// dropped as a repeat. A failed run is not remembered either.
//
// The key is the notification's own PayToken: QueryPayment (and so
// BackendHandler) guarantees n.PayToken is the token asked about, refusing
// a reply about another token and filling it in when the bank leaves it
// out. A result without a PayToken (built by hand) is passed to fn
// without deduplication, never keyed on "".
//
// A repeat that arrives while the first run is in flight waits for it: if
// that run ended with a final success the repeat is dropped, otherwise it
// runs fn with its own result. It remembers at most a bounded number of
// tokens (the oldest are forgotten first), in memory only: with several
// processes, or across restarts, fn must still be idempotent on its own
// (e.g. keyed on OrderNo and APType in a database). A Deduper is safe for
// concurrent use.
type Deduper struct {
	ttl  time.Duration
	max  int
	now  func() time.Time
	mu   sync.Mutex
	done map[string]time.Time // token → when it succeeded with a final result
	fifo []string             // tokens of done in the order they succeeded
	busy map[string]chan struct{}
}

// DefaultDedupTTL covers the bank's resends: 5 more tries 10 minutes apart.
const DefaultDedupTTL = time.Hour

// NewDeduper remembers up to max tokens (10,000 if max <= 0) for ttl
// (DefaultDedupTTL if ttl <= 0).
func NewDeduper(ttl time.Duration, max int) *Deduper {
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	if max <= 0 {
		max = 10000
	}
	return &Deduper{ttl: ttl, max: max, now: time.Now, done: map[string]time.Time{}, busy: map[string]chan struct{}{}}
}

// Once wraps fn so that it runs once per PayToken with a final result (see
// Deduper).
func (d *Deduper) Once(fn NotificationFunc) NotificationFunc {
	return func(ctx context.Context, n *ResponseOrderPayQuery) error {
		key := n.PayToken
		if key == "" {
			return fn(ctx, n)
		}
		d.mu.Lock()
		for {
			if d.seenLocked(key) {
				d.mu.Unlock()
				return nil
			}
			inFlight, busy := d.busy[key]
			if !busy {
				break
			}
			d.mu.Unlock()
			select {
			case <-inFlight:
			case <-ctx.Done():
				return ctx.Err()
			}
			d.mu.Lock()
		}
		flight := make(chan struct{})
		d.busy[key] = flight
		d.mu.Unlock()

		var err error
		completed := false
		defer func() { // also when fn panics: then nothing is remembered
			d.mu.Lock()
			delete(d.busy, key)
			if completed && err == nil && n.Succeeded() {
				d.remember(key)
			}
			d.mu.Unlock()
			close(flight)
		}()
		err = fn(ctx, n)
		completed = true
		return err
	}
}

// Seen reports whether a run for payToken succeeded with a final result
// within TTL.
func (d *Deduper) Seen(payToken string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seenLocked(payToken)
}

func (d *Deduper) seenLocked(key string) bool {
	t, ok := d.done[key]
	return ok && d.now().Sub(t) < d.ttl
}

// remember records key as done, dropping expired and excess entries.
// Called with d.mu held.
func (d *Deduper) remember(key string) {
	now := d.now()
	if _, ok := d.done[key]; !ok {
		d.fifo = append(d.fifo, key)
	}
	d.done[key] = now
	drop := 0
	for drop < len(d.fifo) {
		k := d.fifo[drop]
		if t, ok := d.done[k]; ok && len(d.done) <= d.max && now.Sub(t) < d.ttl {
			break
		}
		delete(d.done, k)
		drop++
	}
	if drop > 0 {
		d.fifo = append(d.fifo[:0:0], d.fifo[drop:]...)
	}
}
