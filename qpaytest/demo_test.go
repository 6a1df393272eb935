package qpaytest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/funbiz-go/sinopac/qpaytest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// The demo book is pinned byte for byte: the CLI's golden files and users'
// tests are built on it. Run `go test ./qpaytest -run TestDemoGolden -update` after a
// deliberate change.
func TestDemoGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(qpaytest.DemoOrders()); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	const path = "testdata/demo-orders.golden.json"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("DemoOrders() changed; if deliberate, run go test ./qpaytest -run TestDemoGolden -update")
	}
}
