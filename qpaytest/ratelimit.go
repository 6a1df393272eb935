package qpaytest

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// WithRateLimit makes the gateway refuse requests beyond perSecond on
// average, in bursts of at most burst, the way the bank's gateway does
// (about 5 requests a second per shop): HTTP 429 with a Retry-After header
// and an unencrypted body, before any QPay processing, so the refused
// request uses no nonce and changes nothing. Nonce and Order requests
// count alike. The bucket follows real time, not WithClock's clock. Each
// refusal is counted in Stats.RateLimited. One Server serves one shop:
// this is that shop's limit.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) {
		if perSecond <= 0 || burst < 1 {
			c.rateLimit = nil
			return
		}
		c.rateLimit = &gatewayLimit{lim: rate.NewLimiter(rate.Limit(perSecond), burst),
			retryAfter: max(1, int(math.Ceil(1/perSecond)))}
	}
}

// gatewayLimit is the token bucket of WithRateLimit.
type gatewayLimit struct {
	lim        *rate.Limiter
	retryAfter int // seconds
}

// rateLimited answers 429 and reports true when the request is over the
// limit.
func (s *Server) rateLimited(w http.ResponseWriter) bool {
	l := s.cfg.rateLimit
	if l == nil || l.lim.AllowN(time.Now(), 1) {
		return false
	}
	s.mu.Lock()
	s.stats.RateLimited++
	s.mu.Unlock()
	w.Header().Set("Retry-After", strconv.Itoa(l.retryAfter))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"statusCode":429,"message":"Rate limit is exceeded. Try again in ` + strconv.Itoa(l.retryAfter) + ` seconds."}`))
	return true
}
