package reconcile

import (
	"context"
	"time"

	"github.com/funbiz-go/sinopac"
)

// PendingOrder is an order to watch until the bank says how it ended.
type PendingOrder struct {
	ShopNo    string          // the shop the order belongs to: the resolver's key
	OrderNo   string          // the merchant's OrderNo, as sent to OrderCreate
	PayType   sinopac.PayType // optional; narrows range queries when all orders of a window share it
	Amount    sinopac.Amount  // what the merchant expects (the event carries the bank's)
	CreatedAt time.Time       // when OrderCreate was sent: the bank's TSDate is close to it
	ExpiresAt time.Time       // the payment deadline (ATM ExpireDate, card ExpMinutes …)

	// FirstCheck, when set, is when the first check is due instead of
	// CreatedAt plus the schedule's first wait. It is the seam for orders
	// found by other means: an order that settlement shows paid but the
	// ledger lacks (Client.DiffBill's MissingInLedger) is tracked with
	// FirstCheck set to now, so that its Paid event reaches the Handler
	// through the same path, with the same Key and guarantee, as every
	// other. Tracking an order already tracked changes nothing, FirstCheck
	// included.
	FirstCheck time.Time
}

// OrderKey identifies a tracked order: OrderNo is unique only within a
// shop.
type OrderKey struct{ ShopNo, OrderNo string }

// Key is o's OrderKey.
func (o PendingOrder) Key() OrderKey { return OrderKey{o.ShopNo, o.OrderNo} }

func (k OrderKey) String() string { return k.ShopNo + "/" + k.OrderNo }

// Validate checks o as Track does: ShopNo and OrderNo present and of the
// bank's lengths, CreatedAt set, ExpiresAt not before it, a PayType that
// OrderQuery lists.
func (o PendingOrder) Validate() error {
	switch {
	case o.ShopNo == "" || len(o.ShopNo) > 20:
		return &sinopac.ValidationError{Field: "ShopNo", Reason: "must be 1 to 20 bytes"}
	case o.OrderNo == "" || len(o.OrderNo) > 50:
		return &sinopac.ValidationError{Field: "OrderNo", Reason: "must be 1 to 50 bytes"}
	case o.CreatedAt.IsZero():
		return &sinopac.ValidationError{Field: "CreatedAt", Reason: "is required"}
	case o.ExpiresAt.Before(o.CreatedAt):
		return &sinopac.ValidationError{Field: "ExpiresAt", Reason: "is required and must not be before CreatedAt"}
	}
	switch o.PayType {
	case "", sinopac.PayTypeATM, sinopac.PayTypeCard, sinopac.PayTypeMobile, sinopac.PayTypeCardTrust:
	default:
		return &sinopac.ValidationError{Field: "PayType", Reason: "must be A, C, M or P (OrderQuery does not list wallet orders)"}
	}
	return nil
}

// Resolver returns the client of a shop. (*sinopac.ClientSet).Client has
// this shape: one reconciler serves every shop of the set. An error
// (sinopac.ErrUnknownShop …) leaves that shop's orders for a later check.
type Resolver func(ctx context.Context, shopNo string) (*sinopac.Client, error)

// SingleShop is the Resolver of one client: its shop, and no other.
func SingleShop(c *sinopac.Client) Resolver {
	return func(_ context.Context, shopNo string) (*sinopac.Client, error) {
		if c == nil || shopNo != c.ShopNo() {
			return nil, sinopac.ErrUnknownShop
		}
		return c, nil
	}
}
