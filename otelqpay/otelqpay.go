// Package otelqpay reports a sinopac.Client's work to OpenTelemetry: a
// span for each attempt of a service call with a child span for its
// nonce, spans for notifications and reconciler passes, and metrics.
//
// Every QPay service is one POST to /Order, so HTTP-level instrumentation
// (otelhttp) sees the same request for an OrderQuery and an OrderCreate.
// This package builds on the SDK's sinopac.Observer, which knows the
// service, the attempt, the bank's result code and the error class:
//
//	obs, err := otelqpay.New() // the global TracerProvider and MeterProvider
//	client, err := sinopac.NewClient(shopNo, keys, sinopac.WithObserver(obs))
//
// # Spans
//
//   - "QPay <APIService>" (client): one attempt of a call. Attributes
//     qpay.service, qpay.shop_no, qpay.attempt, http.request.resend_count
//     (from the second attempt on), http.response.status_code,
//     qpay.status, qpay.code, qpay.retry, error.type; status Error on a
//     failure.
//   - "QPay Nonce" (client): a nonce fetch, a child of its call's span (or
//     of the call during which a prefetch runs). qpay.prefetch.
//   - "QPay notification": a BackendHandler request; the OrderPayQuery
//     that verifies it is its child. qpay.outcome, qpay.reason,
//     qpay.ap_type, qpay.paid.
//   - "QPay reconcile pass": one shop's share of a reconciler pass; its
//     calls (and the reconciler's Handler) are children. qpay.shop_no,
//     qpay.reconcile.checked, .queries, .failed, .pending,
//     .oldest_pending_age_s (when the pass measured its backlog),
//     qpay.reconcile.events.<kind>, error.type.
//   - "QPay reconcile check": the check of a single order run on its own
//     (a job of reconcile/riverpg), with the same attributes but no
//     backlog.
//
// # Metrics
//
// Attributes are low-cardinality: never an OrderNo, TSNo or PayToken.
// qpay.outcome is "ok" or the sinopac.ErrorClass of the failure.
//
//	qpay.client.call.duration        histogram, s  qpay.service qpay.shop_no qpay.outcome
//	qpay.client.calls                counter       qpay.service qpay.shop_no qpay.outcome qpay.code qpay.retried
//	qpay.client.retries              counter       qpay.service qpay.shop_no error.type (what made the attempt fail)
//	qpay.client.signature.failures   counter       qpay.service qpay.shop_no qpay.side (reply: a reply's Sign did
//	                                               not verify; request: the bank refused ours, E0000)
//	qpay.client.nonce.duration       histogram, s  qpay.shop_no qpay.outcome qpay.prefetch
//	qpay.notifications               counter       qpay.shop_no qpay.outcome (acknowledged, deferred, refused,
//	                                               failed)
//	                                               qpay.reason qpay.ap_type qpay.paid
//	qpay.reconcile.pass.duration     histogram, s  qpay.shop_no qpay.outcome (passes, not single checks)
//	qpay.reconcile.pending           gauge         qpay.shop_no: orders still tracked after the last pass
//	qpay.reconcile.oldest_pending_age gauge, s     qpay.shop_no (both only from a pass that measured them)
//	qpay.reconcile.events            counter       qpay.shop_no qpay.kind (paid, expired, …; passes and checks)
//
// The Prometheus exporter of OpenTelemetry (go.opentelemetry.io/otel/exporters/prometheus)
// serves them as qpay_client_calls_total, qpay_client_call_duration_seconds, … with
// dots turned into underscores; examples/otel serves /metrics that way.
//
// Nothing secret reaches a span or a metric: the SDK's events hold no key,
// nonce, Sign, PayToken, body or error text to begin with.
package otelqpay

