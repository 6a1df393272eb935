package qpaytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

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

// Pay acts as the bank: the order is paid and the shop's BackendURL gets
// the bank's notification, whose PayToken OrderPayQuery resolves.
func ExampleServer_Pay() {
	srv := qpaytest.NewServer(qpaytest.WithClock(func() time.Time {
		return time.Date(2026, 10, 5, 9, 30, 0, 0, sinopac.Taipei)
	}))
	defer srv.Close()

	tokens := make(chan string, 1)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n struct{ ShopNo, PayToken string }
		_ = json.NewDecoder(r.Body).Decode(&n)
		fmt.Fprint(w, `{"Status":"S"}`) // received
		tokens <- n.PayToken
	}))
	defer shop.Close()

	srv.AddOrders(sinopac.Order{OrderNo: "VA0001", PayType: sinopac.PayTypeATM, PayStatus: "1A200", Amount: sinopac.TWD(1200),
		TSDate: sinopac.At(time.Date(2026, 10, 5, 9, 0, 0, 0, sinopac.Taipei))})
	_ = srv.SetCallbackURLs("VA0001", "", shop.URL)
	if _, err := srv.Pay("VA0001"); err != nil {
		fmt.Println(err)
		return
	}
	token := <-tokens

	c, _ := srv.NewClient()
	plain, err := c.Call(context.Background(), "OrderPayQuery", map[string]string{"ShopNo": srv.ShopNo(), "PayToken": token})
	if err != nil {
		fmt.Println(err)
		return
	}
	var r struct {
		TSResultContent struct{ APType, OrderNo, Amount, Status, PayDate string }
	}
	_ = json.Unmarshal(plain, &r)
	fmt.Printf("%+v\n", r.TSResultContent)
	o, _ := srv.Order("VA0001")
	fmt.Println(o.PayStatus.Label())
	// Output:
	// {APType:PayOut OrderNo:VA0001 Amount:120000 Status:S PayDate:202610050930}
	// 付款完成 (paid)
}

// A fault makes the next matching request fail the way the bank can.
func ExampleServer_InjectFault() {
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	c, _ := srv.NewClient(sinopac.WithRetryPolicy(sinopac.NoRetry()))

	srv.InjectFault(qpaytest.Fault{Service: "OrderQuery", Code: sinopac.CodeBusy})
	_, err := c.QueryOrders(context.Background(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	var apiErr *sinopac.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Code, apiErr.Message, apiErr.Retryable())
	}

	srv.InjectFault(qpaytest.Fault{Service: "OrderQuery", BadSign: true})
	_, err = c.QueryOrders(context.Background(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	fmt.Println(errors.Is(err, sinopac.ErrSignatureMismatch))
	// Output:
	// E9900 系統忙碌中 true
	// true
}

// A test clock drives the bank's resends: a BackendURL that does not
// answer {"Status":"S"} gets the first try and five more, ten minutes
// apart, all made by the time Advance returns.
func ExampleClock() {
	clock := qpaytest.NewClock(time.Date(2026, 10, 5, 9, 0, 0, 0, sinopac.Taipei))
	srv := qpaytest.NewServer(qpaytest.WithClock(clock))
	defer srv.Close()
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"Status":"OK"}`) // not what the bank expects
	}))
	defer shop.Close()

	srv.AddOrders(sinopac.Order{OrderNo: "VA0002", PayType: sinopac.PayTypeATM, PayStatus: "1A200", Amount: sinopac.TWD(800),
		TSDate: sinopac.At(clock.Now())})
	_ = srv.SetCallbackURLs("VA0002", "", shop.URL)
	if _, err := srv.Pay("VA0002"); err != nil {
		fmt.Println(err)
		return
	}
	clock.Advance(2 * time.Hour)
	for _, d := range srv.Deliveries() {
		fmt.Println(d.Attempt, d.At.Format("15:04"), d.Kind, d.Status, d.Acknowledged)
	}
	// Output:
	// 1 09:00 BackendURL 200 false
	// 2 09:10 BackendURL 200 false
	// 3 09:20 BackendURL 200 false
	// 4 09:30 BackendURL 200 false
	// 5 09:40 BackendURL 200 false
	// 6 09:50 BackendURL 200 false
}
