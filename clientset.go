package sinopac

import (
	"context"
	"errors"
	"net/http"
	"slices"
)

// ErrUnknownShop is matched (errors.Is) when a ClientSet holds no client
// for a ShopNo.
var ErrUnknownShop = errors.New("sinopac: no client for this ShopNo")

// ClientSet holds one Client per shop, for a platform that serves many
// merchants (each with its own ShopNo, hash keys and X-KeyID) from one
// process. It is immutable once built and safe for concurrent use.
type ClientSet struct {
	byShop map[string]*Client
}

// NewClientSet builds a set of clients; two clients of one ShopNo are an
// error.
func NewClientSet(clients ...*Client) (*ClientSet, error) {
	s := &ClientSet{byShop: make(map[string]*Client, len(clients))}
	for _, c := range clients {
		if c == nil {
			return nil, &ValidationError{Field: "ClientSet", Reason: "holds a nil Client"}
		}
		if _, dup := s.byShop[c.shopNo]; dup {
			return nil, &ValidationError{Field: "ClientSet", Reason: "holds two clients of ShopNo " + c.shopNo}
		}
		s.byShop[c.shopNo] = c
	}
	return s, nil
}

// Client returns the client of shopNo, or an error matching
// ErrUnknownShop. Its signature fits wherever a resolver
// func(ctx, shopNo) (*Client, error) is asked for (the reconciler's).
func (s *ClientSet) Client(_ context.Context, shopNo string) (*Client, error) {
	if c, ok := s.byShop[shopNo]; ok {
		return c, nil
	}
	return nil, ErrUnknownShop
}

// Shops lists the set's ShopNos, sorted.
func (s *ClientSet) Shops() []string {
	out := make([]string, 0, len(s.byShop))
	for shop := range s.byShop {
		out = append(out, shop)
	}
	slices.Sort(out)
	return out
}

// BackendHandler serves one BackendURL for every shop of the set: it
// routes a notification by its ShopNo to that shop's client, whose signed,
// verified OrderPayQuery decides what the PayToken stands for. Routing by
// an unauthenticated ShopNo is safe because the ShopNo grants nothing: a
// notification naming shop B with shop A's token is asked of B's bank,
// which does not know the token (a non-S answer; fn is not called). A
// ShopNo the set does not hold gets 400 {"Status":"F"}, without a request
// to any bank. Otherwise it answers exactly like Client.BackendHandler
// (one implementation), options included. fn receives the results of every
// shop: n.ShopNo tells which.
func (s *ClientSet) BackendHandler(fn NotificationFunc, opts ...HandlerOption) http.Handler {
	return backendHandler(s.Client, fn, opts)
}
