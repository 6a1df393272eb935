package sinopac

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// QueryAllOption configures AllOrders and QueryAllOrders.
type QueryAllOption func(*queryAllConfig) error

type queryAllConfig struct {
	concurrency int
	progress    func(Progress)
	maxPages    int
}

// DefaultQueryConcurrency is how many OrderQuery calls AllOrders and
// QueryAllOrders keep in flight unless WithConcurrency says otherwise. The
// gateway allows about 5 requests a second and every call costs two (Nonce
// and Order).
const DefaultQueryConcurrency = 2

// WithConcurrency sets how many pages are fetched at once (1 to 16).
func WithConcurrency(n int) QueryAllOption {
	return func(c *queryAllConfig) error {
		if n < 1 || n > 16 {
			return &ValidationError{Field: "Concurrency", Reason: fmt.Sprintf("must be 1 to 16, got %d", n)}
		}
		c.concurrency = n
		return nil
	}
}

// WithProgress calls f after every page, once the page's new orders have
// been yielded (AllOrders) or collected (QueryAllOrders). Calls are
// serialised (never concurrent) and made from the goroutine that ranges
// over AllOrders (or that called QueryAllOrders), so f must return quickly.
func WithProgress(f func(Progress)) QueryAllOption {
	return func(c *queryAllConfig) error {
		c.progress = f
		return nil
	}
}

// WithMaxPages bounds the OrderQuery calls of one walk. Past the budget it
// launches no more pages and ends with an error matching ErrPageBudget.
// 0 means no bound.
func WithMaxPages(n int) QueryAllOption {
	return func(c *queryAllConfig) error {
		if n < 0 {
			return &ValidationError{Field: "MaxPages", Reason: "must not be negative"}
		}
		c.maxPages = n
		return nil
	}
}

// Progress is a walk's state after a page.
type Progress struct {
	Pages   int // OrderQuery pages answered (or failed) so far
	Pending int // windows still to query, in flight included
	Orders  int // distinct orders found (and yielded) so far
}

// ErrPageBudget is matched (errors.Is) by the error of a walk that
// WithMaxPages stopped before the range was covered.
var ErrPageBudget = errors.New("sinopac: QueryAllOrders page budget exhausted")

// SaturatedWindowError reports a window the walk could not split any
// further and that still returned a full page: one minute, one PayType and
// one PayFlag holding MaxOrdersPerQuery orders or more. The orders the bank
// has beyond that page cannot be listed with OrderQuery.
type SaturatedWindowError struct {
	Field      string    // the range split: "OrderDateTime" or "PayDateTime"
	Start, End time.Time // the window, whole minutes, inclusive, in Taipei
	PayType    PayType
	PayFlag    PayFlag
}

func (e *SaturatedWindowError) Error() string {
	return fmt.Sprintf("sinopac: QueryAllOrders: %s %s–%s PayType %s PayFlag %s still returns %d orders; more may exist",
		e.Field, wireMinute(e.Start), wireMinute(e.End), e.PayType, e.PayFlag, MaxOrdersPerQuery)
}

// AllOrders streams every order matching q, however many: where the bank's
// page of at most MaxOrdersPerQuery orders is full, the walk splits the
// date range (to the minute), then a single minute by PayType (those q does
// not fix) and then by PayFlag, and queries the parts. Every page goes
// through QueryOrders, so the client's rate limit and retry policy apply.
//
// Each order is yielded once (by OrderNo and TSNo), as its page arrives, in
// no particular order. Memory stays at a few pages plus the keys of the
// orders yielded, however large the range.
//
// When the range is covered the sequence ends after the last order. When
// it cannot be, the last pair carries a zero Order and the error that says
// why the orders yielded may be incomplete: a page that failed (the first
// such error, wrapped), the cancelled ctx, ErrPageBudget, or one
// *SaturatedWindowError per window that could not be split further (joined
// with errors.Join; use errors.As). An invalid q or option is the only pair.
//
// Breaking out of the loop cancels the pages in flight; the loop statement
// returns once they have ended, so no goroutine outlives it. Every range
// over the sequence is a walk of its own.
//
// q needs an OrderDateTime or a PayDateTime range; the OrderDateTime range
// is the one split when both are set. OrderNo is refused with a
// *ValidationError: one order needs no walk, use QueryOrders.
func (c *Client) AllOrders(ctx context.Context, q QueryConditions, opts ...QueryAllOption) iter.Seq2[Order, error] {
	w, err := c.newWalk(q, opts)
	if err != nil {
		return func(yield func(Order, error) bool) { yield(Order{}, err) }
	}
	return func(yield func(Order, error) bool) { w.run(ctx, yield) }
}

