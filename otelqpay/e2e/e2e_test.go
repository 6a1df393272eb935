package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/otelqpay"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/funbiz-go/sinopac/reconcile"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const (
	shop  = qpaytest.DemoShopNo
	keyID = "5f3c9a7e-41b2-4d8e-9c06-2b7d1e8a4f90" // X-KeyID: a secret like the keys
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, sinopac.Taipei)

// wire is the client's transport, keeping every value on the wire that
// must never reach telemetry: nonces, Signs and sealed Messages, both
// ways, and the X-KeyID header sent.
type wire struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
	keys map[string]bool // X-KeyID values sent
}

func (w *wire) keep(body []byte) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range []string{"Nonce", "Sign", "Message"} {
		if v, ok := m[f].(string); ok && v != "" {
			w.seen[v] = true
		}
	}
}

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body.Close()
	w.keep(body)
	w.mu.Lock()
	w.keys[req.Header.Get("X-KeyID")] = true
	w.mu.Unlock()
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := w.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	reply, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	w.keep(reply)
	resp.Body = io.NopCloser(bytes.NewReader(reply))
	return resp, nil
}

func (w *wire) values() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.seen))
	for v := range w.seen {
		out = append(out, v)
	}
	return out
}

// observed is what the in-memory OpenTelemetry saw.
type observed struct {
	spans  []sdktrace.ReadOnlySpan
	byID   map[trace.SpanID]sdktrace.ReadOnlySpan
	points map[string][]point // metric name → data points
}

// point is one data point: its attributes, and its value (a histogram's
// count).
type point struct {
	attrs attribute.Set
	value float64
	sum   float64 // a histogram's sum
}

func (o *observed) parent(s sdktrace.ReadOnlySpan) string {
	if p, ok := o.byID[s.Parent().SpanID()]; ok {
		return p.Name()
	}
	return ""
}

// one is the span named name, which must be the only one.
func (o *observed) one(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := o.named(name)
	if len(spans) != 1 {
		t.Fatalf("%d spans %q, want 1", len(spans), name)
	}
	return spans[0]
}

func (o *observed) named(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range o.spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attrsOf(kvs []attribute.KeyValue) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

// label renders a set as "k=v,k=v" (keys sorted), for comparison.
func label(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, ",")
}

// value is the value of metric name at the point whose attributes are
// exactly want ("k=v,…"), or -1 when there is none.
func (o *observed) value(name, want string) float64 {
	for _, p := range o.points[name] {
		if label(p.attrs) == want {
			return p.value
		}
	}
	return -1
}

