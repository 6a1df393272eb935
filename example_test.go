package sinopac_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// Query one order by its number: the check to run when the bank's
// notification never arrived.
func ExampleClient_QueryOrders() {
	sim := qpaytest.NewServer(qpaytest.WithDemoData())
	defer sim.Close()
	c, err := sinopac.NewClient(sim.ShopNo(), sim.Keys(), sinopac.WithBaseURL(sim.URL()))
	if err != nil {
		panic(err)
	}

	r, err := c.QueryOrders(context.Background(), sinopac.QueryConditions{OrderNo: "A202110507397"})
	if err != nil {
		panic(err)
	}
	for _, o := range r.OrderList {
		fmt.Println(o.OrderNo, o.Amount, o.PayStatus, o.PayStatus.Label(), o.PayStatus.Paid())
		fmt.Println("paid at", o.PayDate.Time().Format("2006-01-02 15:04"), "into", o.ATMParam.AtmPayNo)
	}
	// Output:
	// A202110507397 NT$799.00 1A400 付款完成 (paid) true
	// paid at 2021-10-01 22:45 into 99922530175613
}

// Query a range: paid card orders of one day. A full page of 300 may be cut.
func ExampleClient_QueryOrders_range() {
	sim := qpaytest.NewServer()
	defer sim.Close()
	day := time.Date(2026, 10, 5, 0, 0, 0, 0, sinopac.Taipei)
	sim.AddOrders(
		sinopac.Order{OrderNo: "C1", TSNo: "T1", TSDate: sinopac.At(day.Add(9 * time.Hour)), PayDate: sinopac.At(day.Add(9*time.Hour + time.Minute)),
			Amount: sinopac.TWD(1200), PayType: sinopac.PayTypeCard, PayStatus: "1C400"},
		sinopac.Order{OrderNo: "C2", TSNo: "T2", TSDate: sinopac.At(day.Add(10 * time.Hour)), Amount: sinopac.TWD(300), PayType: sinopac.PayTypeCard, PayStatus: "1C200"},
		sinopac.Order{OrderNo: "A3", TSNo: "T3", TSDate: sinopac.At(day.Add(11 * time.Hour)), Amount: sinopac.TWD(50), PayType: sinopac.PayTypeATM, PayStatus: "1A400"},
	)
	c, _ := sim.NewClient()

	r, err := c.QueryOrders(context.Background(), sinopac.QueryConditions{
		PayType:        sinopac.PayTypeCard,
		PayFlag:        sinopac.PayFlagPaid,
		OrderDateTimeS: day,
		OrderDateTimeE: day.Add(24*time.Hour - time.Minute),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(r.OrderList), "order(s), truncated:", r.Truncated())
	for _, o := range r.OrderList {
		fmt.Println(o.OrderNo, o.Amount, o.PayStatus.Label())
	}
	// Output:
	// 1 order(s), truncated: false
	// C1 NT$1200.00 請款完成 (captured)
}

// Bad input is refused before any request is sent, naming the field.
func ExampleValidationError() {
	c, _ := sinopac.NewClient("NA0249_001", qpaytest.DemoKeys)
	_, err := c.QueryOrders(context.Background(), sinopac.QueryConditions{
		OrderDateTimeS: time.Date(2026, 10, 2, 0, 0, 0, 0, sinopac.Taipei),
		OrderDateTimeE: time.Date(2026, 10, 1, 0, 0, 0, 0, sinopac.Taipei),
	})
	var ve *sinopac.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, "-", ve.Reason)
	}
	// Output:
	// OrderDateTimeS - must not be after OrderDateTimeE
}

// The bank's failures carry its code; a forged reply is never used.
func ExampleAPIError() {
	sim := qpaytest.NewServer(qpaytest.WithDemoData())
	defer sim.Close()
	c, _ := sim.NewClient(sinopac.WithRetryPolicy(sinopac.NoRetry()))

	sim.InjectFault(qpaytest.Fault{Service: "OrderQuery", Code: sinopac.CodeBusy})
	_, err := c.QueryOrders(context.Background(), sinopac.QueryConditions{OrderNo: "A202110507397"})
	var apiErr *sinopac.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code, apiErr.Retryable())
	}

	sim.InjectFault(qpaytest.Fault{Service: "OrderQuery", BadSign: true})
	_, err = c.QueryOrders(context.Background(), sinopac.QueryConditions{OrderNo: "A202110507397"})
	fmt.Println(errors.Is(err, sinopac.ErrSignatureMismatch))
	// Output:
	// E9900 true
	// true
}

// HashID is derived from the four hash keys; the keys never print.
func ExampleHashKeys_HashID() {
	keys := sinopac.HashKeys{A1: "4D9709D699CA40EE", A2: "5A4FEF83140C4E9E", B1: "BC74301945134CB4", B2: "961F67F8FCA44AB9"}
	id, err := keys.HashID()
	fmt.Println(id, err)
	fmt.Printf("%v %+v\n", keys, keys)
	// Output:
	// 17D8E6558DC60E702A6B57E1B9B7060D <nil>
	// [redacted] [redacted]
}

// Seal signs and encrypts a request; Open decrypts a reply and verifies it.
func ExampleSeal() {
	const hashID = "17D8E6558DC60E702A6B57E1B9B7060D"
	const nonce = "NjM2NjA0MzI4ODIyODguMzo3NzI0ZDg4ZmI5Nzc2YzQ1MTNhYzg2MTk3NDBlYTRhNGU0N2IxM2Q2M2JkMTIwOGU5YzZhMGFmNGY5MjA5YzVm"
	payload := map[string]any{"ShopNo": "BA0026_001", "OrderNo": "A201804270001", "Amount": 50000, "CurrencyID": "TWD",
		"PayType": "A", "ATMParam": map[string]string{"ExpireDate": "20180502"}, "PrdtName": "虛擬帳號訂單",
		"ReturnURL": "http://10.11.22.113:8803/QPay.ApiClient/Store/Return", "BackendURL": "http://10.11.22.113:8803/QPay.ApiClient/AutoPush/PushSuccess"}
	env, err := sinopac.Seal("OrderCreate", "BA0026_001", payload, nonce, hashID)
	if err != nil {
		panic(err)
	}
	fmt.Println(env.Sign) // the spec's own Sign: nested ATMParam and key order do not matter

	plain, err := env.Open(hashID)
	fmt.Println(len(plain) > 0, err)
	// Output:
	// A3EAEE3B361B7E7E9B0F6422B954ECA5D54CEC6EAB0880CB484AA6FDA4154331
	// true <nil>
}