import (
	"context"
	"errors"

	"github.com/funbiz-go/sinopac"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/funbiz-go/sinopac/otelqpay"

// The attribute keys.
const (
	keyService  = attribute.Key("qpay.service")
	keyShopNo   = attribute.Key("qpay.shop_no")
	keyAttempt  = attribute.Key("qpay.attempt")
	keyOutcome  = attribute.Key("qpay.outcome")
	keyStatus   = attribute.Key("qpay.status")
	keyCode     = attribute.Key("qpay.code")
	keyRetried  = attribute.Key("qpay.retried")
	keyRetry    = attribute.Key("qpay.retry")
	keyWait     = attribute.Key("qpay.retry_wait_ms")
	keyNonceErr = attribute.Key("qpay.nonce_failed")
	keySide     = attribute.Key("qpay.side")
	keyPrefetch = attribute.Key("qpay.prefetch")
	keyReason   = attribute.Key("qpay.reason")
	keyAPType   = attribute.Key("qpay.ap_type")
	keyPaid     = attribute.Key("qpay.paid")
	keyKind     = attribute.Key("qpay.kind")
	keyChecked  = attribute.Key("qpay.reconcile.checked")
	keyQueries  = attribute.Key("qpay.reconcile.queries")
	keyFailed   = attribute.Key("qpay.reconcile.failed")
	keyPending  = attribute.Key("qpay.reconcile.pending")
	keyOldest   = attribute.Key("qpay.reconcile.oldest_pending_age_s")
	keyEvents   = "qpay.reconcile.events."
)

// Option configures New.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider uses tp instead of the global TracerProvider.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider uses mp instead of the global MeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// durationBounds are histogram buckets in seconds, from a pooled nonce to
// the 30 s request timeout (OpenTelemetry's HTTP advice, extended).
var durationBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 30}

// instruments holds the tracer and the metric instruments behind one
// Observer. It is safe for concurrent use (the OpenTelemetry API is).
type instruments struct {
	tracer        trace.Tracer
	callDuration  metric.Float64Histogram
	calls         metric.Int64Counter
	retries       metric.Int64Counter
	signatures    metric.Int64Counter
	nonceDuration metric.Float64Histogram
	notifications metric.Int64Counter
	passDuration  metric.Float64Histogram
	pending       metric.Int64Gauge
	oldest        metric.Float64Gauge
	events        metric.Int64Counter
}

// New returns a sinopac.Observer that records spans and metrics; give it
// to sinopac.NewClient with sinopac.WithObserver. It fails only if the
// MeterProvider refuses an instrument.
func New(opts ...Option) (sinopac.Observer, error) {
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	m := cfg.mp.Meter(ScopeName)
	in := &instruments{tracer: cfg.tp.Tracer(ScopeName)}
	var errs [10]error
	seconds := []metric.Float64HistogramOption{metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(durationBounds...)}
	in.callDuration, errs[0] = m.Float64Histogram("qpay.client.call.duration",
		append(seconds, metric.WithDescription("Duration of one attempt of a QPay service call, its nonce included."))...)
	in.calls, errs[1] = m.Int64Counter("qpay.client.calls", metric.WithUnit("{call}"),
		metric.WithDescription("Attempts of QPay service calls, by service and outcome."))
	in.retries, errs[2] = m.Int64Counter("qpay.client.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Attempts that failed and were retried, by what made them fail."))
	in.signatures, errs[3] = m.Int64Counter("qpay.client.signature.failures", metric.WithUnit("{failure}"),
		metric.WithDescription("Signature failures: a reply whose Sign did not verify (side reply), or the bank refusing ours with E0000 (side request)."))
	in.nonceDuration, errs[4] = m.Float64Histogram("qpay.client.nonce.duration",
		append(seconds, metric.WithDescription("Duration of a nonce fetch."))...)
	in.notifications, errs[5] = m.Int64Counter("qpay.notifications", metric.WithUnit("{notification}"),
		metric.WithDescription("Bank notifications served by the BackendHandler, by outcome."))
	in.passDuration, errs[6] = m.Float64Histogram("qpay.reconcile.pass.duration",
		append(seconds, metric.WithDescription("Duration of a reconciler pass."))...)
	in.pending, errs[7] = m.Int64Gauge("qpay.reconcile.pending", metric.WithUnit("{order}"),
		metric.WithDescription("Orders the reconciler still tracks, after its last pass."))
	in.oldest, errs[8] = m.Float64Gauge("qpay.reconcile.oldest_pending_age", metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest order the reconciler still tracks, after its last pass."))
	in.events, errs[9] = m.Int64Counter("qpay.reconcile.events", metric.WithUnit("{event}"),
		metric.WithDescription("Reconciler events accepted by the handler, by kind."))
	if err := errors.Join(errs[:]...); err != nil {
		return sinopac.Observer{}, err
	}
	return sinopac.Observer{
		CallStart:         in.callStart,
		CallEnd:           in.callEnd,
		NonceStart:        in.nonceStart,
		NonceEnd:          in.nonceEnd,
		NotificationStart: in.notificationStart,
		NotificationEnd:   in.notificationEnd,
		ReconcileStart:    in.reconcileStart,
		ReconcileEnd:      in.reconcileEnd,
	}, nil
}

