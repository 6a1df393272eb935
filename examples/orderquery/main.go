// Command orderquery asks QPay for the real state of an order — the check a
// shop runs when the bank's payment notification never arrived.
//
// With no credentials it runs against the built-in simulator (package
// qpaytest) with demo data and prints the seed order A202110507397:
//
//	go run ./examples/orderquery
//
// With QPAY_SHOP_NO, QPAY_HASH_A1…QPAY_HASH_B2, QPAY_KEY_ID (and
// QPAY_SANDBOX=1 for the sandbox, or QPAY_BASE_URL) it queries that service:
//
//	QPAY_SANDBOX=1 QPAY_SHOP_NO=NA0249_001 … go run ./examples/orderquery -order-no A202110507397
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orderquery:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orderquery", flag.ContinueOnError)
	fs.SetOutput(stderr)
	orderNo := fs.String("order-no", "A202110507397", "the merchant order number to look up")
	if err := fs.Parse(args); err != nil {
		return err
	}

	client, done, err := newClient(getenv, stderr)
	if err != nil {
		return err
	}
	defer done()

	r, err := client.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: *orderNo})
	var apiErr *sinopac.APIError
	switch {
	case errors.As(err, &apiErr):
		return fmt.Errorf("the bank said %s: %s", apiErr.Code, apiErr.Message)
	case errors.Is(err, sinopac.ErrSignatureMismatch):
		return fmt.Errorf("the reply failed verification; nothing in it was used: %w", err)
	case err != nil:
		return err
	}
	if len(r.OrderList) == 0 {
		fmt.Fprintf(stdout, "No order %s at the bank (%s).\n", *orderNo, r.Description)
		return nil
	}
	for _, o := range r.OrderList {
		printOrder(stdout, &o)
	}
	return nil
}

// newClient builds a client from the environment, or one wired to an
// in-process simulator with demo data when no shop is configured.
func newClient(getenv func(string) string, stderr io.Writer) (*sinopac.Client, func(), error) {
	shop := getenv("QPAY_SHOP_NO")
	if shop == "" {
		sim := qpaytest.NewServer(qpaytest.WithDemoData())
		fmt.Fprintln(stderr, "demo mode: QPAY_SHOP_NO is not set, querying the built-in simulator with demo data")
		c, err := sim.NewClient()
		return c, sim.Close, err
	}
	keys := sinopac.HashKeys{A1: getenv("QPAY_HASH_A1"), A2: getenv("QPAY_HASH_A2"), B1: getenv("QPAY_HASH_B1"), B2: getenv("QPAY_HASH_B2")}
	var opts []sinopac.Option
	if id := getenv("QPAY_KEY_ID"); id != "" {
		opts = append(opts, sinopac.WithKeyID(id))
	}
	switch {
	case getenv("QPAY_BASE_URL") != "":
		opts = append(opts, sinopac.WithBaseURL(getenv("QPAY_BASE_URL")))
	case getenv("QPAY_SANDBOX") == "1":
		opts = append(opts, sinopac.WithSandbox())
	}
	c, err := sinopac.NewClient(shop, keys, opts...)
	return c, func() {}, err
}

func printOrder(w io.Writer, o *sinopac.Order) {
	state := "not paid"
	switch {
	case o.PayStatus.Paid():
		state = "paid"
	case o.PayStatus.Expired():
		state = "expired"
	}
	fmt.Fprintf(w, "Order %s (TSNo %s)\n", o.OrderNo, o.TSNo)
	fmt.Fprintf(w, "  amount    %s\n", o.Amount)
	fmt.Fprintf(w, "  pay type  %s\n", o.PayType)
	fmt.Fprintf(w, "  status    %s %s: %s\n", o.PayStatus, o.PayStatus.Label(), state)
	fmt.Fprintf(w, "  ordered   %s\n", taipei(o.TSDate))
	fmt.Fprintf(w, "  paid      %s\n", taipei(o.PayDate))
	if o.ATMParam != nil {
		fmt.Fprintf(w, "  account   %s (bank %s)\n", o.ATMParam.AtmPayNo, o.ATMParam.BankNo)
	}
	if o.Refunded() {
		fmt.Fprintf(w, "  refunded  %s on %s\n", o.RefundAmount, taipei(o.RefundDate))
	}
}

func taipei(ts sinopac.Timestamp) string {
	if ts.IsZero() {
		return "-"
	}
	return ts.Time().Format("2006-01-02 15:04") + " (Taipei)"
}
