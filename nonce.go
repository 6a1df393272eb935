package sinopac

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// NonceMaxAge is how long a prefetched nonce is kept. The bank honours a
// nonce for 60 s from issue; the margin covers clock skew and the trip.
const NonceMaxAge = 45 * time.Second

// nonce returns a nonce never used before: from the prefetch pool when it
// holds a fresh one, else fetched now.
func (c *Client) nonce(ctx context.Context) (string, error) {
	if c.nonces != nil {
		if n, ok := c.nonces.take(); ok {
			return n, nil
		}
	}
	return c.fetchNonce(ctx, false)
}

// fetchNonce is POST {base}/Nonce with {"ShopNo":…}. Any failure of it
// leaves the call at stageNonce (attempt records that): the Order request
// was never made. The nonce reply is never sealed, so a Status F in it is
// unverified.
func (c *Client) fetchNonce(ctx context.Context, prefetch bool) (nonce string, err error) {
	ctx, obs := c.observeNonceStart(ctx, prefetch)
	defer func() { obs.end(err) }()
	// post waits for the rate limiter; a prefetch has its turn already
	// (noncePool.spare).
	rep, _, err := c.post(ctx, nonceEndpoint, "/Nonce", c.nonceBody, stageNonce)
	if err != nil {
		return "", err
	}
	defer rep.release()
	if rep.status != http.StatusOK {
		return "", c.gatewayError(nonceEndpoint, rep.status, rep.header, rep.body)
	}
	var r struct{ Nonce, Status, Description string }
	if env, ok := readEnvelope(rep.body); ok && len(env.message) == 0 {
		// The common reply, read as encoding/json reads it (readEnvelope).
		r.Nonce, r.Status, r.Description = env.nonce, env.status, env.description
	} else if err := json.Unmarshal(rep.body, &r); err != nil {
		return "", c.gatewayError(nonceEndpoint, rep.status, rep.header, rep.body)
	}
	switch {
	case r.Nonce != "" && validNonce(r.Nonce):
		return r.Nonce, nil
	case r.Nonce == "" && r.Status != "":
		ae := apiError(nonceEndpoint, r.Status, r.Description)
		ae.Unverified = true
		return "", ae
	}
	return "", &MessageError{Service: nonceEndpoint, Reason: "reply holds no usable Nonce"}
}

// validNonce accepts printable ASCII of sane length: the nonce goes into
// the IV hash and the envelope verbatim.
func validNonce(n string) bool {
	if len(n) > 512 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] <= ' ' || n[i] > '~' {
			return false
		}
	}
	return true
}

// WithNoncePrefetch keeps up to n nonces fetched ahead, so that a call
// costs one round trip (the Order POST) instead of two. The pool is
// refilled alongside each call's Order POST, never by a background
// goroutine; a nonce is used at most once and dropped unused after
// NonceMaxAge. Off by default.
//
// With WithRateLimit, prefetching never makes a call wait: the Order POST
// takes its turn first, a prefetch only uses a turn that is free at once
// (it is skipped otherwise), and the pool holds no more nonces than calls
// are running at the time, so that the rate budget is not spent on nonces
// that would expire unused.
func WithNoncePrefetch(n int) Option {
	return func(c *Client) error {
		if n < 1 || n > 16 {
			return &ValidationError{Field: "NoncePrefetch", Reason: "must be 1 to 16"}
		}
		c.nonces = &noncePool{size: n, now: time.Now}
		return nil
	}
}

type pooledNonce struct {
	value string
	at    time.Time
}

// noncePool hands each nonce out once, in the order fetched.
type noncePool struct {
	size  int
	now   func() time.Time
	fetch func(context.Context) (string, error)
	// spare, when set (WithRateLimit), takes a turn of the rate budget
	// for one prefetch if one is free now; the pool then also holds no
	// more nonces than calls are running.
	spare func() bool

	mu       sync.Mutex
	free     []pooledNonce
	inflight int // fetches under way
	calls    int // calls between begin and end
}

// begin and end bracket a call that may take from the pool: with a rate
// limit, the calls running at once are what the pool is for.
func (p *noncePool) begin() { p.mu.Lock(); p.calls++; p.mu.Unlock() }
func (p *noncePool) end()   { p.mu.Lock(); p.calls--; p.mu.Unlock() }

func (p *noncePool) take() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for len(p.free) > 0 {
		n := p.free[0]
		p.free = p.free[1:]
		if now.Sub(n.at) < NonceMaxAge {
			return n.value, true
		}
	}
	return "", false
}

// drop discards the pooled nonces, e.g. after the bank refused one of
// their generation. Fetches in flight still land: they are newer.
func (p *noncePool) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = nil
}

// fill fetches nonces until the pool (with fetches in flight) is full.
// It runs beside a call's Order POST and returns when its fetches end.
func (p *noncePool) fill(ctx context.Context) {
	p.mu.Lock()
	target := p.size
	if p.spare != nil {
		target = min(p.size, p.calls)
	}
	want := target - len(p.free) - p.inflight
	if p.spare != nil {
		// Only turns that are free now, never one a call would wait for.
		got := 0
		for got < want && p.spare() {
			got++
		}
		want = got
	}
	if want <= 0 {
		p.mu.Unlock()
		return
	}
	p.inflight += want
	p.mu.Unlock()

	var wg sync.WaitGroup
	for i := 0; i < want; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := p.fetch(ctx)
			p.mu.Lock()
			defer p.mu.Unlock()
			p.inflight--
			if err == nil {
				p.free = append(p.free, pooledNonce{n, p.now()})
			}
		}()
	}
	wg.Wait()
}
