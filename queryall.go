package sinopac

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// QueryAllOption configures QueryAllOrders.
type QueryAllOption func(*queryAllConfig) error

type queryAllConfig struct {
	concurrency int
	progress    func(Progress)
	maxPages    int
}

// DefaultQueryConcurrency is how many OrderQuery calls QueryAllOrders keeps
// in flight unless WithConcurrency says otherwise. The gateway allows about
// 5 requests a second and every call costs two (Nonce and Order).
const DefaultQueryConcurrency = 2

// WithConcurrency sets how many pages QueryAllOrders fetches at once (1 to 16).
func WithConcurrency(n int) QueryAllOption {
	return func(c *queryAllConfig) error {
		if n < 1 || n > 16 {
			return &ValidationError{Field: "Concurrency", Reason: fmt.Sprintf("must be 1 to 16, got %d", n)}
		}
		c.concurrency = n
		return nil
	}
}

// WithProgress calls f after every page. Calls are serialised (never
// concurrent) and made from QueryAllOrders' own goroutine, so f must return
// quickly.
func WithProgress(f func(Progress)) QueryAllOption {
	return func(c *queryAllConfig) error {
		c.progress = f
		return nil
	}
}

// WithMaxPages bounds the OrderQuery calls QueryAllOrders makes. Past the
// budget it launches no more pages and returns what it found with an error
// matching ErrPageBudget. 0 means no bound.
func WithMaxPages(n int) QueryAllOption {
	return func(c *queryAllConfig) error {
		if n < 0 {
			return &ValidationError{Field: "MaxPages", Reason: "must not be negative"}
		}
		c.maxPages = n
		return nil
	}
}

// Progress is QueryAllOrders' state after a page.
type Progress struct {
	Pages   int // OrderQuery pages answered (or failed) so far
	Pending int // windows still to query, in flight included
	Orders  int // distinct orders found so far
}

// ErrPageBudget is matched (errors.Is) by QueryAllOrders' error when
// WithMaxPages stopped it before the range was covered.
var ErrPageBudget = errors.New("sinopac: QueryAllOrders page budget exhausted")

// SaturatedWindowError reports a window QueryAllOrders could not split any
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

// QueryAllOrders returns every order matching q, however many: where the
// bank's page of at most MaxOrdersPerQuery orders is full, it splits the
// date range (to the minute), then a single minute by PayType (those q does
// not fix) and then by PayFlag, and queries the parts. Every page goes
// through QueryOrders, so the client's rate limit and retry policy apply.
//
// q needs an OrderDateTime or a PayDateTime range; the OrderDateTime range is
// the one split when both are set. OrderNo is refused with a
// *ValidationError: one order needs no walk, use QueryOrders.
//
// The orders come back once each (by OrderNo and TSNo), sorted by TSDate,
// OrderNo and TSNo. The error is nil only when the whole range was covered.
// Otherwise the orders found so far are returned with an error saying why
// they may be incomplete: a page that failed (the first such error, wrapped),
// the cancelled ctx, ErrPageBudget, or one *SaturatedWindowError per window
// that could not be split further (joined with errors.Join; use errors.As).
//
// Split points follow the density seen in the full page being split, and
// the density of the windows already complete, so that evenly spread
// orders take close to ceil(N/300) calls. Correctness does not depend on
// which 300 matches the bank puts in a full page.
func (c *Client) QueryAllOrders(ctx context.Context, q QueryConditions, opts ...QueryAllOption) ([]Order, error) {
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
		return nil, &ValidationError{Field: "OrderNo", Reason: "QueryAllOrders walks a date range; use QueryOrders to look up one order"}
	}
	w := walker{c: c, q: q, cfg: cfg, found: map[orderKey]Order{}}
	switch {
	case !q.OrderDateTimeS.IsZero():
		w.field, w.s, w.e = "OrderDateTime", unixMinute(q.OrderDateTimeS), unixMinute(q.OrderDateTimeE)
	case !q.PayDateTimeS.IsZero():
		w.field, w.s, w.e = "PayDateTime", unixMinute(q.PayDateTimeS), unixMinute(q.PayDateTimeE)
	default:
		return nil, &ValidationError{Field: "OrderDateTimeS", Reason: "QueryAllOrders needs an OrderDateTime or PayDateTime range"}
	}
	return w.run(ctx)
}

type orderKey struct{ orderNo, tsNo string }

// window is a part of the walk: minutes s to e inclusive (Unix minutes),
// with PayType and PayFlag fixed when set (else q's apply).
type window struct {
	s, e int64
	pt   PayType
	pf   PayFlag
	est  float64 // expected orders, from the split that made it; 0 = unknown
}

func (w window) minutes() int64 { return w.e - w.s + 1 }

type pageResult struct {
	w      window
	orders []Order
	err    error
}

