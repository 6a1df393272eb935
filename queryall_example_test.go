package sinopac_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// All orders of a month, however many: full pages are split until every
// page holds fewer than 300.
func ExampleClient_QueryAllOrders() {
	bank := qpaytest.NewServer(qpaytest.WithDemoData())
	defer bank.Close()
	client, err := bank.NewClient()
	if err != nil {
		panic(err)
	}
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, sinopac.Taipei)
	q := sinopac.QueryConditions{OrderDateTimeS: oct, OrderDateTimeE: oct.AddDate(0, 1, 0).Add(-time.Minute)}
	orders, err := client.QueryAllOrders(context.Background(), q, sinopac.WithConcurrency(2))
	var sat *sinopac.SaturatedWindowError
	switch {
	case errors.As(err, &sat):
		fmt.Println("incomplete: one minute holds too many orders:", sat)
	case err != nil:
		fmt.Println("incomplete:", err)
	}
	paid := 0
	for _, o := range orders {
		if o.PayStatus.Paid() {
			paid++
		}
	}
	fmt.Printf("%d orders in October, %d paid; first %s at %s\n", len(orders), paid, orders[0].OrderNo, orders[0].TSDate)
	// Output: 200 orders in October, 133 paid; first QP202610010001 at 202610010124
}

// The same month as a stream: each order arrives once, as its page does,
// and memory stays at a few pages however long the range. An error, if
// any, is the last pair: the orders before it may be incomplete.
func ExampleClient_AllOrders() {
	bank := qpaytest.NewServer(qpaytest.WithDemoData())
	defer bank.Close()
	client, err := bank.NewClient()
	if err != nil {
		panic(err)
	}
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, sinopac.Taipei)
	q := sinopac.QueryConditions{OrderDateTimeS: oct, OrderDateTimeE: oct.AddDate(0, 1, 0).Add(-time.Minute)}
	var orders, paid int
	var revenue sinopac.Amount
	for o, err := range client.AllOrders(context.Background(), q) {
		if err != nil {
			fmt.Println("incomplete:", err)
			break
		}
		orders++
		if o.PayStatus.Paid() {
			paid++
			revenue += o.Amount
		}
	}
	fmt.Printf("%d orders in October, %d paid, %v received\n", orders, paid, revenue)
	// Output: 200 orders in October, 133 paid, NT$1283650.00 received
}
