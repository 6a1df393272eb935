package reconcile

import (
	"fmt"
	"slices"
	"time"

	"github.com/funbiz-go/sinopac"
)

// DefaultSchedule returns the default waits before each check of an order
// still pending: the first check 10 minutes after creation, then 30 min,
// 1 h, 3 h and 6 h after the previous one, then every 12 h (the last value
// repeats). Each call returns a new slice.
func DefaultSchedule() []time.Duration {
	return []time.Duration{10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour}
}

// DefaultGrace is how long after its ExpiresAt an order is still checked
// unless WithGrace says otherwise.
const DefaultGrace = 24 * time.Hour

// Policy is the decision logic every backend shares (the SQLite Reconciler
// and the River one in reconcile/riverpg): when an order is checked, which
// event the bank's record means, when to give up. Its methods are pure
// functions of their arguments.
type Policy struct {
	// Waits before each check: Waits[0] after CreatedAt, Waits[n] after the
	// n-th check; the last one repeats.
	Waits []time.Duration
	// Grace is how long after ExpiresAt an unresolved order is still
	// checked before GaveUp (the bank's records can lag, and an ATM
	// transfer made just before the deadline is booked later).
	Grace time.Duration
}

// DefaultPolicy is DefaultSchedule with DefaultGrace.
func DefaultPolicy() Policy { return Policy{Waits: DefaultSchedule(), Grace: DefaultGrace} }

// Validate reports a policy that cannot schedule: no waits, a wait that is
// not positive, or a negative grace.
func (p Policy) Validate() error {
	if len(p.Waits) == 0 || slices.ContainsFunc(p.Waits, func(d time.Duration) bool { return d <= 0 }) {
		return &sinopac.ValidationError{Field: "Schedule", Reason: "needs at least one positive wait"}
	}
	if p.Grace < 0 {
		return &sinopac.ValidationError{Field: "Grace", Reason: "must not be negative"}
	}
	return nil
}

// WithWaits is p with the waits between checks replaced (copied), or
// the Validate error: the one rule both backends' WithSchedule apply.
func (p Policy) WithWaits(waits ...time.Duration) (Policy, error) {
	p.Waits = slices.Clone(waits)
	return p, p.Validate()
}

// WithGrace is p with its grace replaced, or the Validate error.
func (p Policy) WithGrace(d time.Duration) (Policy, error) {
	p.Grace = d
	return p, p.Validate()
}

// FirstCheck is when o's first check is due: o.FirstCheck if set,
// otherwise CreatedAt plus the first wait.
func (p Policy) FirstCheck(o PendingOrder) time.Time {
	if !o.FirstCheck.IsZero() {
		return o.FirstCheck
	}
	return o.CreatedAt.Add(p.Waits[0])
}

// Deadline is when an order still unresolved is given up: ExpiresAt plus
// Grace.
func (p Policy) Deadline(o PendingOrder) time.Time { return o.ExpiresAt.Add(p.Grace) }

// Decide is the event of o's attempt-th check (1 for the first), made at
// now, given the bank's record bank (nil: the bank has none). A final
// record gives its final Kind; otherwise the order is GaveUp once now has
// reached the Deadline, else StillPending with NextCheck after the wait of
// the schedule (never later than the Deadline: one last look then). The
// event's Key is set.
func (p Policy) Decide(o PendingOrder, bank *sinopac.Order, attempt int, now time.Time) Event {
	ev := Event{Kind: KindOf(bank), ShopNo: o.ShopNo, OrderNo: o.OrderNo, Attempt: attempt, CheckedAt: now, Tracked: o}
	if bank == nil {
		ev.Reason = "the bank has no such order"
	} else {
		ev.Order = bank
		ev.PayStatus, ev.Amount, ev.Reason = bank.PayStatus, bank.Amount, bank.PayStatus.Label()
		ev.PayDate = bank.PayDate.Time()
		if ev.Kind == Refunded {
			ev.RefundAmount = bank.RefundAmount
		}
	}
	if ev.Kind == StillPending {
		deadline := p.Deadline(o)
		if !now.Before(deadline) {
			ev.Kind = GaveUp
			ev.Reason = fmt.Sprintf("still unresolved %s after expiry (%s)", p.Grace, ev.Reason)
		} else {
			ev.NextCheck = now.Add(p.Waits[min(max(attempt, 1), len(p.Waits)-1)])
			if ev.NextCheck.After(deadline) {
				ev.NextCheck = deadline
			}
		}
	}
	ev.Key = EventKey(o.ShopNo, o.OrderNo, ev.Kind, attempt)
	return ev
}
