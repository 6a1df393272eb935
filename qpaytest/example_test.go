package qpaytest_test

import (
	"context"
	"fmt"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// A test server with the demo book answers the seed's OrderQuery.
func Example() {
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()

	c, err := sinopac.NewClient(qpaytest.DemoShopNo, qpaytest.DemoKeys, sinopac.WithBaseURL(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := c.QueryOrders(context.Background(), sinopac.QueryConditions{OrderNo: "A202110507397"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range r.OrderList {
		fmt.Println(o.OrderNo, o.Amount, o.PayStatus.Label(), o.PayDate)
	}
	// Output:
	// A202110507397 NT$799.00 付款完成 (paid) 202110012245
}
