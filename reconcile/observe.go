package reconcile

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/funbiz-go/sinopac"
)

// A pass reports to the Observer of each shop's client
// (sinopac.Client.Observer): one ReconcileStart and ReconcileEnd per shop
// and pass, with that shop's counts and what it has left. One Reconciler
// serves many shops, each with a client and so an Observer of its own;
// reporting per shop keeps every report with the client that did the
// work, and its attributes low-cardinality: a ShopNo, never an OrderNo.
// A shop is reported when the pass looked its orders up, or when it has
// orders pending (none due), so that its backlog is measured every pass.

// shopPass is one shop's share of a pass.
type shopPass struct {
	sum      Summary // its counts; Duration and the backlog are set at the end
	errs     []error // failures of its orders
	ctx      context.Context
	obs      sinopac.Observer
	observed bool // ReconcileStart was called
	begun    time.Time
}

// pass is one Run: its shops' shares.
type pass struct {
	ctx   context.Context
	mu    sync.Mutex
	shops map[string]*shopPass
}

func newPass(ctx context.Context) *pass { return &pass{ctx: ctx, shops: map[string]*shopPass{}} }

// shop is shopNo's share of the pass. The lookups of different shops call
// it concurrently; each share is then written by one goroutine at a time.
func (p *pass) shop(shopNo string) *shopPass {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.shops[shopNo]
	if !ok {
		s = &shopPass{sum: Summary{Events: map[Kind]int{}}, ctx: p.ctx}
		p.shops[shopNo] = s
	}
	return s
}

// observe reports the start of shopNo's share to client's Observer, once
// per pass, and returns the context the shop's calls and handler run with.
func (p *pass) observe(shopNo string, client *sinopac.Client) context.Context {
	s := p.shop(shopNo)
	if !s.observed {
		s.observed, s.obs, s.begun = true, client.Observer(), time.Now()
		if s.obs.ReconcileStart != nil {
			if ctx := s.obs.ReconcileStart(s.ctx, sinopac.ReconcileInfo{ShopNo: shopNo}); ctx != nil {
				s.ctx = ctx
			}
		}
	}
	return s.ctx
}

// finish measures the backlog, reports every shop's share to its
// Observer and returns the pass's Summary and error: passErrs (claiming,
// the context) and every shop's failures, joined.
func (r *Reconciler) finish(p *pass, passErrs []error, begun time.Time) (Summary, error) {
	// Measured even when the pass was cancelled: the backlog is what an
	// operator looks at when passes fail.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.ctx), 5*time.Second)
	defer cancel()
	backlog, err := r.store.Backlog(ctx)
	if err != nil {
		passErrs = append(passErrs, err)
	}
	now := r.now()
	sum := Summary{Events: map[Kind]int{}}
	for _, b := range backlog {
		s := p.shop(b.ShopNo)
		s.sum.Pending, s.sum.OldestPending = b.Pending, max(0, now.Sub(b.Oldest))
		sum.Pending += b.Pending
		sum.OldestPending = max(sum.OldestPending, s.sum.OldestPending)
	}
	errs := slices.Clone(passErrs)
	for _, shop := range slices.Sorted(maps.Keys(p.shops)) {
		s := p.shops[shop]
		sum.Checked += s.sum.Checked
		sum.Queries += s.sum.Queries
		sum.Failed += s.sum.Failed
		for k, n := range s.sum.Events {
			sum.Events[k] += n
		}
		errs = append(errs, s.errs...)
		if !s.observed {
			client, rerr := r.resolve(ctx, shop)
			if rerr != nil {
				continue // no client, no Observer; its orders' lookups report the error
			}
			p.observe(shop, client)
		}
		if s.obs.ReconcileEnd == nil {
			continue
		}
		events := make(map[string]int, len(s.sum.Events))
		for k, n := range s.sum.Events {
			events[string(k)] = n
		}
		s.obs.ReconcileEnd(s.ctx, sinopac.ReconcileDone{ReconcileInfo: sinopac.ReconcileInfo{ShopNo: shop},
			Checked: s.sum.Checked, Queries: s.sum.Queries, Failed: s.sum.Failed, Events: events,
			Backlog: err == nil, Pending: s.sum.Pending, OldestPending: s.sum.OldestPending,
			Class: sinopac.ErrorClassOf(errors.Join(append(slices.Clone(passErrs), s.errs...)...)), Duration: time.Since(s.begun)})
	}
	sum.Duration = time.Since(begun)
	return sum, errors.Join(errs...)
}
