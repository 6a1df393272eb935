package otelqpay_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/otelqpay"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const shop = "NA0249_001"

// harness is an Observer on in-memory OpenTelemetry: a span recorder and
// a manual metric reader.
type harness struct {
	obs    sinopac.Observer
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = h.tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	obs, err := otelqpay.New(otelqpay.WithTracerProvider(h.tp), otelqpay.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	h.obs = obs
	return h
}

// call drives one attempt as the pipeline does: CallStart, the nonce
// step with the call's context, CallEnd.
func (h *harness) call(ctx context.Context, service string, attempt int, done sinopac.CallDone) {
	info := sinopac.CallInfo{Service: service, ShopNo: shop, Attempt: attempt}
	ctx = h.obs.CallStart(ctx, info)
	nctx := h.obs.NonceStart(ctx, sinopac.NonceInfo{ShopNo: shop})
	h.obs.NonceEnd(nctx, sinopac.NonceDone{NonceInfo: sinopac.NonceInfo{ShopNo: shop}, HTTPStatus: 200, Duration: 20 * time.Millisecond})
	done.CallInfo = info
	h.obs.CallEnd(ctx, done)
}

var ok = sinopac.CallDone{HTTPStatus: 200, Status: "S", Code: sinopac.CodeOK, Duration: 60 * time.Millisecond}

// drive plays the scenario: a create, a query with a retry, a
// forged reply, a notification (its verifying query inside) and a
// reconciler pass (its query inside).
func (h *harness) drive(t *testing.T) {
	ctx := t.Context()
	h.call(ctx, "OrderCreate", 1, ok)
	h.call(ctx, "OrderQuery", 1, sinopac.CallDone{HTTPStatus: 200, Status: "F", Code: sinopac.CodeBusy, Class: sinopac.ErrorClassAPI,
		Retry: true, RetryWait: 250 * time.Millisecond, Duration: 40 * time.Millisecond})
	h.call(ctx, "OrderQuery", 2, ok)
	h.call(ctx, "OrderQuery", 1, sinopac.CallDone{HTTPStatus: 200, Class: sinopac.ErrorClassSignature, Duration: 30 * time.Millisecond})

	nctx := h.obs.NotificationStart(ctx, sinopac.NotificationInfo{ShopNo: shop})
	h.call(nctx, "OrderPayQuery", 1, ok)
	h.obs.NotificationEnd(nctx, sinopac.NotificationDone{NotificationInfo: sinopac.NotificationInfo{ShopNo: shop},
		Outcome: sinopac.NotificationAcknowledged, HTTPStatus: 200, APType: sinopac.APTypePayOut, Paid: true, Duration: 80 * time.Millisecond})
	h.obs.NotificationEnd(h.obs.NotificationStart(ctx, sinopac.NotificationInfo{ShopNo: shop}), sinopac.NotificationDone{
		NotificationInfo: sinopac.NotificationInfo{ShopNo: shop}, Outcome: sinopac.NotificationRefused,
		Reason: sinopac.NotificationUnknownToken, HTTPStatus: 400, Class: sinopac.ErrorClassAPI})

	h.obs.NotificationEnd(h.obs.NotificationStart(ctx, sinopac.NotificationInfo{ShopNo: shop}), sinopac.NotificationDone{
		NotificationInfo: sinopac.NotificationInfo{ShopNo: shop}, Outcome: sinopac.NotificationDeferred,
		Reason: sinopac.NotificationNotFinal, HTTPStatus: 202, APType: sinopac.APTypePayOut})

	pctx := h.obs.ReconcileStart(ctx, sinopac.ReconcileInfo{ShopNo: shop})
	h.call(pctx, "OrderQuery", 1, ok)
	h.obs.ReconcileEnd(pctx, sinopac.ReconcileDone{ReconcileInfo: sinopac.ReconcileInfo{ShopNo: shop}, Checked: 3, Queries: 1,
		Events: map[string]int{"paid": 2, "pending": 1}, Backlog: true, Pending: 5, OldestPending: 2 * time.Hour, Duration: time.Second})

	// A single order's check (a River job): its event counts, it has no
	// backlog to report and is no pass.
	check := sinopac.ReconcileInfo{ShopNo: shop, Check: true}
	cctx := h.obs.ReconcileStart(ctx, check)
	h.call(cctx, "OrderQuery", 1, ok)
	h.obs.ReconcileEnd(cctx, sinopac.ReconcileDone{ReconcileInfo: check, Checked: 1, Queries: 1, Events: map[string]int{"paid": 1},
		Duration: 300 * time.Millisecond})
}

func attrs(kvs []attribute.KeyValue) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

func TestSpans(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.drive(t)
	ended := h.spans.Ended()
	if len(h.spans.Started()) != len(ended) {
		t.Fatalf("%d spans started, %d ended", len(h.spans.Started()), len(ended))
	}
	var names []string
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range ended {
		names = append(names, s.Name())
		byID[s.SpanContext().SpanID()] = s
	}
	want := []string{"QPay Nonce", "QPay OrderCreate", "QPay Nonce", "QPay OrderQuery", "QPay Nonce", "QPay OrderQuery",
		"QPay Nonce", "QPay OrderQuery", "QPay Nonce", "QPay OrderPayQuery", "QPay notification", "QPay notification", "QPay notification",
		"QPay Nonce", "QPay OrderQuery", "QPay reconcile pass", "QPay Nonce", "QPay OrderQuery", "QPay reconcile check"}
	if !slices.Equal(names, want) {
		t.Fatalf("spans in end order:\n%v\nwant\n%v", names, want)
	}
	parent := func(s sdktrace.ReadOnlySpan) string {
		if p, ok := byID[s.Parent().SpanID()]; ok {
			return p.Name()
		}
		return ""
	}
	for i, s := range ended {
		switch {
		case s.Name() == "QPay Nonce":
			if parent(s) != ended[i+1].Name() || s.SpanKind() != trace.SpanKindClient {
				t.Errorf("nonce span %d: parent %q kind %v", i, parent(s), s.SpanKind())
			}
		case s.Name() == "QPay OrderPayQuery":
			if parent(s) != "QPay notification" {
				t.Errorf("the verifying query's parent: %q", parent(s))
			}
		case i == 14:
			if parent(s) != "QPay reconcile pass" {
				t.Errorf("the pass's query's parent: %q", parent(s))
			}
		case i == 17:
			if parent(s) != "QPay reconcile check" {
				t.Errorf("the check's query's parent: %q", parent(s))
			}
		case strings.HasPrefix(s.Name(), "QPay Order"):
			if parent(s) != "" || s.SpanKind() != trace.SpanKindClient {
				t.Errorf("%s: parent %q kind %v", s.Name(), parent(s), s.SpanKind())
			}
		}
	}

	create := attrs(ended[1].Attributes())
	if create["qpay.service"].AsString() != "OrderCreate" || create["qpay.shop_no"].AsString() != shop || create["qpay.attempt"].AsInt64() != 1 ||
		create["http.response.status_code"].AsInt64() != 200 || create["qpay.status"].AsString() != "S" || create["qpay.code"].AsString() != "S0000" ||
		ended[1].Status().Code != codes.Unset {
		t.Errorf("create span: %v %v", create, ended[1].Status())
	}
	if _, ok := create["error.type"]; ok {
		t.Error("a success has no error.type")
	}
	busy, retry := attrs(ended[3].Attributes()), attrs(ended[5].Attributes())
	if busy["qpay.code"].AsString() != "E9900" || busy["error.type"].AsString() != "api" || !busy["qpay.retry"].AsBool() ||
		busy["qpay.retry_wait_ms"].AsInt64() != 250 || ended[3].Status() != (sdktrace.Status{Code: codes.Error, Description: "api E9900"}) {
		t.Errorf("busy attempt: %v %v", busy, ended[3].Status())
	}
	if retry["qpay.attempt"].AsInt64() != 2 || retry["http.request.resend_count"].AsInt64() != 1 || retry["qpay.retry"].AsBool() {
		t.Errorf("retried attempt: %v", retry)
	}
	if _, ok := busy["http.request.resend_count"]; ok {
		t.Error("a first attempt is no resend")
	}
	if forged := ended[7]; attrs(forged.Attributes())["error.type"].AsString() != "signature" || forged.Status().Code != codes.Error {
		t.Errorf("forged reply: %v", forged.Attributes())
	}
	note, refused := attrs(ended[10].Attributes()), ended[11]
	if note["qpay.outcome"].AsString() != "acknowledged" || note["qpay.ap_type"].AsString() != "PayOut" || !note["qpay.paid"].AsBool() ||
		ended[10].SpanKind() != trace.SpanKindInternal {
		t.Errorf("notification: %v", note)
	}
	if a := attrs(refused.Attributes()); a["qpay.reason"].AsString() != "unknown_pay_token" || a["http.response.status_code"].AsInt64() != 400 ||
		refused.Status().Code != codes.Unset {
		t.Errorf("a refused notification is not our error: %v %v", a, refused.Status())
	}
	pass := attrs(ended[15].Attributes())
	if pass["qpay.reconcile.pending"].AsInt64() != 5 || pass["qpay.reconcile.oldest_pending_age_s"].AsFloat64() != 7200 ||
		pass["qpay.reconcile.events.paid"].AsInt64() != 2 || pass["qpay.reconcile.checked"].AsInt64() != 3 {
		t.Errorf("pass: %v", pass)
	}
	check := attrs(ended[18].Attributes())
	if check["qpay.reconcile.events.paid"].AsInt64() != 1 || check["qpay.reconcile.checked"].AsInt64() != 1 || ended[18].SpanKind() != trace.SpanKindInternal {
		t.Errorf("check: %v", check)
	}
	if _, ok := check["qpay.reconcile.pending"]; ok {
		t.Error("a check measures no backlog")
	}
}

// point is one data point of a collected metric, for comparison.
type point struct {
	attrs string
	value float64 // the value, or a histogram's count
	sum   float64 // a histogram's sum
}

func collect(t *testing.T, h *harness) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string][]point{}
	label := func(s attribute.Set) string {
		var parts []string
		for _, kv := range s.ToSlice() {
			parts = append(parts, string(kv.Key)+"="+kv.Value.String())
		}
		return strings.Join(parts, ",")
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelqpay.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			var ps []point
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					ps = append(ps, point{attrs: label(p.Attributes), value: float64(p.Value)})
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					ps = append(ps, point{attrs: label(p.Attributes), value: float64(p.Value)})
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					ps = append(ps, point{attrs: label(p.Attributes), value: p.Value})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					ps = append(ps, point{attrs: label(p.Attributes), value: float64(p.Count), sum: p.Sum})
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
			slices.SortFunc(ps, func(a, b point) int { return strings.Compare(a.attrs, b.attrs) })
			out[m.Name] = ps
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.drive(t)
	got := collect(t, h)
	const s = "qpay.shop_no=" + shop
	want := map[string][]point{
		"qpay.client.calls": {
			{attrs: "qpay.code=,qpay.outcome=signature,qpay.retried=false,qpay.service=OrderQuery," + s, value: 1},
			{attrs: "qpay.code=E9900,qpay.outcome=api,qpay.retried=false,qpay.service=OrderQuery," + s, value: 1},
			{attrs: "qpay.code=S0000,qpay.outcome=ok,qpay.retried=false,qpay.service=OrderCreate," + s, value: 1},
			{attrs: "qpay.code=S0000,qpay.outcome=ok,qpay.retried=false,qpay.service=OrderPayQuery," + s, value: 1},
			{attrs: "qpay.code=S0000,qpay.outcome=ok,qpay.retried=false,qpay.service=OrderQuery," + s, value: 2},
			{attrs: "qpay.code=S0000,qpay.outcome=ok,qpay.retried=true,qpay.service=OrderQuery," + s, value: 1},
		},
		"qpay.client.call.duration": {
			{attrs: "qpay.outcome=api,qpay.service=OrderQuery," + s, value: 1, sum: 0.04},
			{attrs: "qpay.outcome=ok,qpay.service=OrderCreate," + s, value: 1, sum: 0.06},
			{attrs: "qpay.outcome=ok,qpay.service=OrderPayQuery," + s, value: 1, sum: 0.06},
			{attrs: "qpay.outcome=ok,qpay.service=OrderQuery," + s, value: 3, sum: 0.18},
			{attrs: "qpay.outcome=signature,qpay.service=OrderQuery," + s, value: 1, sum: 0.03},
		},
		"qpay.client.retries":            {{attrs: "error.type=api,qpay.service=OrderQuery," + s, value: 1}},
		"qpay.client.signature.failures": {{attrs: "qpay.service=OrderQuery,qpay.shop_no=" + shop + ",qpay.side=reply", value: 1}},
		"qpay.client.nonce.duration":     {{attrs: "qpay.outcome=ok,qpay.prefetch=false," + s, value: 7, sum: 0.14}},
		"qpay.notifications": {
			{attrs: "qpay.ap_type=,qpay.outcome=refused,qpay.paid=false,qpay.reason=unknown_pay_token," + s, value: 1},
			{attrs: "qpay.ap_type=PayOut,qpay.outcome=acknowledged,qpay.paid=true,qpay.reason=," + s, value: 1},
			{attrs: "qpay.ap_type=PayOut,qpay.outcome=deferred,qpay.paid=false,qpay.reason=not_final," + s, value: 1},
		},
		// The check is no pass, and measured no backlog: the pass's stays.
		"qpay.reconcile.pass.duration":      {{attrs: "qpay.outcome=ok," + s, value: 1, sum: 1}},
		"qpay.reconcile.pending":            {{attrs: s, value: 5}},
		"qpay.reconcile.oldest_pending_age": {{attrs: s, value: 7200}},
		"qpay.reconcile.events":             {{attrs: "qpay.kind=paid," + s, value: 3}, {attrs: "qpay.kind=pending," + s, value: 1}},
	}
	for name, w := range want {
		g := got[name]
		if len(g) != len(w) {
			t.Errorf("%s:\n got %v\nwant %v", name, g, w)
			continue
		}
		for i := range w {
			if g[i].attrs != w[i].attrs || g[i].value != w[i].value || fmt.Sprintf("%.6f", g[i].sum) != fmt.Sprintf("%.6f", w[i].sum) {
				t.Errorf("%s[%d]:\n got %+v\nwant %+v", name, i, g[i], w[i])
			}
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected metric %s", name)
		}
	}

	// The bank refusing our Sign (E0000) counts as a request-side failure.
	h.call(t.Context(), "OrderQuery", 1, sinopac.CallDone{HTTPStatus: 200, Status: "F", Code: sinopac.CodeBadSign, Class: sinopac.ErrorClassAPI})
	sig := collect(t, h)["qpay.client.signature.failures"]
	if len(sig) != 2 || sig[0].attrs != "qpay.service=OrderQuery,qpay.shop_no="+shop+",qpay.side=reply" ||
		sig[1].attrs != "qpay.service=OrderQuery,qpay.shop_no="+shop+",qpay.side=request" || sig[1].value != 1 {
		t.Errorf("signature failures: %v", sig)
	}
}

