package reconcile

import (
	"fmt"
	"time"

	"github.com/funbiz-go/sinopac"
)

// Kind is what a check learned about an order.
type Kind string

// The outcomes. All but StillPending are final: the order leaves the
// pending set once the handler has accepted the event.
const (
	Paid         Kind = "paid"       // paid or captured (x400, x900)
	Authorized   Kind = "authorized" // card authorised, not captured (x300): capture it with OrderMaintain
	Expired      Kind = "expired"    // payment window closed unpaid (x250)
	Refunded     Kind = "refunded"   // refunded, in full or in part (RefundFlag Y)
	Cancelled    Kind = "cancelled"  // authorisation lapsed or cancelled (x350, x351)
	StillPending Kind = "pending"    // not resolved yet; checked again at NextCheck
	GaveUp       Kind = "gave_up"    // still unresolved at expiry + grace: no more checks
)

// Final reports whether the order is no longer tracked after this event.
func (k Kind) Final() bool { return k != StillPending && k != "" }

// Event is one check's outcome, delivered to the Handler.
type Event struct {
	// Key identifies the event for de-duplication: an event repeated after
	// a crash (see Reconciler) carries the same Key. Final events have
	// "OrderNo/kind", pending ones "OrderNo/pending/Attempt".
	Key       string
	Kind      Kind
	OrderNo   string
	Attempt   int       // checks of this order so far, this one included
	CheckedAt time.Time // the reconciler's clock at the check

	// From the bank's record, when it has one.
	PayStatus    sinopac.PayStatus
	PayDate      time.Time      // Paid, Authorized, Refunded
	Amount       sinopac.Amount // the bank's Amount (compare with Tracked.Amount)
	RefundAmount sinopac.Amount // Refunded
	Order        *sinopac.Order // the bank's full record; nil if it has none

	NextCheck time.Time    // StillPending: when the order is checked again
	Reason    string       // GaveUp: why; otherwise the bank's label of PayStatus
	Tracked   PendingOrder // what Track was given
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s (check %d)", e.OrderNo, e.Kind, e.Attempt)
	switch e.Kind {
	case Paid, Authorized:
		s += fmt.Sprintf(": %s at %s", e.Amount, e.PayDate.In(sinopac.Taipei).Format("2006-01-02 15:04"))
	case Refunded:
		s += fmt.Sprintf(": %s of %s refunded", e.RefundAmount, e.Amount)
	case StillPending:
		s += ", next check " + e.NextCheck.In(sinopac.Taipei).Format("2006-01-02 15:04")
	case GaveUp:
		s += ": " + e.Reason
	}
	return s
}

// eventFor builds the event of a check. o is the bank's record (nil if it
// has none); final is false for an order to check again.
func eventFor(e Entry, o *sinopac.Order, attempt int, now time.Time) Event {
	ev := Event{Kind: StillPending, OrderNo: e.OrderNo, Attempt: attempt, CheckedAt: now, Tracked: e.PendingOrder}
	if o == nil {
		ev.Reason = "the bank has no such order"
		return ev
	}
	ev.Order = o
	ev.PayStatus, ev.Amount, ev.Reason = o.PayStatus, o.Amount, o.PayStatus.Label()
	ev.PayDate = o.PayDate.Time()
	switch st := o.PayStatus; {
	case o.Refunded():
		ev.Kind, ev.RefundAmount = Refunded, o.RefundAmount
	case st.Paid():
		ev.Kind = Paid
	case st.Authorized():
		ev.Kind = Authorized
	case st.Expired():
		ev.Kind = Expired
	case st.Cancelled():
		ev.Kind = Cancelled
	}
	return ev
}

func (ev *Event) setKey() {
	if ev.Kind == StillPending {
		ev.Key = fmt.Sprintf("%s/%s/%d", ev.OrderNo, ev.Kind, ev.Attempt)
	} else {
		ev.Key = ev.OrderNo + "/" + string(ev.Kind)
	}
}