type walker struct {
	c     *Client
	q     QueryConditions
	cfg   queryAllConfig
	field string
	s, e  int64

	found     map[orderKey]Order
	doneCount int64 // orders in complete time windows
	doneMins  int64 // minutes of complete time windows
}

// splitTarget is the page fill the splitter aims at: below 300 with room
// for the noise of an estimated density.
const splitTarget = 250

// presplitAbove is the estimated count above which presplit acts.
const presplitAbove = MaxOrdersPerQuery * 5 / 4

// unknownFanOut is the split of a full page that carries no density: an
// arbitrary sample of a window whose size is unknown.
const unknownFanOut = 4

// maxParts bounds one split: a page whose 300 orders sit in one minute says
// little about the rest of a long window.
const maxParts = 64

func unixMinute(t time.Time) int64 { return t.Unix() / 60 }

func minuteTime(m int64) time.Time { return time.Unix(m*60, 0).In(Taipei) }

func (w *walker) conditions(win window) QueryConditions {
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

func (w *walker) run(parent context.Context) ([]Order, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	results := make(chan pageResult)
	stack := []window{{s: w.s, e: w.e}}
	var (
		pages, inflight int
		pageErr         error
		saturated       []error
		budgetHit       bool
	)
	for {
		for pageErr == nil && ctx.Err() == nil && len(stack) > 0 && inflight < w.cfg.concurrency {
			if w.cfg.maxPages > 0 && pages+inflight >= w.cfg.maxPages {
				budgetHit = true
				break
			}
			win := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if parts := w.presplit(win); parts != nil {
				stack = pushReversed(stack, parts)
				continue
			}
			inflight++
			go func(win window) {
				r, err := w.c.QueryOrders(ctx, w.conditions(win))
				res := pageResult{w: win, err: err}
				if err == nil {
					res.orders = r.OrderList
				}
				results <- res
			}(win)
		}
		if inflight == 0 {
			break
		}
		r := <-results
		inflight--
		pages++
		switch {
		case r.err != nil:
			if pageErr == nil {
				pageErr = r.err
				cancel() // stop the other pages; their errors add nothing
			}
		default:
			for _, o := range r.orders {
				w.found[orderKey{o.OrderNo, o.TSNo}] = o
			}
			if len(r.orders) < MaxOrdersPerQuery {
				if r.w.pt == "" && r.w.pf == "" {
					w.doneCount += int64(len(r.orders))
					w.doneMins += r.w.minutes()
				}
			} else if parts := w.split(r.w, r.orders); parts != nil {
				stack = pushReversed(stack, parts)
			} else {
				saturated = append(saturated, w.saturatedError(r.w))
			}
		}
		if w.cfg.progress != nil {
			w.cfg.progress(Progress{Pages: pages, Pending: len(stack) + inflight, Orders: len(w.found)})
		}
	}
	orders := make([]Order, 0, len(w.found))
	for _, o := range w.found {
		orders = append(orders, o)
	}
	slices.SortFunc(orders, func(a, b Order) int {
		if c := a.TSDate.Time().Compare(b.TSDate.Time()); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.OrderNo, b.OrderNo), cmp.Compare(a.TSNo, b.TSNo))
	})
	switch {
	case pageErr != nil:
		if perr := parent.Err(); perr != nil && !errors.Is(pageErr, perr) {
			pageErr = perr
		}
		return orders, fmt.Errorf("sinopac: QueryAllOrders incomplete, a page failed: %w", pageErr)
	case parent.Err() != nil && len(stack) > 0:
		return orders, fmt.Errorf("sinopac: QueryAllOrders incomplete, %d windows not queried: %w", len(stack), parent.Err())
	case budgetHit && len(stack) > 0:
		return orders, fmt.Errorf("sinopac: QueryAllOrders incomplete after %d pages, %d windows not queried: %w", pages, len(stack), ErrPageBudget)
	case len(saturated) > 0:
		return orders, errors.Join(saturated...)
	}
	return orders, nil
}

// pushReversed pushes parts so that the first part is popped first: the
// walk goes depth first, which gives it a measured density early.
func pushReversed(stack, parts []window) []window {
	for i := len(parts) - 1; i >= 0; i-- {
		stack = append(stack, parts[i])
	}
	return stack
}

func (w *walker) saturatedError(win window) *SaturatedWindowError {
	pt, pf := win.pt, win.pf
	if pt == "" {
		pt = w.q.PayType
	}
	if pf == "" {
		pf = w.q.PayFlag
	}
	return &SaturatedWindowError{Field: w.field, Start: minuteTime(win.s), End: minuteTime(win.e), PayType: pt, PayFlag: pf}
}

// density is the orders per minute measured in complete windows, once
// enough orders back it to be more than noise; else 0.
func (w *walker) density() float64 {
	if w.doneCount < MaxOrdersPerQuery/2 || w.doneMins == 0 {
		return 0
	}
	return float64(w.doneCount) / float64(w.doneMins)
}

