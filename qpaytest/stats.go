package qpaytest

import "maps"

// Stats counts what the server saw since it started.
type Stats struct {
	NoncesIssued  int
	NoncesReused  int            // requests that presented an already-used nonce (must stay 0 for our SDK)
	NoncesExpired int            // requests whose nonce was older than NonceLifetime
	Requests      map[string]int // per APIService, plus "Nonce" (requests past the gateway checks; "" for an unreadable envelope)
	BadSigns      int            // requests whose Message did not decrypt or whose Sign did not verify
	RateLimited   int            // requests refused with HTTP 429 by WithRateLimit
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Requests = maps.Clone(s.stats.Requests)
	return st
}
