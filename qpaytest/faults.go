package qpaytest

import (
	"time"

	"github.com/funbiz-go/sinopac"
)

// Fault makes the server misbehave for the next Times matching requests
// (Times 0 means once, -1 forever). Service selects them by APIService
// ("Nonce" for the nonce endpoint, "OrderQuery", …; "" matches any).
//
// Without AfterProcessing, Delay applies first (a client that gives up
// meanwhile leaves the request unprocessed); then Status, Plain or Code
// replace the answer, and the request is not processed; then BadSign,
// Garble and DropReply spoil a normally processed reply.
//
// With AfterProcessing (Order requests only), the request is processed
// fully first, as the bank would; then Delay, then Status (with Body) or
// Plain (an unsigned {"Status":"F"} body with Code, E9999 by default)
// replace the sealed reply, or BadSign, Garble and DropReply spoil it. This
// is the bank acting on a request whose answer the client never gets: a
// 5xx or 429 from the gateway behind it, an unsigned error body, a reply
// later than the client's deadline.
type Fault struct {
	Service   string            // "Nonce", "OrderQuery", … ; "" = any request
	Times     int               // 0 = once, -1 = forever
	Status    int               // answer with this HTTP status (and Body) instead
	Body      string            // body for Status
	Header    map[string]string // headers added to the answer, e.g. Retry-After
	Delay     time.Duration     // sleep first (honours the request's context)
	Code      sinopac.Code      // answer a sealed Status F reply with this code (e.g. "E9900")
	BadSign   bool              // sealed reply whose Sign is wrong
	Garble    bool              // reply Message corrupted (not decryptable)
	Plain     bool              // unencrypted JSON error body {"Status":"F","Description":...}
	DropReply bool              // process the request fully, then drop the connection without a reply
	// AfterProcessing processes the request before the fault answers it.
	AfterProcessing bool
}

// WithQueryLag makes OrderQuery trail the book by d, like the bank's
// (protocol §9: results can lag a few minutes): an order whose TSDate, or
// a refund whose RefundDate, is within d of the server's clock is not yet
// returned (an order's refund totals are those of its visible refunds).
// The dates are to the minute, so an entry stays hidden until d after the
// end of its minute. Other services see the book as it is.
func WithQueryLag(d time.Duration) Option { return func(c *config) { c.queryLag = d } }

// visible is what OrderQuery shows of o at now under the query lag, and
// whether it shows the order at all.
func (s *Server) visible(o sinopac.Order, now time.Time) (sinopac.Order, bool) {
	lag := s.cfg.queryLag
	if lag <= 0 {
		return o, true
	}
	settled := func(ts sinopac.Timestamp) bool { return !ts.Time().Add(time.Minute).After(now.Add(-lag)) }
	if !settled(o.TSDate) {
		return o, false
	}
	if len(o.RefundList) == 0 {
		return o, true
	}
	var shown []sinopac.Refund
	var total sinopac.Amount
	for _, rf := range o.RefundList {
		if settled(rf.RefundDate) {
			shown = append(shown, rf)
			if !rf.RefundStatus.Failed() {
				total += rf.RefundAmount
			}
		}
	}
	o.RefundList = shown
	o.RefundFlag, o.RefundStatus, o.RefundDate, o.RefundAmount = "N", "", sinopac.Timestamp{}, 0
	if n := len(shown); n > 0 {
		last := shown[n-1]
		o.RefundFlag, o.RefundStatus, o.RefundDate, o.RefundAmount = "Y", last.RefundStatus, last.RefundDate, total
	}
	return o, true
}

type faultState struct {
	f    Fault
	left int // -1 = forever
}

// InjectFault queues f. Faults are matched in the order injected; a request
// takes at most one.
func (s *Server) InjectFault(f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultState{f: f, left: left})
	s.mu.Unlock()
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault returns (a copy of) the first fault matching service and uses
// up one of its times, or nil.
func (s *Server) takeFault(service string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, fs := range s.faults {
		if fs.f.Service != "" && fs.f.Service != service {
			continue
		}
		f := fs.f
		if fs.left > 0 {
			fs.left--
			if fs.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}
