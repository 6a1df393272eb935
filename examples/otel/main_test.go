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
	for _, want := range []string{"A202110507397 NT$799.00 付款完成 (paid)", "yesterday's statement:", "serving http://127.0.0.1:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