// presplit splits a window before querying it when the measured density
// says it would come back full, and by much more than the split that made
// it expected. A wasted full page costs a call; this saves it.
func (w *walker) presplit(win window) []window {
	if win.pt != "" || win.pf != "" || win.minutes() < 2 {
		return nil
	}
	// Only when the page would be full beyond the noise of the estimate:
	// a window estimated just over 300 fits one page about half the time,
	// and splitting it then costs the call a query would have saved.
	est := w.density() * float64(win.minutes())
	if est <= presplitAbove || est <= 2*win.est {
		return nil
	}
	k := int64(math.Ceil(est / splitTarget))
	k = min(k, win.minutes(), maxParts)
	parts := make([]window, 0, k)
	for j := int64(0); j < k; j++ {
		s := win.s + j*win.minutes()/k
		e := win.s + (j+1)*win.minutes()/k - 1
		parts = append(parts, window{s: s, e: e, est: est / float64(k)})
	}
	return parts
}

// split divides a window whose page was full: by time while it spans more
// than a minute, then by PayType, then by PayFlag. nil means it cannot.
func (w *walker) split(win window, page []Order) []window {
	switch {
	case win.minutes() > 1:
		return w.splitTime(win, page)
	case win.pt == "" && w.q.PayType == "":
		parts := make([]window, 0, 4)
		for _, pt := range []PayType{PayTypeATM, PayTypeCard, PayTypeMobile, PayTypeCardTrust} {
			parts = append(parts, window{s: win.s, e: win.e, pt: pt, pf: win.pf})
		}
		return parts
	case win.pf == "" && w.q.PayFlag == "":
		parts := make([]window, 0, 3)
		for _, pf := range []PayFlag{PayFlagPaid, PayFlagUnpaid, PayFlagExpired} {
			parts = append(parts, window{s: win.s, e: win.e, pt: win.pt, pf: pf})
		}
		return parts
	}
	return nil
}

// splitTime cuts a full window into parts expected to hold about
// splitTarget orders each. The page is a sample of the window's orders, of
// unknown bias (the bank may return the earliest 300, the latest, or any):
// the model is the sample's own distribution over the minutes it spans,
// extended at the sample's density over the minutes it does not. For the
// earliest 300 that extrapolates the rest of the window; for a random 300 it
// is the shape of the whole window (and then the measured density of
// complete windows sets the count).
func (w *walker) splitTime(win window, page []Order) []window {
	m := make([]int64, 0, len(page))
	for i := range page {
		ts := page[i].TSDate
		if w.field == "PayDateTime" {
			ts = page[i].PayDate
		}
		if ts.IsZero() {
			continue
		}
		m = append(m, min(max(unixMinute(ts.Time()), win.s), win.e))
	}
	D := win.minutes()
	if len(m) == 0 { // a page without usable times: halve
		mid := win.s + D/2
		return []window{{s: win.s, e: mid - 1}, {s: mid, e: win.e}}
	}
	slices.Sort(m)
	n := float64(len(m))
	lo, hi := m[0], m[len(m)-1]
	rho := n / float64(hi-lo+1)
	head := rho * float64(lo-win.s)
	tail := rho * float64(win.e-hi)
	total := head + n + tail
	est := max(total, w.density()*float64(D), MaxOrdersPerQuery+1)
	k := int64(math.Ceil(est / splitTarget))
	if total < 1.25*n && w.density() == 0 {
		// The page spans the window like a sample of it: the bank returned
		// an arbitrary 300, which says only that there are more. A full
		// page usually means well more than 300, and halving then costs a
		// second full level; quarters hold up to ~1,000 orders in one level.
		k = max(k, unknownFanOut)
	}
	k = max(2, min(k, D, maxParts))
	// quantile returns the first minute of the part that starts after
	// q orders of the model.
	quantile := func(q float64) int64 {
		switch {
		case q < head:
			return win.s + int64(math.Ceil(q/rho))
		case q < head+n:
			return m[int(q-head)]
		}
		return hi + 1 + int64(math.Ceil((q-head-n)/rho))
	}
	bounds := make([]int64, 0, k+1)
	bounds = append(bounds, win.s)
	for j := int64(1); j < k; j++ {
		b := quantile(float64(j) * total / float64(k))
		// Each part keeps at least one minute and leaves one for every
		// part after it.
		b = max(b, bounds[len(bounds)-1]+1)
		b = min(b, win.e+1-(k-j))
		bounds = append(bounds, b)
	}
	bounds = append(bounds, win.e+1)
	parts := make([]window, 0, k)
	for j := 0; j+1 < len(bounds); j++ {
		parts = append(parts, window{s: bounds[j], e: bounds[j+1] - 1, est: est / float64(k)})
	}
	return parts
}
