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

// NotificationFunc handles one verified payment result. It must be
// idempotent: the bank resends a notification it did not see answered
// with {"Status":"S"} every 10 minutes, up to 5 times, and announces card
// payments on both the BackendURL and the ReturnURL. Deduper helps.
type NotificationFunc func(ctx context.Context, n *ResponseOrderPayQuery) error

// BackendHandler serves the BackendURL: the bank's server-to-server
// notification, a JSON POST {"ShopNo":…,"PayToken":…}.
//
// The notification carries no signature, so the handler never trusts it:
// it checks its shape and ShopNo, asks the bank with QueryPayment (signed
// and verified), and hands that verified result to fn, whatever the
// payment's outcome (check n.Paid()). It answers {"Status":"S"} only after
// fn returned nil; otherwise the bank resends later:
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
func (c *Client) BackendHandler(fn NotificationFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			answer(w, http.StatusMethodNotAllowed)
			return
		}
		if !jsonContent(r.Header.Get("Content-Type")) {
			answer(w, http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotificationBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				answer(w, http.StatusRequestEntityTooLarge)
				return
			}
			answer(w, http.StatusBadRequest)
			return
		}
		var note struct{ ShopNo, PayToken string }
		if json.Unmarshal(body, &note) != nil || note.ShopNo != c.shopNo || checkPayToken(note.PayToken) != nil {
			answer(w, http.StatusBadRequest)
			return
		}
		res, err := c.QueryPayment(r.Context(), note.PayToken)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ae.Code == CodePayTokenInvalid {
				answer(w, http.StatusBadRequest)
				return
			}
			answer(w, http.StatusInternalServerError)
			return
		}
		if err := fn(r.Context(), res); err != nil {
			answer(w, http.StatusInternalServerError)
			return
		}
		answer(w, http.StatusOK)
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

// Deduper makes a NotificationFunc run once per PayToken: after it
// succeeded for a token, repeats of that token within TTL succeed without
// calling it again, and a repeat that arrives while the first is still
// running waits for it and shares its outcome. A failed run is not
// remembered, so the bank's next resend tries again. It remembers at most
// a bounded number of tokens (the oldest are forgotten first), in memory
// only: with several processes, or across restarts, fn must still be
// idempotent on its own (e.g. keyed on OrderNo and APType in a database).
// A Deduper is safe for concurrent use.
type Deduper struct {
	ttl  time.Duration
	max  int
	now  func() time.Time
	mu   sync.Mutex
	done map[string]time.Time // token → when it succeeded
	fifo []string             // tokens of done in the order they succeeded
	busy map[string]*flight
}

type flight struct {
	wait chan struct{}
	err  error
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
	return &Deduper{ttl: ttl, max: max, now: time.Now, done: map[string]time.Time{}, busy: map[string]*flight{}}
}

// Once wraps fn so that it runs once per PayToken (see Deduper).
func (d *Deduper) Once(fn NotificationFunc) NotificationFunc {
	return func(ctx context.Context, n *ResponseOrderPayQuery) error {
		key := n.PayToken
		d.mu.Lock()
		if t, ok := d.done[key]; ok && d.now().Sub(t) < d.ttl {
			d.mu.Unlock()
			return nil
		}
		if f, ok := d.busy[key]; ok {
			d.mu.Unlock()
			select {
			case <-f.wait:
				return f.err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		f := &flight{wait: make(chan struct{})}
		d.busy[key] = f
		d.mu.Unlock()

		completed := false
		defer func() {
			if !completed {
				f.err = errPanicked // fn panicked: waiters fail, the bank resends
			}
			d.mu.Lock()
			delete(d.busy, key)
			if f.err == nil {
				d.remember(key)
			}
			d.mu.Unlock()
			close(f.wait)
		}()
		f.err = fn(ctx, n)
		completed = true
		return f.err
	}
}

var errPanicked = errors.New("sinopac: notification handler panicked")

// Seen reports whether a run for payToken succeeded within TTL.
func (d *Deduper) Seen(payToken string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.done[payToken]
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
