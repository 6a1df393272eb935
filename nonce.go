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
	body, _ := json.Marshal(struct{ ShopNo string }{c.shopNo})
	rep, _, err := c.post(ctx, nonceEndpoint, "/Nonce", body, stageNonce)
	if err != nil {
		return "", err
	}
	defer rep.release()
	if rep.status != http.StatusOK {
		return "", c.gatewayError(nonceEndpoint, rep.status, rep.header, rep.body)
	}
	var r struct{ Nonce, Status, Description string }
	if err := json.Unmarshal(rep.body, &r); err != nil {
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
// refilled alongside each call, never by a background goroutine; a nonce is
// used at most once and dropped unused after NonceMaxAge. Off by default.
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

	mu       sync.Mutex
	free     []pooledNonce
	inflight int
}

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
	want := p.size - len(p.free) - p.inflight
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
