package qpaytest

import (
	"time"

	"github.com/funbiz-go/sinopac"
)

// Fault makes the server misbehave for the next Times matching requests
// (Times 0 means once, -1 forever). Service selects them by APIService
// ("Nonce" for the nonce endpoint, "OrderQuery", …; "" matches any).
// Delay applies first; then Status, Plain or Code replace the answer; then
// BadSign, Garble and DropReply spoil a normally processed reply.
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
