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
// It stands in for the bank for code other people wrote too (the bank's
// .NET and PHP samples, other QPay clients), so it accepts what such code
// sends where the bank does, and refuses what the bank refuses.
//
// # What it checks like the bank
//
// The gateway layer answers 404 for unknown paths (paths are
// case-sensitive and live under BasePath; "/" or "//" may come before
// Nonce and Order, as the bank's PHP sample sends them), 405 for other
// methods, 401 without the right X-KeyID (WithKeyID), 415 for a body
// declared as other than JSON, all unencrypted. /Order then checks the
// envelope: the shop (E0101, plain), Version (E3301), the nonce — single
// use, only from the IP address that fetched it, and valid for
// NonceLifetime by the server's clock (E3001 never issued or another IP,
// E3002 used before, E3003 expired) — and the Sign over the decrypted
// Message (E0000). A Sign may follow either of the bank's rules: the
// raw-JSON rule (the top-level scalars as sent) or the model rule of the
// bank's .NET sample (the top-level scalar properties of its typed model:
// null and white-space-only values dropped, an int absent from the JSON
// signed as 0). Request fields are bound as Json.NET binds them: names in
// any case, numbers sent as strings, "" for an absent number, a number
// where the model has a string.
//
// # How it replies
//
// Every reply, success or refusal, has exactly the top-level fields of
// the bank's reply model for its service (a refusal: ShopNo, Status,
// Description, Date where the model has it, and what it repeats from the
// request) and is signed by the model rule: an int the reply leaves out
// is signed as 0, as the bank signs an OrderCreate refusal, which has no
// Amount. Replies are encoded without HTML escaping and sealed with a new
// server nonce. Nonces have the bank's format: 108 characters, base64 of
// "<ticks>.<n>:<64 hex digits>".
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
// # Acting as the bank, and time
//
// Pay marks an order paid and notifies its BackendURL (JSON, resent every
// 10 minutes, 5 times at most, until answered exactly {"Status":"S"}:
// Acknowledges; each attempt waits NotifyTimeout) and, for card orders,
// its ReturnURL (a form POST); Expire lets an order lapse; WithAutoPay pays virtual-account orders like the sandbox.
// Deliveries lists every notification attempt and WaitIdle waits for the
// ones due. A Clock (NewClock, WithClock) makes all of this deterministic:
// Advance fires every timer that falls due — auto-pay, expiry, resends —
// and returns when its effects are done, and the nonce and RefundToken
// lifetimes follow it. Request latency (WithLatency, Fault.Delay) stays in
// real time: it models the network.
//
// # Payment pages
//
// The URLs OrderCreate returns are served by the server itself, under
// PayPagePath on its host: PayCard, PayWebATM, PayMobile, PayWallet and
// QRCode, each "?TD=<TSNo>&TK=<token>" with a random TK per order. They
// are plain server-rendered HTML (Traditional Chinese and English, sized
// for phones, no script but the return form's, nothing loaded from
// elsewhere), so a browser or a plain HTTP client that submits the forms
// it finds can pay. Every form is an application/x-www-form-urlencoded
// POST to the server's own path with the hidden inputs TD, TK and
// CSRFToken (a single-use token for that order and step); a refused POST
// gets 400 (malformed, a field twice), 403 (no or a used token, another
// site's Origin), 404 (wrong TD/TK) or 409 (the order is paid, expired or
// cancelled: a form sent twice pays once).
//
//	GET  PayCard?TD&TK  form #card-form: CardNo, ExpDate (MM/YY), CVV, UseBonus=Y (orders with PayTypeSub BONUS)
//	POST PayCard        invalid input: the form again (422) with its errors;
//	                    the test card (TestCardNo, TestCardExp, TestCardCVV): form #otp-form: OTP;
//	                    any other card: declined (the result page below)
//	POST PayOTP         TestOTP: paid; a wrong OTP: the form again (422), declined after OTPTries
//	GET  PayWebATM      the virtual account (bank 807, AtmPayNo); form #atm-form: the simulated transfer
//	GET  PayMobile      form #mobile-form: Method (A, G or S; ChoosePay limits it)
//	GET  PayWallet      form #wallet-form
//	GET  QRCode         a PNG of QRCodeSize pixels (350 by default) of the order's payment page URL
//
// After a card, mobile or wallet payment, or a declined card, the result
// page holds form #qpay-return: a POST of ShopNo and PayToken to the
// order's own ReturnURL (never another URL), submitted by its script or
// by its button. The server posts the BackendURL itself, with the bank's
// resend rule, on the Clock if there is one; a virtual account's transfer
// is announced on the BackendURL only. A declined attempt has its own
// PayToken: OrderPayQuery answers it with TSResultContent.Status F and
// DeclinedDescription (or OTPFailedDescription), whatever the order does
// later; the order stays waiting for payment. Instalments (PayTypeSub
// STAGING, Staging) and bonus points (BONUS) show on the card page and in
// the paid order's CardParam. An order whose deadline has passed is
// expired (x250) when its page is opened.
//
// # Admin endpoint and recent demo data
//
// WithAdmin serves AdminPath (pay, expire, refund, token; JSON), which
// `qpay trigger` and `qpay notify` use against `qpay simulator`.
// WithRecentDemoData(now) adds 30 days of orders before now, consistent
// with each other and with now, PayTokens for the paid ones
// (RecentPayTokens), and a few orders waiting for payment with working
// pages; WithDemoData's October 2026 stays as it is.
//
// # Adding a service handler
//
// Each APIService is one method in a file named after it (orderquery.go,
// orderpayquery.go, …), one line in the handlers map in service.go, and
// its request and reply models in serviceModels there:
//
//	"OrderCreate": (*Server).orderCreate,
//
// A handler has the type handlerFunc: it receives a *request whose nonce
// and Sign are already verified (req.decode(&v) reads the plaintext JSON
// as the bank does) and returns the reply object; the server seals it.
// Build the reply with an embedded result (ok(code)), or return
// s.fail(req, code) / s.failDetail(req, code, field) for a refused call.
// Handlers must not block or do I/O under s.mu; use the book helpers,
// which lock for you:
//
//   - s.lookupOrder(orderNo) (record, bool) — a copy of the record
//   - s.insertOrder(&record{...}) error — errDuplicateOrder (E0302) if taken;
//     also schedules WithAutoPay
//   - s.updateOrder(orderNo, func(r *record) error) (record, error) — fn
//     runs under the lock on a copy that replaces the record unless fn
//     fails; errUnknownOrder (E2601) if absent
//   - s.newTSNo() — a new bank transaction number
//   - s.newPayToken(orderNo, apType) — a registered token for OrderPayQuery
//   - s.notifyPayment(rec, token, apType) — the bank's BackendURL/ReturnURL
//     posts, tracked so that Close stops them and WaitIdle waits for them
//   - s.now() — the server's clock; wireMinute(t) formats yyyyMMddHHmm
//
// A record wraps the sinopac.Order that OrderQuery returns with the
// bank-only fields: ReturnURL, BackendURL, AutoBilling, PayTokens and
// RefundTokens.
package qpaytest
