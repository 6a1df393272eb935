package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The example serves Prometheus's text format with the resource's
// target_info, after its calls to the simulator succeeded.
func TestServesMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out bytes.Buffer
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", &out, func(u string) { urls <- u }) }()

	var url string
	select {
	case url = <-urls:
	case err := <-done:
		cancel()
		t.Fatalf("run ended before serving: %v\n%s", err, out.String())
	}
	resp, err := http.Get(url)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if runErr := <-done; runErr != nil {
		t.Fatalf("run: %v", runErr)
	}

	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), `target_info{`) || !strings.Contains(string(body), `service_name="qpay-example"`) {
		t.Errorf("metrics page lacks target_info of service qpay-example:\n%s", body)
	}
	// The calls it made are on the page: the busy OrderQuery attempt,
	// its retry, the retry counter, and the call durations.
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"qpay_client_calls_total", []string{`qpay_service="OrderQuery"`, `qpay_outcome="api"`, `qpay_code="E9900"`, `qpay_retried="false"`, `qpay_shop_no="NA0249_001"`}},
		{"qpay_client_calls_total", []string{`qpay_service="OrderQuery"`, `qpay_outcome="ok"`, `qpay_code="S0000"`, `qpay_retried="true"`}},
		{"qpay_client_calls_total", []string{`qpay_service="BillQuery"`, `qpay_outcome="ok"`}},
		{"qpay_client_retries_total", []string{`qpay_service="OrderQuery"`, `error_type="api"`}},
		{"qpay_client_call_duration_seconds_count", []string{`qpay_service="OrderQuery"`, `qpay_outcome="ok"`}},
	} {
		if v, ok := sample(string(body), c.name, c.labels); !ok || v != "1" {
			t.Errorf("no %s{%s} 1 on the page (found %q):\n%s", c.name, strings.Join(c.labels, ","), v, body)
		}
	}
	for _, want := range []string{"A202110507397 NT$799.00 付款完成 (paid)", "yesterday's statement:", "serving http://127.0.0.1:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// sample returns the value of the first sample of metric name (in
// Prometheus's text format) that has every one of labels (`k="v"`).
func sample(page, name string, labels []string) (string, bool) {
	for _, line := range strings.Split(page, "\n") {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		set, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(","+set+",", ","+l+",")
		}
		if all {
			return value, true
		}
	}
	return "", false
}
