package sinopac_test

import (
	"context"
	"fmt"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// Classify failures for a metric or a log line without matching text.
func ExampleErrorClassOf() {
	sim := qpaytest.NewServer()
	defer sim.Close()
	c, _ := sim.NewClient(sinopac.WithRetryPolicy(sinopac.RetryPolicy{MaxAttempts: 1}))
	ctx := context.Background()

	_, err := c.QueryOrders(ctx, sinopac.QueryConditions{}) // no condition: refused before sending
	fmt.Println(sinopac.ErrorClassOf(err))

	sim.InjectFault(qpaytest.Fault{Service: "OrderQuery", Code: sinopac.CodeBusy})
	_, err = c.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: "A1"})
	fmt.Println(sinopac.ErrorClassOf(err))

	sim.InjectFault(qpaytest.Fault{Service: "OrderQuery", BadSign: true})
	_, err = c.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: "A1"})
	fmt.Println(sinopac.ErrorClassOf(err))

	_, err = c.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: "A1"})
	fmt.Printf("%q\n", sinopac.ErrorClassOf(err))
	// Output:
	// validation
	// api
	// signature
	// ""
}
