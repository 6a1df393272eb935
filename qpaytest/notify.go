package qpaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/google/go-querystring/query"
)

// NotifyKind names the URL a notification goes to.
type NotifyKind string

const (
	// NotifyBackend is the server-to-server JSON POST to BackendURL, resent
	// until answered {"Status":"S"}.
	NotifyBackend NotifyKind = "BackendURL"
	// NotifyReturn is the customer's browser form POST to ReturnURL (card
	// orders), sent once.
	NotifyReturn NotifyKind = "ReturnURL"
)

// Delivery is one notification attempt of the server, in Deliveries.
type Delivery struct {
	Kind     NotifyKind
	URL      string
	OrderNo  string
	PayToken string
	APType   string    // what the token announces: PayOut, VARefundOut, …
	Attempt  int       // 1 for the first try; 2 to 6 for the BackendURL resends
	At       time.Time // by the server's clock
	Status   int       // the answer's HTTP status; 0 when none came (refused, timed out)
	// Acknowledged is whether the answer was HTTP 200 with the body exactly
	// {"Status":"S"} (white space around it aside): the bank then stops
	// resending. Anything else counts as not received.
	Acknowledged bool
}

// Deliveries returns every notification attempt so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// WaitIdle waits until the server has no timer callback or notification
// attempt under way: every notification due by now (by the server's clock)
// has been attempted and is in Deliveries, and the effects of timers that
// fired are done. Resends that fall due later are not waited for (with a
// Clock, Advance makes them happen). It returns ctx's error if ctx ends
// first.
func (s *Server) WaitIdle(ctx context.Context) error {
	s.mu.Lock()
	if s.busy == 0 {
		s.mu.Unlock()
		return nil
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notice is one notification to deliver.
type notice struct {
	kind                    NotifyKind
	url, orderNo, token, ap string
	contentType             string
	body                    []byte
}

type notification struct {
	ShopNo   string `json:"ShopNo" url:"ShopNo"`
	PayToken string `json:"PayToken" url:"PayToken"`
}

// notifyPayment sends the bank's notifications for token (announcing
// apType) in the background: the BackendURL JSON POST (resent every
// WithNotifyRetry interval, at most 5 times, until answered {"Status":"S"})
// and, for card orders, the ReturnURL form POST. Close stops them.
func (s *Server) notifyPayment(rec record, token, apType string) {
	s.notifyURLs(rec, token, apType, true)
}

// notifyBackend is notifyPayment without the ReturnURL post: after a
// payment on the server's pages the customer's browser makes that one.
func (s *Server) notifyBackend(rec record, token, apType string) {
	s.notifyURLs(rec, token, apType, false)
}

func (s *Server) notifyURLs(rec record, token, apType string, withReturn bool) {
	n := notification{ShopNo: s.cfg.shopNo, PayToken: token}
	var out []notice
	if rec.BackendURL != "" {
		body, _ := json.Marshal(n)
		out = append(out, notice{NotifyBackend, rec.BackendURL, rec.Order.OrderNo, token, apType, "application/json", body})
	}
	if withReturn && rec.ReturnURL != "" && (rec.Order.PayType == sinopac.PayTypeCard || rec.Order.PayType == sinopac.PayTypeCardTrust) {
		if v, err := query.Values(n); err == nil {
			out = append(out, notice{NotifyReturn, rec.ReturnURL, rec.Order.OrderNo, token, apType,
				"application/x-www-form-urlencoded", []byte(v.Encode())})
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range out {
		s.goLocked(func() { s.deliver(n, 1) })
	}
}

// deliver makes the attempt-th try of n now and, for a BackendURL that did
// not acknowledge it, schedules the next one.
func (s *Server) deliver(n notice, attempt int) {
	d, made := s.postOnce(n, attempt)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !made {
		return // Close interrupted it
	}
	s.deliveries = append(s.deliveries, d)
	if n.kind == NotifyBackend && !d.Acknowledged && attempt <= notifyRetries {
		s.afterLocked(s.cfg.notifyRetry, func() { s.deliver(n, attempt+1) })
	}
}

// ackBody is the only answer the bank takes as received.
var ackBody = []byte(`{"Status":"S"}`)

// Acknowledges reports whether a merchant's answer to a BackendURL
// notification counts as received, as the bank counts it: HTTP 200 with
// the body exactly {"Status":"S"} (white space around it aside). Any other
// answer, a redirect included (the bank follows none), is resent.
func Acknowledges(status int, body []byte) bool {
	return status == http.StatusOK && bytes.Equal(bytes.TrimSpace(body), ackBody)
}

// postOnce posts n and reports the attempt; made is false when the server
// was closed before or during it.
func (s *Server) postOnce(n notice, attempt int) (d Delivery, made bool) {
	d = Delivery{Kind: n.kind, URL: n.url, OrderNo: n.orderNo, PayToken: n.token, APType: n.ap,
		Attempt: attempt, At: s.now()}
	ctx := s.ctx
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(n.body))
	if err != nil {
		return d, ctx.Err() == nil
	}
	req.Header.Set("Content-Type", n.contentType)
	resp, err := s.notify.Do(req)
	if err != nil {
		return d, ctx.Err() == nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	d.Status = resp.StatusCode
	d.Acknowledged = Acknowledges(resp.StatusCode, b)
	return d, ctx.Err() == nil
}