// QueryAllOrders returns every order matching q: it collects AllOrders
// (see there for how the range is walked) and sorts the orders by TSDate,
// OrderNo and TSNo. The error is nil only when the whole range was covered.
// Otherwise the orders found are returned with the error AllOrders ends
// with, saying why they may be incomplete. Memory grows with the orders
// held; AllOrders does not.
//
// Split points follow the density measured in the pages so far, so that
// evenly spread orders take close to ceil(N/300) calls. Correctness does
// not depend on which 300 matches the bank puts in a full page.
func (c *Client) QueryAllOrders(ctx context.Context, q QueryConditions, opts ...QueryAllOption) ([]Order, error) {
	w, err := c.newWalk(q, opts)
	if err != nil {
		return nil, err
	}
	orders := []Order{}
	var werr error
	w.run(ctx, func(o Order, err error) bool {
		if err != nil {
			werr = err
			return false
		}
		orders = append(orders, o)
		return true
	})
	slices.SortFunc(orders, func(a, b Order) int {
		if c := a.TSDate.Time().Compare(b.TSDate.Time()); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.OrderNo, b.OrderNo), cmp.Compare(a.TSNo, b.TSNo))
	})
	return orders, werr
}

// walk is one validated request to list a range; run may be called more
// than once (each call is a walk of its own).
type walk struct {
	page  func(context.Context, QueryConditions) ([]Order, error)
	q     QueryConditions
	cfg   queryAllConfig
	field string // "OrderDateTime" or "PayDateTime"
	s, e  int64  // the range, Unix minutes, inclusive
}

func (c *Client) newWalk(q QueryConditions, opts []QueryAllOption) (*walk, error) {
	cfg := queryAllConfig{concurrency: DefaultQueryConcurrency}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.OrderNo != "" {
		return nil, &ValidationError{Field: "OrderNo", Reason: "AllOrders and QueryAllOrders walk a date range; use QueryOrders to look up one order"}
	}
	w := &walk{q: q, cfg: cfg, page: func(ctx context.Context, q QueryConditions) ([]Order, error) {
		r, err := c.QueryOrders(ctx, q)
		if err != nil {
			return nil, err
		}
		return r.OrderList, nil
	}}
	switch {
	case !q.OrderDateTimeS.IsZero():
		w.field, w.s, w.e = "OrderDateTime", unixMinute(q.OrderDateTimeS), unixMinute(q.OrderDateTimeE)
	case !q.PayDateTimeS.IsZero():
		w.field, w.s, w.e = "PayDateTime", unixMinute(q.PayDateTimeS), unixMinute(q.PayDateTimeE)
	default:
		return nil, &ValidationError{Field: "OrderDateTimeS", Reason: "AllOrders and QueryAllOrders need an OrderDateTime or PayDateTime range"}
	}
	return w, nil
}

func unixMinute(t time.Time) int64 { return t.Unix() / 60 }

func minuteTime(m int64) time.Time { return time.Unix(m*60, 0).In(Taipei) }

// window is one OrderQuery: minutes s to e inclusive (Unix minutes), with
// PayType and PayFlag fixed when set (else q's apply).
type window struct {
	s, e int64
	pt   PayType
	pf   PayFlag
	// est and sd: the orders expected when the window was carved with an
	// estimate, and that estimate's standard deviation; sd 0 otherwise.
	est, sd float64
}

func (w window) minutes() int64 { return w.e - w.s + 1 }

func (w *walk) conditions(win window) QueryConditions {
	q := w.q
	s, e := minuteTime(win.s), minuteTime(win.e)
	if w.field == "OrderDateTime" {
		q.OrderDateTimeS, q.OrderDateTimeE = s, e
	} else {
		q.PayDateTimeS, q.PayDateTimeE = s, e
	}
	if win.pt != "" {
		q.PayType = win.pt
	}
	if win.pf != "" {
		q.PayFlag = win.pf
	}
	return q
}