func collect(t *testing.T, spans *tracetest.SpanRecorder, reader *sdkmetric.ManualReader) *observed {
	t.Helper()
	o := &observed{spans: spans.Ended(), byID: map[trace.SpanID]sdktrace.ReadOnlySpan{}, points: map[string][]point{}}
	if started := len(spans.Started()); started != len(o.spans) {
		t.Errorf("%d spans started, %d ended", started, len(o.spans))
	}
	for _, s := range o.spans {
		o.byID[s.SpanContext().SpanID()] = s
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					o.points[m.Name] = append(o.points[m.Name], point{attrs: p.Attributes, value: float64(p.Value)})
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					o.points[m.Name] = append(o.points[m.Name], point{attrs: p.Attributes, value: float64(p.Value)})
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					o.points[m.Name] = append(o.points[m.Name], point{attrs: p.Attributes, value: p.Value})
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					o.points[m.Name] = append(o.points[m.Name], point{attrs: p.Attributes, value: float64(p.Count), sum: p.Sum})
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return o
}

// The Done-when: a client observed by otelqpay over in-memory
// OpenTelemetry, against the simulator, makes a create, a query the bank
// first refuses as busy (retried), a query whose reply has a forged Sign,
// serves a notification and is reconciled in one pass; the spans and
// metrics say so, and no attribute holds a secret.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	obs, err := otelqpay.New(otelqpay.WithTracerProvider(tp), otelqpay.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}

	clk := qpaytest.NewClock(t0)
	sim := qpaytest.NewServer(qpaytest.WithClock(clk), qpaytest.WithKeyID(keyID))
	t.Cleanup(sim.Close)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	onWire := &wire{base: transport, seen: map[string]bool{}, keys: map[string]bool{}}
	client, err := sim.NewClient(sinopac.WithObserver(obs), sinopac.WithHTTPClient(&http.Client{Transport: onWire, Timeout: 10 * time.Second}),
		sinopac.WithRetryPolicy(sinopac.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}

	// The merchant's BackendURL.
	var (
		mu       sync.Mutex
		notified []string
	)
	backend := httptest.NewServer(client.BackendHandler(func(_ context.Context, n *sinopac.ResponseOrderPayQuery) error {
		mu.Lock()
		defer mu.Unlock()
		notified = append(notified, n.TSResultContent.OrderNo)
		return nil
	}))
	t.Cleanup(backend.Close)

	// (a) A create.
	const paidNo, waitNo = "OTEL0001", "OTEL0002"
	for _, no := range []string{paidNo, waitNo} {
		if _, err := client.CreateOrder(ctx, sinopac.OrderCreateRequest{ShopNo: shop, OrderNo: no, Amount: sinopac.TWD(1200),
			PayType: sinopac.PayTypeATM, ATMParam: sinopac.ATMExpiry(t0.Add(72 * time.Hour)), PrdtName: "otel", BackendURL: backend.URL}); err != nil {
			t.Fatalf("create %s: %v", no, err)
		}
	}
	// (b) A query the bank first refuses as busy: retried.
	sim.InjectFault(qpaytest.Fault{Service: "OrderQuery", Code: sinopac.CodeBusy})
	if r, err := client.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: paidNo}); err != nil || len(r.OrderList) != 1 {
		t.Fatalf("retried query: %v", err)
	}
	// (e) A reply with a forged Sign: refused, counted.
	sim.InjectFault(qpaytest.Fault{Service: "OrderQuery", BadSign: true})
	if _, err := client.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: paidNo}); sinopac.ErrorClassOf(err) != sinopac.ErrorClassSignature {
		t.Fatalf("forged reply: %v", err)
	}
	// (c) A notification: the bank's POST to the BackendURL.
	payToken, err := sim.Pay(paidNo)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if !slices.Equal(notified, []string{paidNo}) {
		t.Fatalf("notified %v", notified)
	}
	mu.Unlock()
	// (d) A reconciler pass, on SQLite, over the same client: the paid
	// order resolves, the other stays pending.
	store, err := reconcile.OpenSQLite(filepath.Join(t.TempDir(), "reconcile.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	rec, err := reconcile.New(reconcile.SingleShop(client), store, func(context.Context, reconcile.Event) error { return nil },
		reconcile.WithClock(clk.Now), reconcile.WithShopRate(1000))
	if err != nil {
		t.Fatal(err)
	}
	for _, no := range []string{paidNo, waitNo} {
		if err := rec.Track(ctx, reconcile.PendingOrder{ShopNo: shop, OrderNo: no, PayType: sinopac.PayTypeATM, Amount: sinopac.TWD(1200),
			CreatedAt: t0, ExpiresAt: t0.Add(72 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(30 * time.Minute)
	if sum, err := rec.Run(ctx); err != nil || sum.Checked != 2 {
		t.Fatalf("pass: %+v %v", sum, err)
	}

	o := collect(t, spans, reader)
	t.Run("spans", func(t *testing.T) { checkSpans(t, o) })
	t.Run("metrics", func(t *testing.T) { checkMetrics(t, o) })
	t.Run("no secrets", func(t *testing.T) {
		if !onWire.keys[keyID] {
			t.Fatal("the X-KeyID never went on the wire: the sweep below would prove nothing")
		}
		hashID, err := sim.Keys().HashID()
		if err != nil {
			t.Fatal(err)
		}
		k := sim.Keys()
		secrets := map[string]string{"A1": k.A1, "A2": k.A2, "B1": k.B1, "B2": k.B2, "HashID": hashID, "X-KeyID": keyID, "PayToken": payToken}
		for i, v := range onWire.values() {
			secrets[fmt.Sprintf("wire value %d (%.12s…)", i, v)] = v
		}
		if len(secrets) < 7+2*6 {
			t.Fatalf("only %d values recorded on the wire", len(secrets)-7)
		}
		sweep(t, o, secrets, []string{paidNo, waitNo})
	})
}

func checkSpans(t *testing.T, o *observed) {
	count := map[string]int{}
	for _, s := range o.spans {
		count[s.Name()]++
	}
	// 2 creates, 2 attempts of the retried query, the forged one, the
	// notification's OrderPayQuery, the pass's 2 queries: 8 calls, each
	// with its own nonce.
	want := map[string]int{"QPay OrderCreate": 2, "QPay OrderQuery": 5, "QPay OrderPayQuery": 1, "QPay Nonce": 8,
		"QPay notification": 1, "QPay reconcile pass": 1}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("spans %v\nwant  %v", count, want)
	}
	for _, s := range o.named("QPay Nonce") {
		if p := o.parent(s); !strings.HasPrefix(p, "QPay Order") || s.SpanKind() != trace.SpanKindClient {
			t.Errorf("a nonce span's parent is %q (kind %v), not its call", p, s.SpanKind())
		}
		if a := attrsOf(s.Attributes()); a["qpay.shop_no"].AsString() != shop || a["http.response.status_code"].AsInt64() != 200 {
			t.Errorf("nonce span: %v", a)
		}
	}

	creates := o.named("QPay OrderCreate")
	if len(creates) != 2 {
		t.Fatalf("%d create spans", len(creates))
	}
	create := creates[0]
	a := attrsOf(create.Attributes())
	if a["qpay.service"].AsString() != "OrderCreate" || a["qpay.shop_no"].AsString() != shop || a["qpay.attempt"].AsInt64() != 1 ||
		a["http.response.status_code"].AsInt64() != 200 || a["qpay.status"].AsString() != "S" || a["qpay.code"].AsString() != string(sinopac.CodeOK) ||
		a["qpay.retry"].AsBool() || create.Status().Code != codes.Unset || create.SpanKind() != trace.SpanKindClient || o.parent(create) != "" {
		t.Errorf("create span: %v %v", a, create.Status())
	}
	if _, ok := a["error.type"]; ok {
		t.Error("a success has no error.type")
	}

	queries := o.named("QPay OrderQuery")
	if len(queries) != 5 {
		t.Fatalf("%d query spans", len(queries))
	}
	busy, retried, forged := attrsOf(queries[0].Attributes()), attrsOf(queries[1].Attributes()), attrsOf(queries[2].Attributes())
	if busy["qpay.attempt"].AsInt64() != 1 || busy["qpay.status"].AsString() != "F" || busy["qpay.code"].AsString() != string(sinopac.CodeBusy) ||
		busy["error.type"].AsString() != "api" || !busy["qpay.retry"].AsBool() || busy["http.response.status_code"].AsInt64() != 200 ||
		queries[0].Status().Code != codes.Error {
		t.Errorf("busy attempt: %v %v", busy, queries[0].Status())
	}
	if _, ok := busy["http.request.resend_count"]; ok {
		t.Error("a first attempt is no resend")
	}
	if retried["qpay.attempt"].AsInt64() != 2 || retried["http.request.resend_count"].AsInt64() != 1 || retried["qpay.status"].AsString() != "S" ||
		retried["qpay.retry"].AsBool() || queries[1].Status().Code != codes.Unset {
		t.Errorf("retried attempt: %v", retried)
	}
	if forged["error.type"].AsString() != "signature" || forged["http.response.status_code"].AsInt64() != 200 || forged["qpay.retry"].AsBool() ||
		queries[2].Status().Code != codes.Error {
		t.Errorf("forged reply: %v", forged)
	}
	if _, ok := forged["qpay.status"]; ok {
		t.Error("an unverified reply has no bank Status")
	}

	note := o.one(t, "QPay notification")
	if a := attrsOf(note.Attributes()); a["qpay.outcome"].AsString() != "acknowledged" || a["qpay.ap_type"].AsString() != "PayOut" ||
		!a["qpay.paid"].AsBool() || a["http.response.status_code"].AsInt64() != 200 || a["qpay.shop_no"].AsString() != shop {
		t.Errorf("notification span: %v", a)
	}
	if p := o.parent(o.one(t, "QPay OrderPayQuery")); p != "QPay notification" {
		t.Errorf("the verifying OrderPayQuery's parent: %q", p)
	}

	pass := o.one(t, "QPay reconcile pass")
	if a := attrsOf(pass.Attributes()); a["qpay.shop_no"].AsString() != shop || a["qpay.reconcile.checked"].AsInt64() != 2 ||
		a["qpay.reconcile.queries"].AsInt64() != 2 || a["qpay.reconcile.pending"].AsInt64() != 1 ||
		a["qpay.reconcile.oldest_pending_age_s"].AsFloat64() != 1800 || a["qpay.reconcile.events.paid"].AsInt64() != 1 ||
		a["qpay.reconcile.events.pending"].AsInt64() != 1 || pass.Status().Code != codes.Unset {
		t.Errorf("pass span: %v", a)
	}
	for _, q := range queries[3:] {
		if p := o.parent(q); p != "QPay reconcile pass" {
			t.Errorf("a pass's query's parent: %q", p)
		}
	}
}

func checkMetrics(t *testing.T, o *observed) {
	const s = "qpay.shop_no=" + shop
	for _, c := range []struct {
		name, attrs string
		want        float64
	}{
		// Calls by service and outcome: attempts.
		{"qpay.client.calls", "qpay.code=S0000,qpay.outcome=ok,qpay.retried=false,qpay.service=OrderCreate," + s, 2},
		{"qpay.client.calls", "qpay.code=E9900,qpay.outcome=api,qpay.retried=false,qpay.service=OrderQuery," + s, 1},
		{"qpay.client.calls", "qpay.code=S0000,qpay.outcome=ok,qpay.retried=true,qpay.service=OrderQuery," + s, 1},
		{"qpay.client.calls", "qpay.code=,qpay.outcome=signature,qpay.retried=false,qpay.service=OrderQuery," + s, 1},
		{"qpay.client.calls", "qpay.code=S0000,qpay.outcome=ok,qpay.retried=false,qpay.service=OrderQuery," + s, 2},
		{"qpay.client.calls", "qpay.code=S0000,qpay.outcome=ok,qpay.retried=false,qpay.service=OrderPayQuery," + s, 1},
		// Call duration: a histogram per service and outcome.
		{"qpay.client.call.duration", "qpay.outcome=ok,qpay.service=OrderCreate," + s, 2},
		{"qpay.client.call.duration", "qpay.outcome=ok,qpay.service=OrderQuery," + s, 3},
		{"qpay.client.call.duration", "qpay.outcome=api,qpay.service=OrderQuery," + s, 1},
		{"qpay.client.call.duration", "qpay.outcome=signature,qpay.service=OrderQuery," + s, 1},
		{"qpay.client.call.duration", "qpay.outcome=ok,qpay.service=OrderPayQuery," + s, 1},
		{"qpay.client.nonce.duration", "qpay.outcome=ok,qpay.prefetch=false," + s, 8},
		{"qpay.client.retries", "error.type=api,qpay.service=OrderQuery," + s, 1},
		{"qpay.client.signature.failures", "qpay.service=OrderQuery," + s + ",qpay.side=reply", 1},
		{"qpay.notifications", "qpay.ap_type=PayOut,qpay.outcome=acknowledged,qpay.paid=true,qpay.reason=," + s, 1},
		{"qpay.reconcile.pass.duration", "qpay.outcome=ok," + s, 1},
		{"qpay.reconcile.pending", s, 1},
		{"qpay.reconcile.oldest_pending_age", s, 1800},
		{"qpay.reconcile.events", "qpay.kind=paid," + s, 1},
		{"qpay.reconcile.events", "qpay.kind=pending," + s, 1},
	} {
		if got := o.value(c.name, c.attrs); got != c.want {
			t.Errorf("%s{%s} = %v, want %v; points: %v", c.name, c.attrs, got, c.want, o.points[c.name])
		}
	}
	for name, n := range map[string]int{"qpay.client.calls": 6, "qpay.client.call.duration": 5, "qpay.client.retries": 1,
		"qpay.client.signature.failures": 1, "qpay.notifications": 1, "qpay.reconcile.events": 2} {
		if len(o.points[name]) != n {
			t.Errorf("%s has %d series, want %d: %v", name, len(o.points[name]), n, o.points[name])
		}
	}
	for _, p := range o.points["qpay.client.call.duration"] {
		if p.sum <= 0 {
			t.Errorf("call duration %s: sum %v", label(p.attrs), p.sum)
		}
	}
}

// sweep fails on any span name, attribute, event or status, or metric
// attribute, holding a secret (case-insensitively: hex may change case),
// and on any OrderNo anywhere.
func sweep(t *testing.T, o *observed, secrets map[string]string, orderNos []string) {
	for _, no := range orderNos {
		secrets["OrderNo "+no] = no
	}
	check := func(where, v string) {
		for what, secret := range secrets {
			if strings.Contains(strings.ToUpper(v), strings.ToUpper(secret)) {
				t.Errorf("%s holds the %s", where, what)
			}
		}
	}
	n := 0
	for _, s := range o.spans {
		check("span name "+s.Name(), s.Name())
		check(s.Name()+" status", s.Status().Description)
		for _, kv := range s.Attributes() {
			check(s.Name()+" attribute "+string(kv.Key), string(kv.Key)+"="+kv.Value.String())
			n++
		}
		for _, e := range s.Events() {
			check(s.Name()+" event "+e.Name, e.Name)
			for _, kv := range e.Attributes {
				check(s.Name()+" event attribute "+string(kv.Key), string(kv.Key)+"="+kv.Value.String())
			}
		}
		for _, kv := range s.Resource().Attributes() {
			check("resource attribute "+string(kv.Key), kv.Value.String())
		}
	}
	for name, points := range o.points {
		for _, p := range points {
			for _, kv := range p.attrs.ToSlice() {
				check(name+" attribute "+string(kv.Key), string(kv.Key)+"="+kv.Value.String())
				n++
			}
		}
	}
	if n < 100 {
		t.Errorf("swept only %d attributes", n)
	}
}