// No attribute holds a secret-looking value, and metric attributes come
// from a fixed low-cardinality set: never an OrderNo.
func TestNoSecretsAndLowCardinality(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.drive(t)
	secretLooking := []*regexp.Regexp{
		regexp.MustCompile(`[0-9A-Fa-f]{16,}`),      // hash keys, HashID, Sign
		regexp.MustCompile(`[A-Za-z0-9+/=_-]{40,}`), // nonces, PayTokens, Messages
	}
	keys := sinopac.HashKeys{A1: "86D50DEF3EB7400E", A2: "01FD27C09E5549E5", B1: "9E004965F4244953", B2: "7FB3385F414E4F91"}
	hashID, err := keys.HashID()
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{keys.A1, keys.A2, keys.B1, keys.B2, hashID}
	check := func(where string, kv attribute.KeyValue) {
		v := kv.Value.String()
		for _, re := range secretLooking {
			if re.MatchString(v) {
				t.Errorf("%s: attribute %s=%q looks secret (%s)", where, kv.Key, v, re)
			}
		}
		for _, s := range secrets {
			if strings.Contains(strings.ToUpper(v), s) {
				t.Errorf("%s: attribute %s holds a key", where, kv.Key)
			}
		}
	}
	for _, s := range h.spans.Ended() {
		for _, kv := range s.Attributes() {
			check(s.Name(), kv)
		}
		for _, e := range s.Events() {
			t.Errorf("%s: unexpected span event %q", s.Name(), e.Name)
		}
		check(s.Name()+" status", attribute.String("status", s.Status().Description))
	}
	allowed := []string{"qpay.service", "qpay.shop_no", "qpay.outcome", "qpay.code", "qpay.retried", "error.type", "qpay.side",
		"qpay.prefetch", "qpay.reason", "qpay.ap_type", "qpay.paid", "qpay.kind"}
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var sets []attribute.Set
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			}
			for _, set := range sets {
				for _, kv := range set.ToSlice() {
					if !slices.Contains(allowed, string(kv.Key)) {
						t.Errorf("%s: attribute %s is not in the low-cardinality set", m.Name, kv.Key)
					}
					check(m.Name, kv)
				}
			}
		}
	}
}