type pageResult struct {
	w      window
	orders []Order
	err    error
}

// appendKey appends o's key (OrderNo and TSNo, the first prefixed with
// its length so that no two pairs give the same key) to b. The set of keys
// seen holds them as strings of their own: one small allocation per order,
// and never a reference into a page.
func appendKey(b []byte, o *Order) []byte {
	b = binary.AppendUvarint(b, uint64(len(o.OrderNo)))
	return append(append(b, o.OrderNo...), o.TSNo...)
}

// run walks the range, yielding each new order and, if the range could not
// be covered, the error last. It returns when yield says stop, with every
// page goroutine ended.
func (w *walk) run(parent context.Context, yield func(Order, error) bool) {
	ctx, cancel := context.WithCancel(parent)
	results := make(chan pageResult, w.cfg.concurrency) // never blocks a page goroutine
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	p := newPlanner(w.field, w.q, w.s, w.e)
	seen := map[string]struct{}{}
	var key []byte
	var (
		pages, inflight int
		pageErr         error
		saturated       []error
		budgetHit       bool
	)
	for {
		for pageErr == nil && ctx.Err() == nil && p.pending() && inflight < w.cfg.concurrency {
			if w.cfg.maxPages > 0 && pages+inflight >= w.cfg.maxPages {
				budgetHit = true
				break
			}
			win, ok := p.next(inflight)
			if !ok {
				break // wait for the page that sets the scale
			}
			inflight++
			wg.Add(1)
			go func() {
				defer wg.Done()
				orders, err := w.page(ctx, w.conditions(win))
				results <- pageResult{w: win, orders: orders, err: err}
			}()
		}
		if inflight == 0 {
			break
		}
		r := <-results
		inflight--
		pages++
		if r.err != nil {
			if pageErr == nil {
				pageErr = r.err
				cancel() // stop the other pages; their errors add nothing
			}
		} else {
			for i := range r.orders {
				key = appendKey(key[:0], &r.orders[i])
				if _, dup := seen[string(key)]; dup {
					continue
				}
				seen[string(key)] = struct{}{}
				if !yield(r.orders[i], nil) {
					return
				}
			}
			if err := p.done(r.w, r.orders); err != nil {
				saturated = append(saturated, err)
			}
		}
		if w.cfg.progress != nil {
			w.cfg.progress(Progress{Pages: pages, Pending: p.count() + inflight, Orders: len(seen)})
		}
	}
	var err error
	switch {
	case pageErr != nil:
		if perr := parent.Err(); perr != nil && !errors.Is(pageErr, perr) {
			pageErr = perr
		}
		err = fmt.Errorf("sinopac: QueryAllOrders incomplete, a page failed: %w", pageErr)
	case parent.Err() != nil && p.pending():
		err = fmt.Errorf("sinopac: QueryAllOrders incomplete, %d windows not queried: %w", p.count(), parent.Err())
	case budgetHit && p.pending():
		err = fmt.Errorf("sinopac: QueryAllOrders incomplete after %d pages, %d windows not queried: %w", pages, p.count(), ErrPageBudget)
	case len(saturated) > 0:
		err = errors.Join(saturated...)
	}
	if err != nil {
		yield(Order{}, err)
	}
}

// The planner decides the windows. It keeps the parts of the range not yet
// covered as regions on a stack, the earliest on top, and carves the next
// window off the top region when a page can be launched, sized with what
// the pages so far have shown: the density (orders per minute) of the
// windows already complete and, until there is one, the orders of the full
// page the region came from. A full page never says how many orders its
// window holds (the bank may return the earliest 300, the latest, or any),
// only that there are at least 300 and, in its sample, where they lie.
type planner struct {
	field string
	q     QueryConditions
	stack []region

	doneCount int64 // orders in complete time windows
	doneMins  int64 // minutes of complete time windows
	day       dayProfile

	// misses and missed: the squared misses of carved windows, in
	// standard deviations, and how many: their mean (with a prior of 1)
	// scales the variance the next windows are sized with.
	misses float64
	missed int
}

