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
//		sinopac.WithKeyID(os.Getenv("QPAY_KEY_ID")))
//	r, err := c.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: "A202110507397"})
//	for _, o := range r.OrderList {
//		fmt.Println(o.OrderNo, o.Amount, o.PayStatus.Label())
//	}
//
// # Credentials
//
// A shop has a ShopNo, four hash keys ([HashKeys]: A1, A2, B1, B2, 16 hex
// digits each or in GUID form) and an API key sent as the X-KeyID header
// ([WithKeyID]). Malformed credentials fail in [NewClient]. The keys, the
// HashID derived from them and the X-KeyID never appear in errors, logs or
// fmt output: HashKeys prints as "[redacted]" with every verb and in slog.
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
//     errors.Is(err, context.Canceled) works.
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
// Each attempt fetches a new nonce and signs anew. Only the calls that change
// nothing are resent when their outcome is unknown (Nonce, OrderQuery,
// OrderPayQuery, OrderUnCapturedQuery, BillQuery, AllotQuery); a create or
// maintain call is resent only when the bank provably did not process it.
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
// it resolves the PayToken with a signed, verified OrderPayQuery, hands that
// result to your function and answers {"Status":"S"} only after it returned
// nil, so the bank resends otherwise. The bank resends every 10 minutes up to
// 5 times and card payments arrive on both URLs: your function must be
// idempotent; [Deduper] drops repeats within one process.
// [ParseReturnNotification] reads the ReturnURL form.
//
// # Unknown outcomes
//
// A create or refund whose reply was lost may still have been carried out.
// The SDK never resends it blindly: [Client.CreateOrder] and [Client.Refund]
// look the order up with OrderQuery and return what the bank stored, or
// [ErrNotProcessed] (safe to send again), or an [*OutcomeUnknownError].
//
// # Testing your code
//
// Package qpaytest is an in-process QPay server (like net/http/httptest):
// give its URL to [WithBaseURL] and its keys to [NewClient]. It keeps an
// order book, seals and signs replies by the same rules as the bank, and
// injects faults on demand.
package sinopac
