// Package lookup asks the bank about tracked orders for both reconciler
// backends: one OrderNo query, or one range walk over orders created close
// together, each request paced by the caller's per-shop limit.
package lookup

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/funbiz-go/sinopac"
)

// RequestsPerQuery is what one OrderQuery costs at the gateway: a Nonce
// request and an Order request.
const RequestsPerQuery = 2

// Pace returns once n more requests of the shop may be sent (or with ctx's
// error).
type Pace func(ctx context.Context, n int) error

// Order looks up one OrderNo, after pacing. It returns the bank's latest
// transaction of that OrderNo, or nil when the bank has none.
func Order(ctx context.Context, c *sinopac.Client, pace Pace, orderNo string) (*sinopac.Order, error) {
	if err := pace(ctx, RequestsPerQuery); err != nil {
		return nil, err
	}
	resp, err := c.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: orderNo})
	if err != nil {
		return nil, fmt.Errorf("reconcile: look up %s: %w", orderNo, err)
	}
	var latest *sinopac.Order
	for k := range resp.OrderList {
		latest = Latest(latest, &resp.OrderList[k])
	}
	return latest, nil
}

// Latest keeps the more recent of an OrderNo's transactions (a copy).
func Latest(have, o *sinopac.Order) *sinopac.Order {
	if have == nil || o.TSDate.Time().After(have.TSDate.Time()) {
		c := *o
		return &c
	}
	return have
}

// Pad widens a range query around the tracked creation times: the bank's
// TSDate is stamped when it receives OrderCreate.
const Pad = 10 * time.Minute

// Window is a range lookup: the orders wanted, created From to To.
type Window struct {
	PayType  sinopac.PayType // "" unless every wanted order has this one
	From, To time.Time
	Want     map[string]bool // OrderNos
}

// Range walks w with QueryAllOrders, one page at a time, pacing before
// each page, at most maxPages pages. found holds the bank's record of each
// wanted OrderNo it listed (those it did not list are for an OrderNo
// query to decide: the walk may have stopped at its budget). pages counts
// the OrderQuery calls made; err says why the walk stopped early.
func Range(ctx context.Context, c *sinopac.Client, pace Pace, w Window, maxPages int) (found map[string]*sinopac.Order, pages int, err error) {
	found = map[string]*sinopac.Order{}
	if err := pace(ctx, RequestsPerQuery); err != nil {
		return found, 0, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var paceErr error
	q := sinopac.QueryConditions{PayType: w.PayType, OrderDateTimeS: w.From.Add(-Pad), OrderDateTimeE: w.To.Add(Pad)}
	// With one page in flight, QueryAllOrders reports progress before it
	// launches the next page: pacing there spaces every page.
	orders, werr := c.QueryAllOrders(wctx, q, sinopac.WithConcurrency(1), sinopac.WithMaxPages(maxPages),
		sinopac.WithProgress(func(p sinopac.Progress) {
			pages = p.Pages
			if p.Pending > 0 && p.Pages < maxPages && paceErr == nil {
				if paceErr = pace(wctx, RequestsPerQuery); paceErr != nil {
					cancel()
				}
			}
		}))
	for k := range orders {
		if o := &orders[k]; w.Want[o.OrderNo] {
			found[o.OrderNo] = Latest(found[o.OrderNo], o)
		}
	}
	switch {
	case paceErr != nil:
		return found, pages, paceErr
	case werr != nil:
		return found, pages, fmt.Errorf("reconcile: range lookup: %w", werr)
	}
	return found, pages, nil
}

// Clusters splits items (sorted by at as a side effect) into groups
// created within span of each group's first; groups of at least minOrders
// are clusters for a range lookup, the rest are singles. minOrders 0 makes
// every item a single.
func Clusters[T any](items []T, at func(T) time.Time, minOrders int, span time.Duration) (clusters [][]T, singles []T) {
	slices.SortStableFunc(items, func(a, b T) int { return at(a).Compare(at(b)) })
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && at(items[j]).Sub(at(items[i])) <= span {
			j++
		}
		if minOrders == 0 || j-i < minOrders {
			singles = append(singles, items[i:j]...)
		} else {
			clusters = append(clusters, items[i:j:j])
		}
		i = j
	}
	return clusters, singles
}

// MaxPages is the page budget of a range lookup of n orders: at most half
// of what n single queries would cost (what it has not found by then is
// looked up singly).
func MaxPages(n int) int { return max(1, n/2) }