// An End hook ends only the span its Start began: handed a context
// without one (a miswired pipeline), it leaves the caller's span alone.
func TestEndLeavesForeignSpans(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, mine := h.tp.Tracer("app").Start(t.Context(), "handler")
	h.obs.CallEnd(ctx, sinopac.CallDone{CallInfo: sinopac.CallInfo{Service: "OrderQuery", ShopNo: shop, Attempt: 1}})
	h.obs.NonceEnd(ctx, sinopac.NonceDone{})
	h.obs.NotificationEnd(ctx, sinopac.NotificationDone{})
	h.obs.ReconcileEnd(ctx, sinopac.ReconcileDone{})
	if !mine.IsRecording() || len(h.spans.Ended()) != 0 {
		t.Errorf("the caller's span was ended: %d ended", len(h.spans.Ended()))
	}
	// A nonce's End does not end its call's span either.
	cctx := h.obs.CallStart(t.Context(), sinopac.CallInfo{Service: "OrderQuery", ShopNo: shop, Attempt: 1})
	h.obs.NonceEnd(cctx, sinopac.NonceDone{})
	if !trace.SpanFromContext(cctx).IsRecording() {
		t.Error("NonceEnd ended the call's span")
	}
	mine.End()
}

// With the global providers (no-op by default) New works and costs nothing.
func TestNewWithGlobalProviders(t *testing.T) {
	t.Parallel()
	obs, err := otelqpay.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := obs.CallStart(t.Context(), sinopac.CallInfo{Service: "OrderQuery", ShopNo: shop, Attempt: 1})
	obs.CallEnd(ctx, sinopac.CallDone{})
	if trace.SpanFromContext(ctx).IsRecording() {
		t.Error("a no-op provider records nothing")
	}
}