// region is a part of the range still to cover: minutes s to e inclusive,
// with PayType and PayFlag fixed when set.
type region struct {
	s, e int64
	pt   PayType
	pf   PayFlag
	// fresh: nothing is known of the region yet (the whole range, before
	// its first page); it is queried whole.
	fresh bool
	// full: the region is a window that returned a full page; it is only
	// ever queried in smaller parts, so the walk always progresses.
	full bool
	// seen holds, sorted, the minutes of the orders that the full page the
	// region came from showed in it: the region holds at least that many.
	seen []int64
	// When the page's orders did not span its window (the earliest or the
	// latest 300, say), rho is their density, taken to hold outside lo–hi,
	// the minutes they span. 0 when they spanned the window like a sample
	// of it: then they tell the shape, not the scale.
	rho    float64
	lo, hi int64
	sigma  float64 // the relative error of rho
}

func newPlanner(field string, q QueryConditions, s, e int64) *planner {
	return &planner{field: field, q: q, stack: []region{{s: s, e: e, fresh: true}}}
}

func (p *planner) pending() bool { return len(p.stack) > 0 }

// count is the number of regions still to query, each one window at least.
func (p *planner) count() int { return len(p.stack) }

// minDensityOrders is how many orders complete windows must hold before
// their density sizes the windows: below it, the noise of a small count
// outweighs a full page's extrapolation.
const minDensityOrders = 30

// probeShare is the share of a full page's orders the next window takes
// when nothing sets the scale (the page spanned its window like a sample
// of it): a window of a quarter holds fewer than 300 orders up to about
// 1,200 in the page's window, and if it does not, the walk tries a quarter
// of that.
const probeShare = 0.25

// overflowCost is what a window that comes back full costs beyond its own
// call: it takes two windows more, at least.
const overflowCost = 2

// next carves the window to query next off the top region. ok is false
// when the top region needs a probe and a page is in flight: that page may
// set the scale.
func (p *planner) next(inflight int) (window, bool) {
	p.merge()
	r := &p.stack[len(p.stack)-1]
	whole := window{s: r.s, e: r.e, pt: r.pt, pf: r.pf}
	if r.fresh || r.pt != "" || r.pf != "" || r.s == r.e {
		p.stack = p.stack[:len(p.stack)-1]
		return whole, true
	}
	est, sigma, scaled := p.estimate(r, r.s, r.e)
	var limit float64
	switch {
	case scaled:
		k := pieces(est, sigma, p.dispersion(), r.e-r.s+1)
		if r.full {
			k = max(k, 2)
		}
		if k == 1 {
			p.stack = p.stack[:len(p.stack)-1]
			whole.est, whole.sd = est, p.sd(est, sigma)
			return whole, true
		}
		limit = est / float64(k)
	case inflight > 0:
		return window{}, false
	case len(r.seen) == 0: // a page without usable times: halve
		return p.cut(r, r.s+(r.e-r.s)/2), true
	default:
		limit = float64(len(r.seen)) * probeShare
	}
	// The last minute b whose window s–b is expected to hold no more
	// than limit, keeping at least one minute for the window and one for
	// the rest.
	n := int(r.e - r.s) // candidates r.s … r.e-1
	i := sort.Search(n, func(i int) bool {
		est, _, _ := p.estimate(r, r.s, r.s+int64(i))
		return est > limit
	})
	b := r.s + int64(max(i-1, 0))
	if scaled {
		est, sigma, _ := p.estimate(r, r.s, b)
		win := p.cut(r, b)
		win.est, win.sd = est, p.sd(est, sigma)
		return win, true
	}
	return p.cut(r, b), true
}

// sd is the standard deviation of the count of a window expected to hold
// est orders with relative error sigma: that of a Poisson count plus that
// of the estimate, scaled by the dispersion the walk has seen.
func (p *planner) sd(est, sigma float64) float64 {
	return max(1, math.Sqrt(p.dispersion()*(est+sigma*sigma*est*est)))
}

// dispersion is how much more the counts of carved windows have missed
// their estimates than the model says: 1 when orders are spread at
// random, more when they cluster in ways the density does not capture.
func (p *planner) dispersion() float64 {
	const prior = 4 // windows' worth of belief in the model
	return max(1, (prior+p.misses)/float64(prior+p.missed))
}

// cut takes the window s–b off the top region r and returns it.
func (p *planner) cut(r *region, b int64) window {
	win := window{s: r.s, e: b}
	r.s, r.full = b+1, false
	r.seen = r.seen[countUpTo(r.seen, b):]
	return win
}

