// Package sinopac is a client for the SinoPac Bank 豐收款 (funBIZ / QPay)
// payment API.
//
// Every call goes through one pipeline: a fresh single-use nonce
// (POST {base}/Nonce), the request JSON signed and AES-256-CBC encrypted
// into an [APIMessage] ([Seal]), POST {base}/Order, a gateway check, the
// reply decrypted and its Sign verified ([APIMessage.OpenReply]) before
// anything in it is used, then decoded into a typed reply and its Status
// checked.
//
// The core service is OrderQuery (訂單交易查詢, [Client.QueryOrders]): when
// the bank's payment notification never arrives, it tells a merchant the
// real state of every order — the last line of defence against lost orders
// (掉單).
//
//	c, err := sinopac.NewClient("NA0249_001", sinopac.HashKeys{A1: "…", A2: "…", B1: "…", B2: "…"},
//		sinopac.WithKeyID("…")) // or sinopac.NewClientFromEnv(), from the QPAY_* variables
//	r, err := c.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: "A202110507397"})
//	for _, o := range r.OrderList {
//		fmt.Println(o.OrderNo, o.Amount, o.PayStatus.Label())
//	}
//
// # Credentials
//
// A shop has a ShopNo, four hash keys ([HashKeys]: A1, A2, B1, B2, 16 hex
// digits each or in GUID form) and an API key sent as the X-KeyID header
// ([WithKeyID]). Malformed credentials fail in [NewClient]; [NewClientFromEnv]
// and [LoadConfig] read them from the QPAY_* variables, naming the variable
// that is missing or malformed ([*ConfigError]). The keys, the
// HashID derived from them and the X-KeyID never appear in errors, logs or
// fmt output: HashKeys prints as "[redacted]" with every verb and in slog,
// and a [Client], by pointer or by value, prints as its ShopNo and base URL
// only. A [GatewayError] shows the HTTP status, the media type and at most
// 256 bytes of the body (of an HTML page only its title) with the HashID
// and X-KeyID cut out in any letter case and every run of five or more
// digits and every token-like word masked, so account and card numbers do
// not reach an error message. [WithBaseURL] refuses a URL with credentials.
//
// Production is the default base URL; [WithSandbox] selects the bank's
// sandbox and [WithBaseURL] anything else, such as the simulator in package
// qpaytest. TLS verification is never disabled; the default transport
// requires TLS 1.2 or later, times out after [DefaultTimeout] and refuses
// redirects.
//
// # Errors
//
// Each failure class has one type, matched with errors.As:
//
//   - [*ValidationError]: bad input, found before any network call; names
//     the field and the rule.
//   - [*APIError]: the bank answered Status F; Code holds its code
//     ([CodeNoCondition], [CodeBusy], …). S0001 (no data) is not an error.
//   - [*GatewayError]: a reply that is not a QPay envelope (HTTP 401, 403,
//     429, 5xx, an HTML page), with the status and a bounded excerpt.
//   - [ErrSignatureMismatch] (errors.Is): a reply whose Sign does not verify.
//     Nothing in it is used.
//   - [*MessageError] (errors.Is [ErrMalformedMessage]): a reply that cannot
//     be decrypted or decoded: an oversized body, or a Kind telling how it
//     failed to open, each matched with errors.Is: [ErrMessageNotHex],
//     [ErrMessageTruncated], [ErrBadPadding] (often wrong keys),
//     [ErrNotUTF8], [ErrNotJSONObject], [ErrDuplicateField].
//   - [*NetworkError]: the request failed below HTTP; it wraps the cause, so
//     errors.Is(err, context.Canceled) works. MaybeSent says whether the
//     Order request may have reached the bank.
//   - [*OutcomeUnknownError] and [*NotProcessedError] (errors.Is
//     [ErrNotProcessed]): a create or maintain call the bank may have
//     carried out, or provably never got (see Unknown outcomes).
//
// An [*APIError] with Unverified set came as plain JSON, not sealed: it is
// not the bank's word, and a create or maintain call it answers is settled
// as unknown.
//
// A failed call returns no partial result.
//
// # Verifying replies
//
// The bank's own .NET sample does not sign a reply from its JSON but from
// its typed reply model: the model's top-level properties, names matched
// case-insensitively, whitespace-only values left out and an int missing
// from the JSON signed as 0 (an OrderCreate E0302 reply without Amount is
// signed over Amount=0). The SDK therefore accepts a reply whose Sign
// matches either rule: the raw-JSON rule of [Sign], or the model rule of
// the service's reply model. Both are keyed by the HashID, so neither can
// be produced without the shop's hash keys. [Client.Call] of a service the
// SDK does not model uses the raw-JSON rule only. Objects and arrays (such
// as OrderList) are covered by neither rule: that is the bank's protocol.
//
// A reply that names a top-level field twice, exactly or differing in case
// ("Status" and "status"), is refused with [ErrDuplicateField] whatever its
// Sign, so the Sign always covers the one value the decoder reads.
//
// # Retries
//
// [DefaultRetryPolicy] retries, with exponential backoff and jitter and a
// bound on attempts and total time, the failures that clear by themselves:
// connection errors and timeouts, HTTP 429/502/503/504 (Retry-After is
// honoured), E9900 busy, M0001 maintenance and the nonce errors E3001–E3003.
// Each attempt fetches a new nonce and signs anew. The calls that change
// nothing (Nonce, OrderQuery, OrderPayQuery, OrderUnCapturedQuery,
// BillQuery, AllotQuery) are retried on any of these. A create or maintain
// call is resent only when the failed attempt proves the bank did not
// process it: the nonce step failed, the Order request provably never left
// (the rate limiter's wait ended, or the transport failed before writing
// it), or the bank's sealed and verified reply was E3001–E3003, E9900 or
// M0001. After anything else that may have reached the bank — a timeout, a
// dropped connection, any HTTP status (429 and 5xx included), an unsigned
// body, a reply that does not verify — it is never resent by the SDK: its
// outcome is settled (see Unknown outcomes).
// The wait between attempts ends as soon as the context is cancelled. No
// retry starts after MaxElapsed, and a Retry-After longer than that ends the
// call with the error (its RetryAfter says when to come back); the attempt
// in flight is not cut, so without a context deadline a call ends within
// MaxElapsed plus one attempt. With [WithNoncePrefetch], a nonce error
// empties the pool.
// [WithRetryPolicy] changes the policy; [NoRetry] turns it off.
//
// # Notifications
//
// The bank announces payments by posting {"ShopNo","PayToken"} to the
// order's BackendURL (and, for cards, a form to ReturnURL via the customer's
// browser). Neither is signed. [Client.BackendHandler] never trusts the body:
// it resolves the PayToken with a signed, verified OrderPayQuery (a reply
// about another token or shop is refused), hands that result to your
// function and answers {"Status":"S"} only when the result is final and
// your function returned nil; otherwise the bank resends, every 10 minutes
// up to 5 times. A result whose inner Status is F (not paid) is not final
// by default: a declined card is a genuine F, but a virtual account just
// paid can read F while the query lags, and acknowledging it would stop the
// resends that show the payment. So an F reaches your function and is
// answered 202 {"Status":"F"}; [AcknowledgeFailed] answers S instead when
// you treat F as final (and settle unpaid orders with OrderQuery).
//
// Card payments arrive on both URLs and every result may come again: your
// function must be idempotent. [Deduper] drops repeats within one process,
// keyed on the notification's own PayToken and remembering only final
// results. [ParseReturnNotification] reads the ReturnURL form; a not-paid
// result there is not final either. [ClientSet.BackendHandler] serves one
// BackendURL for many shops, routing by ShopNo to the shop whose bank
// decides.
//
// # Unknown outcomes
//
// Only the bank's sealed, verified reply decides whether a create or a
// maintain call was carried out. When the request may have reached the
// bank and no such reply came, the SDK settles it with OrderQuery:
//
//   - [Client.CreateOrder] looks the OrderNo up: an order with the
//     request's Amount and PayType is returned with Resolved set. A create
//     is idempotent by OrderNo — the bank refuses a second order with it
//     (E0302), and CreateOrder settles that E0302 the same way — so sending
//     the same request again is always safe.
//   - [Client.Refund] (and [Client.MaintainOrder] with [CommandRefund])
//     takes the order's refunds before sending and compares after: a new
//     refund of the amount (for a full refund, of the balance left) is
//     returned with Resolved set. The bank's clock does not matter.
//
// What settling cannot see is an [*OutcomeUnknownError], never "not
// processed": the bank's query results can lag by minutes ([QueryLag]) and
// a gateway can forward a request after the client gave up. Its
// SafeToResend and Error say what to do — resend a create; never resend a
// refund — and CheckAfter when to look again with [Client.ResolveCreate] or
// [Client.ResolveRefund], which compare against what was kept. Capture,
// cancel, stop-recurring and expiry changes are not settled: their unknown
// outcome is an *OutcomeUnknownError, and repeating them does no harm.
// [ErrNotProcessed] (a [*NotProcessedError]) means the request provably
// never left: sending it again is safe.
//
// # Observability
//
// The SDK never logs or exports by itself. [WithObserver] takes an
// [Observer], a struct of optional hooks called around each attempt of a
// service call ([CallInfo], [CallDone]: service, shop, attempt and
// [CallInfo.Retried], HTTP status, the bank's Status and Code, the
// [ErrorClass] from [ErrorClassOf], whether a retry follows, durations),
// each nonce fetch, each notification the BackendHandler serves (its
// [NotificationOutcome] and reason) and each reconciler pass (package
// reconcile and reconcile/riverpg read it with [Client.Observer]: checks,
// lookups, events by kind, pending orders and the oldest one's age, per
// shop). A Start hook may return a context, say holding a span: the step
// runs with it, so a nonce fetch is a child of its call and a pass's calls
// are children of the pass. Every QPay service is one POST to /Order, so
// an HTTP-level wrapper cannot tell the services apart; an Observer can.
//
// No event carries a hash key, the HashID, the X-KeyID, a nonce, a Sign,
// a PayToken, an OrderNo, a body or an error's text: only names, counts,
// codes, classes and durations, fit for metric attributes. Module
// github.com/funbiz-go/sinopac/otelqpay turns an Observer into
// OpenTelemetry spans and metrics (and, through OpenTelemetry's exporter,
// Prometheus); the SDK itself depends on neither.
//
// # Testing your code
//
// Package qpaytest is an in-process QPay server (like net/http/httptest):
// give its URL to [WithBaseURL] and its keys to [NewClient]. It keeps an
// order book, seals and signs replies by the same rules as the bank, and
// injects faults on demand.
package sinopac
