// Package qpaytest is an in-process SinoPac QPay (豐收款) server for tests,
// in the spirit of net/http/httptest: it serves POST {URL}/Nonce and
// POST {URL}/Order on a loopback port with the bank's envelope, crypto and
// result codes, keeps an order book, acts as the bank towards the
// merchant's callback URLs, and injects faults on request.
//
//	srv := qpaytest.NewServer(qpaytest.WithDemoData())
//	defer srv.Close()
//	c, _ := srv.NewClient() // or sinopac.NewClient(shop, keys, sinopac.WithBaseURL(srv.URL()))
//
// # What it checks like the bank
//
// The gateway layer answers 404 for unknown paths (paths are
// case-sensitive and live under BasePath), 405 for other methods, 401
// without the right X-KeyID (WithKeyID), 415 for a body declared as other than JSON, all
// unencrypted. /Order then checks the envelope: the shop (E0101, plain),
// Version (E3301), the nonce — single use, only from the IP address that
// fetched it, and valid for NonceLifetime by the server's clock (E3001
// never issued or another IP, E3002 used before, E3003 expired) — and the
// Sign over the decrypted Message (E0000). Replies are
// sealed with a new server nonce and signed by the same rules as requests
// (sinopac.Seal), encoded without HTML escaping.
//
// # Services
//
// OrderQuery (protocol §5, including OrderNo overriding the other
// conditions, the 300-order cap, S0001 and the date-range codes),
// OrderPayQuery (§6, for tokens from Pay or RegisterPayToken), and the §7
// services: OrderCreate (duplicate OrderNo E0302), OrderMaintain (capture,
// cancel, refund with the two-step virtual-account RefundToken valid 120 s,
// stop recurring, change expiry), OrderUnCapturedQuery, BillQuery and
// AllotQuery.
//
// # Adding a service handler
//
// Each APIService is one method in a file named after it (orderquery.go,
// orderpayquery.go, …) and one line in the handlers map in service.go:
//
//	"OrderCreate": (*Server).orderCreate,
//
// A handler has the type handlerFunc: it receives a *request whose nonce
// and Sign are already verified (req.decode(&v) reads the plaintext JSON)
// and returns the reply object; the server seals it. Build the reply with
// an embedded result (ok(code) or failed(code)), or return s.fail(code)
// for a refused call. Handlers must not block or do I/O under s.mu; use
// the book helpers, which lock for you:
//
//   - s.lookupOrder(orderNo) (record, bool) — a copy of the record
//   - s.insertOrder(&record{...}) error — errDuplicateOrder (E0302) if taken;
//     also schedules WithAutoPay
//   - s.updateOrder(orderNo, func(r *record) error) (record, error) — fn
//     runs under the lock on a copy that replaces the record unless fn
//     fails; errUnknownOrder (E2601) if absent
//   - s.newTSNo() — a new bank transaction number
//   - s.newPayToken(orderNo, apType) — a registered token for OrderPayQuery
//   - s.notifyPayment(rec, token) — the bank's BackendURL/ReturnURL posts,
//     tracked so that Close stops them
//   - s.now() — the server's clock; wireMinute(t) formats yyyyMMddHHmm
//
// A record wraps the sinopac.Order that OrderQuery returns with the
// bank-only fields: ReturnURL, BackendURL, AutoBilling, PayTokens and
// RefundTokens.
package qpaytest