// merge joins the top region with the regions after it when they are
// contiguous time ranges and the density sizes the windows: a window may
// then run across the boundary instead of leaving a small part on each
// side.
func (p *planner) merge() {
	if p.density() == 0 {
		return
	}
	for len(p.stack) >= 2 {
		r, next := &p.stack[len(p.stack)-1], &p.stack[len(p.stack)-2]
		if r.fresh || next.fresh || r.full || next.full || r.pt != "" || r.pf != "" || next.pt != "" || next.pf != "" || next.s != r.e+1 {
			return
		}
		*next = region{s: r.s, e: next.e, seen: slices.Concat(r.seen, next.seen)}
		p.stack = p.stack[:len(p.stack)-1]
	}
}

// estimate returns the orders expected in minutes s–e of region r and the
// relative error of that expectation. scaled is false when nothing sets
// the scale: est is then only the orders the region is known to hold.
func (p *planner) estimate(r *region, s, e int64) (est, sigma float64, scaled bool) {
	known := float64(countUpTo(r.seen, e) - countUpTo(r.seen, s-1))
	if p.density() > 0 {
		// The orders seen are a floor; the page's extrapolation, a guess
		// the measured density replaces.
		return max(known, p.day.expect(s, e)), 1 / math.Sqrt(float64(p.doneCount)), true
	}
	if r.rho > 0 {
		outside := (e - s + 1) - max(0, min(e, r.hi)-max(s, r.lo)+1)
		return known + r.rho*float64(outside), r.sigma, true
	}
	return known, 0, false
}

// density is the orders per minute measured in complete time windows, once
// they hold minDensityOrders; else 0.
func (p *planner) density() float64 {
	if p.doneCount < minDensityOrders || p.doneMins == 0 {
		return 0
	}
	return float64(p.doneCount) / float64(p.doneMins)
}

// pieces returns into how many windows to cut a region expected to hold
// est orders (relative error sigma): the number that minimises the
// expected calls, a window that comes back full costing overflowCost more.
// A window's count is taken as normal with the variance of a Poisson count
// plus that of the estimate, times the dispersion.
func pieces(est, sigma, dispersion float64, maxPieces int64) int64 {
	first := max(1, int64(math.Ceil(est/(MaxOrdersPerQuery-1))))
	if first >= maxPieces {
		return maxPieces // one minute each: as small as windows get
	}
	best, bestCost := first, math.Inf(1)
	for k := first; k <= maxPieces; k++ {
		lam := est / float64(k)
		sd := max(1, math.Sqrt(dispersion*(lam+sigma*sigma*lam*lam)))
		full := 0.5 * math.Erfc((MaxOrdersPerQuery-0.5-lam)/(sd*math.Sqrt2))
		if cost := float64(k) * (1 + overflowCost*full); cost < bestCost {
			best, bestCost = k, cost
		}
		if full < 1e-3 {
			break // more windows only add calls
		}
	}
	return best
}

// done takes a page's answer: a window complete, or one to split. It
// returns a *SaturatedWindowError for a full window that cannot be split.
func (p *planner) done(win window, page []Order) error {
	if win.sd > 0 {
		// A full page counts as 300: the miss was at least that.
		z := (float64(len(page)) - win.est) / win.sd
		p.misses += z * z
		p.missed++
	}
	if len(page) < MaxOrdersPerQuery {
		if win.pt == "" && win.pf == "" {
			p.doneCount += int64(len(page))
			p.doneMins += win.minutes()
			p.day.add(win.s, win.e, p.minutes(page))
			if d := p.density(); d > 0 {
				p.day.update(d)
			}
		}
		return nil
	}
	switch {
	case win.minutes() > 1:
		p.stack = append(p.stack, p.regionOf(win, page))
	case win.pt == "" && p.q.PayType == "":
		for _, pt := range []PayType{PayTypeCardTrust, PayTypeMobile, PayTypeCard, PayTypeATM} {
			p.stack = append(p.stack, region{s: win.s, e: win.e, pt: pt, pf: win.pf})
		}
	case win.pf == "" && p.q.PayFlag == "":
		for _, pf := range []PayFlag{PayFlagExpired, PayFlagUnpaid, PayFlagPaid} {
			p.stack = append(p.stack, region{s: win.s, e: win.e, pt: win.pt, pf: pf})
		}
	default:
		return p.saturatedError(win)
	}
	return nil
}

