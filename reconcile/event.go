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

// KindOf is what the bank's record of an order means: a final kind, or
// StillPending for an order still waiting for payment (and for a nil
// record: the bank has no such order, yet). It never returns GaveUp, which
// is a decision about time (Policy.Decide), not about the record.
func KindOf(o *sinopac.Order) Kind {
	switch {
	case o == nil:
		return StillPending
	case o.Refunded():
		return Refunded
	case o.PayStatus.Paid():
		return Paid
	case o.PayStatus.Authorized():
		return Authorized
	case o.PayStatus.Expired():
		return Expired
	case o.PayStatus.Cancelled():
		return Cancelled
	}
	return StillPending
}

// Event is one check's outcome, delivered to the Handler.
type Event struct {
	// Key identifies the event for de-duplication: an event delivered
	// again (after a crash, see the package's delivery guarantee) carries
	// the same Key. Final events have "ShopNo/OrderNo/kind", pending ones
	// "ShopNo/OrderNo/pending/Attempt".
	Key       string
	Kind      Kind
	ShopNo    string
	OrderNo   string
	Attempt   int       // checks of this order so far, this one included
	CheckedAt time.Time // when the check was decided (the database's clock with River)

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
	if e.ShopNo != "" {
		s = e.ShopNo + " " + s
	}
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

// EventKey is the Key of the event of kind for an order at its attempt-th
// check (attempt matters only for StillPending).
func EventKey(shopNo, orderNo string, kind Kind, attempt int) string {
	if kind == StillPending {
		return fmt.Sprintf("%s/%s/%s/%d", shopNo, orderNo, kind, attempt)
	}
	return shopNo + "/" + orderNo + "/" + string(kind)
}