// Each Start hook keeps its span under a key of its own, so an End hook
// ends only the span its Start began, never a caller's span.
type (
	callSpan         struct{}
	nonceSpan        struct{}
	notificationSpan struct{}
	reconcileSpan    struct{}
)

func (in *instruments) begin(ctx context.Context, key any, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) context.Context {
	ctx, span := in.tracer.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, key, span)
}

// finish ends the span its Start began: with an Error status and
// description when failed is true.
func finish(ctx context.Context, key any, failed bool, description string, attrs ...attribute.KeyValue) {
	span, ok := ctx.Value(key).(trace.Span)
	if !ok {
		return
	}
	span.SetAttributes(attrs...)
	if failed {
		span.SetStatus(codes.Error, description)
	}
	span.End()
}

// outcome is "ok" or the error class.
func outcome(c sinopac.ErrorClass) string {
	if c == sinopac.ErrorClassNone {
		return "ok"
	}
	return string(c)
}

// failure describes a failed step for a span's status: "api E9900".
func failure(c sinopac.ErrorClass, code sinopac.Code) string {
	if code == "" {
		return string(c)
	}
	return string(c) + " " + string(code)
}

// result are the span attributes of a step's HTTP status, bank verdict
// and error class, each only when set.
func result(attrs []attribute.KeyValue, httpStatus int, status string, code sinopac.Code, class sinopac.ErrorClass) []attribute.KeyValue {
	if httpStatus != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(httpStatus))
	}
	if status != "" {
		attrs = append(attrs, keyStatus.String(status))
	}
	if code != "" {
		attrs = append(attrs, keyCode.String(string(code)))
	}
	if class != sinopac.ErrorClassNone {
		attrs = append(attrs, semconv.ErrorTypeKey.String(string(class)))
	}
	return attrs
}

func (in *instruments) callStart(ctx context.Context, c sinopac.CallInfo) context.Context {
	attrs := []attribute.KeyValue{keyService.String(c.Service), keyShopNo.String(c.ShopNo), keyAttempt.Int(c.Attempt)}
	if c.Retried() {
		attrs = append(attrs, semconv.HTTPRequestResendCount(c.Attempt-1))
	}
	return in.begin(ctx, callSpan{}, "QPay "+c.Service, trace.SpanKindClient, attrs...)
}

func (in *instruments) callEnd(ctx context.Context, d sinopac.CallDone) {
	attrs := result(make([]attribute.KeyValue, 0, 8), d.HTTPStatus, d.Status, d.Code, d.Class)
	attrs = append(attrs, keyRetry.Bool(d.Retry))
	if d.Retry {
		attrs = append(attrs, keyWait.Int64(d.RetryWait.Milliseconds()))
	}
	if d.NonceFailed {
		attrs = append(attrs, keyNonceErr.Bool(true))
	}
	finish(ctx, callSpan{}, d.Class != sinopac.ErrorClassNone, failure(d.Class, d.Code), attrs...)

	service, shop := keyService.String(d.Service), keyShopNo.String(d.ShopNo)
	out := keyOutcome.String(outcome(d.Class))
	in.callDuration.Record(ctx, d.Duration.Seconds(), metric.WithAttributes(service, shop, out))
	in.calls.Add(ctx, 1, metric.WithAttributes(service, shop, out, keyCode.String(string(d.Code)), keyRetried.Bool(d.Retried())))
	if d.Retry {
		in.retries.Add(ctx, 1, metric.WithAttributes(service, shop, semconv.ErrorTypeKey.String(string(d.Class))))
	}
	if d.Class == sinopac.ErrorClassSignature {
		in.signatures.Add(ctx, 1, metric.WithAttributes(service, shop, keySide.String("reply")))
	}
	if d.Code == sinopac.CodeBadSign {
		in.signatures.Add(ctx, 1, metric.WithAttributes(service, shop, keySide.String("request")))
	}
}