// regionOf is the region of a full time window, with what its page shows:
// where its orders lie and, if they do not span the window like a sample
// of it, their density. For the earliest 300 that density extrapolates the
// rest of the window; for an arbitrary 300 the scale stays unknown until a
// window completes.
func (p *planner) regionOf(win window, page []Order) region {
	m := p.minutes(page)
	for i := range m {
		m[i] = min(max(m[i], win.s), win.e)
	}
	slices.Sort(m)
	r := region{s: win.s, e: win.e, seen: m, full: true}
	if len(m) == 0 {
		return r
	}
	n := float64(len(m))
	lo, hi := m[0], m[len(m)-1]
	rho := n / float64(hi-lo+1)
	if total := n + rho*float64(win.minutes()-(hi-lo+1)); total >= 1.25*n {
		r.rho, r.lo, r.hi, r.sigma = rho, lo, hi, 1/math.Sqrt(n)
	}
	return r
}

// minutes returns the minutes (Unix) of the page's orders in the field
// walked, leaving out orders without one.
func (p *planner) minutes(page []Order) []int64 {
	m := make([]int64, 0, len(page))
	for i := range page {
		ts := page[i].TSDate
		if p.field == "PayDateTime" {
			ts = page[i].PayDate
		}
		if !ts.IsZero() {
			m = append(m, unixMinute(ts.Time()))
		}
	}
	return m
}

func (p *planner) saturatedError(win window) *SaturatedWindowError {
	pt, pf := win.pt, win.pf
	if pt == "" {
		pt = p.q.PayType
	}
	if pf == "" {
		pf = p.q.PayFlag
	}
	return &SaturatedWindowError{Field: p.field, Start: minuteTime(win.s), End: minuteTime(win.e), PayType: pt, PayFlag: pf}
}

// countUpTo is how many of the sorted minutes m are at or before b.
func countUpTo(m []int64, b int64) int {
	i, _ := slices.BinarySearch(m, b+1)
	return i
}

// daySlots divides a day (Taipei) into the slots of dayProfile.
const (
	daySlots   = 96
	slotLength = 24 * 60 / daySlots // minutes
	taipeiMins = 8 * 60             // Taipei's offset from UTC, no DST
)

// dayProfile is the density of the complete windows by time of day: most
// shops sell by the clock, busy in the day and quiet at night, and a
// window of a few hours holds more or fewer orders depending on when it
// falls. A slot seen little leans on the mean density.
type dayProfile struct {
	orders, mins [daySlots]float64
	cum          [daySlots + 1]float64 // expected orders from midnight to each slot's start
}

// add counts a complete window: minutes s to e and its orders' minutes m.
func (d *dayProfile) add(s, e int64, m []int64) {
	for _, t := range m {
		d.orders[slotOf(t)]++
	}
	n := e - s + 1
	for i := range d.mins {
		d.mins[i] += float64(n / (24 * 60) * slotLength)
	}
	for t := s; t < s+n%(24*60); t++ {
		d.mins[slotOf(t)]++
	}
}

// update recomputes the densities after add, leaning each slot on the
// mean density mean with the weight of about 30 orders.
func (d *dayProfile) update(mean float64) {
	prior := 30 / mean // minutes
	for i := range daySlots {
		rate := (d.orders[i] + prior*mean) / (d.mins[i] + prior)
		d.cum[i+1] = d.cum[i] + rate*slotLength
	}
}

// expect is the orders expected in minutes s to e.
func (d *dayProfile) expect(s, e int64) float64 { return d.upTo(e+1) - d.upTo(s) }

// upTo is the orders expected from a fixed origin up to minute t.
func (d *dayProfile) upTo(t int64) float64 {
	t += taipeiMins
	days, m := t/(24*60), t%(24*60)
	if m < 0 {
		days, m = days-1, m+24*60
	}
	slot := m / slotLength
	rate := (d.cum[slot+1] - d.cum[slot]) / slotLength
	return float64(days)*d.cum[daySlots] + d.cum[slot] + rate*float64(m%slotLength)
}

func slotOf(t int64) int {
	m := (t + taipeiMins) % (24 * 60)
	if m < 0 {
		m += 24 * 60
	}
	return int(m / slotLength)
}
