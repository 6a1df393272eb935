// Command otel serves the QPay SDK's OpenTelemetry metrics to Prometheus
// at /metrics, with the qpaytest simulator standing in for the bank: no
// credentials needed.
//
//	go run ./examples/otel            # then: curl http://127.0.0.1:9464/metrics
//	go run ./examples/otel -addr :9464
//
// It makes a few calls first (the seed order's query, once with the bank
// busy so that the query is retried, and a day's statement), so the page
// shows qpay_client_calls_total, qpay_client_retries_total,
// qpay_client_call_duration_seconds and friends, and serves until Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/otelqpay"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9464", "address to serve /metrics on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout, func(string) {}); err != nil {
		fmt.Fprintln(os.Stderr, "otel example:", err)
		os.Exit(1)
	}
}

// run wires the SDK to OpenTelemetry's Prometheus exporter, makes the
// demo calls and serves /metrics on addr until ctx ends. ready gets the
// metrics URL once it is served.
func run(ctx context.Context, addr string, out io.Writer, ready func(metricsURL string)) error {
	// A registry of our own rather than Prometheus's global one.
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "qpay-example"))))
	defer func() { _ = mp.Shutdown(context.WithoutCancel(ctx)) }()

	obs, err := otelqpay.New(otelqpay.WithMeterProvider(mp)) // add WithTracerProvider for spans
	if err != nil {
		return err
	}
	sim := qpaytest.NewServer(qpaytest.WithDemoData())
	defer sim.Close()
	client, err := sim.NewClient(sinopac.WithObserver(obs))
	if err != nil {
		return err
	}

	sim.InjectFault(qpaytest.Fault{Service: "OrderQuery", Code: sinopac.CodeBusy}) // once: the query is retried
	r, err := client.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: "A202110507397"})
	if err != nil {
		return err
	}
	for _, o := range r.OrderList {
		fmt.Fprintln(out, o.OrderNo, o.Amount, o.PayStatus.Label())
	}
	bill, err := client.QueryBill(ctx, sinopac.BillQuery{BillDate: time.Now().AddDate(0, 0, -1)})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "yesterday's statement:", len(bill.OrderList), "transactions")

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	url := "http://" + ln.Addr().String() + "/metrics"
	fmt.Fprintln(out, "serving", url)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ready(url)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