func (in *instruments) nonceStart(ctx context.Context, n sinopac.NonceInfo) context.Context {
	return in.begin(ctx, nonceSpan{}, "QPay Nonce", trace.SpanKindClient, keyShopNo.String(n.ShopNo), keyPrefetch.Bool(n.Prefetch))
}

func (in *instruments) nonceEnd(ctx context.Context, d sinopac.NonceDone) {
	finish(ctx, nonceSpan{}, d.Class != sinopac.ErrorClassNone, failure(d.Class, d.Code),
		result(nil, d.HTTPStatus, d.Status, d.Code, d.Class)...)
	in.nonceDuration.Record(ctx, d.Duration.Seconds(), metric.WithAttributes(keyShopNo.String(d.ShopNo),
		keyOutcome.String(outcome(d.Class)), keyPrefetch.Bool(d.Prefetch)))
}

func (in *instruments) notificationStart(ctx context.Context, n sinopac.NotificationInfo) context.Context {
	return in.begin(ctx, notificationSpan{}, "QPay notification", trace.SpanKindInternal, keyShopNo.String(n.ShopNo))
}

func (in *instruments) notificationEnd(ctx context.Context, d sinopac.NotificationDone) {
	what := []attribute.KeyValue{keyOutcome.String(string(d.Outcome)), keyReason.String(string(d.Reason)),
		keyAPType.String(d.APType), keyPaid.Bool(d.Paid)}
	span := append([]attribute.KeyValue{semconv.HTTPResponseStatusCode(d.HTTPStatus)}, what...)
	if d.Class != sinopac.ErrorClassNone {
		span = append(span, semconv.ErrorTypeKey.String(string(d.Class)))
	}
	// A refused notification is the sender's mistake; a failed one ours.
	finish(ctx, notificationSpan{}, d.Outcome == sinopac.NotificationFailed, string(d.Reason), span...)
	in.notifications.Add(ctx, 1, metric.WithAttributes(append(what, keyShopNo.String(d.ShopNo))...))
}

func (in *instruments) reconcileStart(ctx context.Context, p sinopac.ReconcileInfo) context.Context {
	name := "QPay reconcile pass"
	if p.Check {
		name = "QPay reconcile check"
	}
	return in.begin(ctx, reconcileSpan{}, name, trace.SpanKindInternal, keyShopNo.String(p.ShopNo))
}

func (in *instruments) reconcileEnd(ctx context.Context, d sinopac.ReconcileDone) {
	attrs := []attribute.KeyValue{keyChecked.Int(d.Checked), keyQueries.Int(d.Queries), keyFailed.Int(d.Failed)}
	if d.Backlog {
		attrs = append(attrs, keyPending.Int(d.Pending), keyOldest.Float64(d.OldestPending.Seconds()))
	}
	for kind, n := range d.Events {
		attrs = append(attrs, attribute.Int(keyEvents+kind, n))
	}
	if d.Class != sinopac.ErrorClassNone {
		attrs = append(attrs, semconv.ErrorTypeKey.String(string(d.Class)))
	}
	finish(ctx, reconcileSpan{}, d.Class != sinopac.ErrorClassNone, string(d.Class), attrs...)

	shop := keyShopNo.String(d.ShopNo)
	if !d.Check {
		in.passDuration.Record(ctx, d.Duration.Seconds(), metric.WithAttributes(shop, keyOutcome.String(outcome(d.Class))))
	}
	if d.Backlog {
		in.pending.Record(ctx, int64(d.Pending), metric.WithAttributes(shop))
		in.oldest.Record(ctx, d.OldestPending.Seconds(), metric.WithAttributes(shop))
	}
	for kind, n := range d.Events {
		in.events.Add(ctx, int64(n), metric.WithAttributes(shop, keyKind.String(kind)))
	}
}
