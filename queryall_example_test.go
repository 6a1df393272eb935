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
