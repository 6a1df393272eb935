package sinopac_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// Create a virtual-account (ATM) order and show the customer where to pay.
func ExampleClient_CreateOrder() {
	srv := qpaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()

	r, err := c.CreateOrder(context.Background(), sinopac.OrderCreateRequest{
		OrderNo:    "A202611260001",
		Amount:     sinopac.TWD(500),
		PayType:    sinopac.PayTypeATM,
		ATMParam:   &sinopac.ATMParamRequest{ExpireDate: time.Now().AddDate(0, 0, 3).In(sinopac.Taipei).Format("20060102")},
		PrdtName:   "虛擬帳號訂單",
		BackendURL: "https://shop.example/qpay/notify",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.OrderNo, r.TSNo, r.Amount)
	fmt.Println("pay into", r.ATMParam.AtmPayNo)
	// Output:
	// A202611260001 NA024901000001 NT$500.00
	// pay into 99922501000001
}

// A create whose reply is lost after the bank stored the order is settled
// by querying the OrderNo: the order comes back, marked Resolved.
func ExampleClient_CreateOrder_lostReply() {
	srv := qpaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	srv.InjectFault(qpaytest.Fault{Service: "OrderCreate", DropReply: true})

	r, err := c.CreateOrder(context.Background(), sinopac.OrderCreateRequest{
		OrderNo: "C202611260001", Amount: sinopac.TWD(799), PayType: sinopac.PayTypeCard,
		CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "T-shirt",
	})
	var unknown *sinopac.OutcomeUnknownError
	switch {
	case errors.Is(err, sinopac.ErrNotProcessed):
		fmt.Println("never sent: safe to send again")
	case errors.As(err, &unknown):
		fmt.Println("outcome unknown: send the same request again, or ResolveCreate after", unknown.CheckAfter)
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(r.OrderNo, r.TSNo, "resolved:", r.Resolved)
		fmt.Println("creates sent:", srv.Stats().Requests["OrderCreate"])
	}
	// Output:
	// C202611260001 NA024901000001 resolved: true
	// creates sent: 1
}

// Serve the BackendURL: the handler checks the bank's notification with
// QueryPayment and hands the verified result to the function.
func ExampleClient_BackendHandler() {
	srv := qpaytest.NewServer(qpaytest.WithNotifyRetry(50 * time.Millisecond))
	defer srv.Close()
	c, _ := srv.NewClient()

	paid := make(chan string, 1)
	dedup := sinopac.NewDeduper(0, 0) // the bank resends; act once per PayToken
	merchant := httptest.NewServer(c.BackendHandler(dedup.Once(
		func(ctx context.Context, n *sinopac.ResponseOrderPayQuery) error {
			if n.Paid() {
				// Mark the order paid in your database here (idempotently).
				paid <- fmt.Sprint(n.TSResultContent.OrderNo, " paid ", n.TSResultContent.Amount)
			}
			return nil // the handler answers {"Status":"S"}
		})))
	defer merchant.Close()

	_, err := c.CreateOrder(context.Background(), sinopac.OrderCreateRequest{
		OrderNo: "A202611260002", Amount: sinopac.TWD(1200), PayType: sinopac.PayTypeATM,
		ATMParam: sinopac.ATMExpiry(time.Now().Add(48 * time.Hour)), PrdtName: "咖啡豆",
		BackendURL: merchant.URL + "/qpay/notify",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := srv.Pay("A202611260002"); err != nil { // the customer pays
		fmt.Println(err)
		return
	}
	fmt.Println(<-paid)
	// Output:
	// A202611260002 paid NT$1200.00
}

// Ask the bank what a notification's PayToken stands for.
func ExampleClient_QueryPayment() {
	srv := qpaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	_, _ = c.CreateOrder(ctx, sinopac.OrderCreateRequest{
		OrderNo: "C202611260003", Amount: sinopac.TWD(799), PayType: sinopac.PayTypeCard,
		CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "T-shirt",
	})
	token, _ := srv.Pay("C202611260003")

	r, err := c.QueryPayment(ctx, token)
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := r.TSResultContent
	fmt.Println(ts.APType, ts.OrderNo, ts.Amount, "paid:", r.Paid())
	fmt.Println("card", ts.LeftCCNo+"******"+ts.RightCCNo)

	_, err = c.QueryPayment(ctx, "PT-UNKNOWN")
	var ae *sinopac.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.Code)
	}
	// Output:
	// PayOut C202611260003 NT$799.00 paid: true
	// card 414352******0127
	// E2501
}

// Refund part of a card order; a virtual account's two-step refund is one
// call too.
func ExampleClient_Refund() {
	srv := qpaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	_, _ = c.CreateOrder(ctx, sinopac.OrderCreateRequest{
		OrderNo: "C202611260004", Amount: sinopac.TWD(799), PayType: sinopac.PayTypeCard,
		CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "T-shirt",
	})
	_, _ = srv.Pay("C202611260004")

	r, err := c.Refund(ctx, "C202611260004", sinopac.TWD(200))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("refunded", r.Amount)
	q, _ := c.QueryOrders(ctx, sinopac.QueryConditions{OrderNo: "C202611260004"})
	o := q.OrderList[0]
	fmt.Println(o.RefundFlag, len(o.RefundList), o.RefundList[0].RefundAmount, o.RefundList[0].RefundStatus.Label())
	// Output:
	// refunded NT$200.00
	// Y 1 NT$200.00 退款已受理 (refund accepted)
}

// Capture a card authorisation found among the uncaptured orders.
func ExampleClient_QueryUnCaptured() {
	srv := qpaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	_, _ = c.CreateOrder(ctx, sinopac.OrderCreateRequest{
		OrderNo: "C202611260005", Amount: sinopac.TWD(2400), PayType: sinopac.PayTypeCard,
		CardParam: &sinopac.CardParamRequest{AutoBilling: "N"}, PrdtName: "Sofa cover",
	})
	_, _ = srv.Pay("C202611260005")

	u, err := c.QueryUnCaptured(ctx, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range u.OrderList {
		fmt.Println(o.OrderNo, o.Amount, o.PayStatus.Label())
		if _, err := c.Capture(ctx, o.OrderNo); err != nil {
			fmt.Println(err)
		}
	}
	u, _ = c.QueryUnCaptured(ctx, "")
	fmt.Println("left:", len(u.OrderList), u.Code())
	// Output:
	// C202611260005 NT$2400.00 已授權未請款 (authorised, not captured)
	// left: 0 S0001
}

// statementBook is a simulator whose clock is 26 Nov 2026 09:00 Taipei,
// with a card payment on the 24th and a refund of part of it on the 25th.
func statementBook() (*qpaytest.Server, time.Time) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, sinopac.Taipei)
	srv := qpaytest.NewServer(qpaytest.WithClock(func() time.Time { return now }))
	day := func(d int, hh int) sinopac.Timestamp {
		return sinopac.At(time.Date(2026, 11, d, hh, 0, 0, 0, sinopac.Taipei))
	}
	srv.AddOrders(sinopac.Order{
		OrderNo: "C202611240001", TSNo: "NA024900009001", TSDate: day(24, 10), PayDate: day(24, 11),
		Amount: sinopac.TWD(1000), PayType: sinopac.PayTypeCard, PayStatus: "1C400", RefundFlag: "Y",
		RefundList: []sinopac.Refund{{RefundNo: "R1", RefundDate: day(25, 15), RefundAmount: sinopac.TWD(300), RefundStatus: "2C900"}},
	})
	return srv, now
}

// Fetch a day's statement (對帳).
func ExampleClient_QueryBill() {
	srv, now := statementBook()
	defer srv.Close()
	c, _ := srv.NewClient()

	// Now is only needed here because the simulator's clock is fixed.
	for _, d := range []int{-2, -1} {
		r, err := c.QueryBill(context.Background(), sinopac.BillQuery{BillDate: now.AddDate(0, 0, d), Now: now})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, it := range r.OrderList {
			fmt.Println(r.BillDate, it.TSType, it.OrderNo, it.Amount)
		}
	}
	_, err := c.QueryBill(context.Background(), sinopac.BillQuery{BillDate: now, Now: now})
	fmt.Println(err)
	// Output:
	// 20261124 P C202611240001 NT$1000.00
	// 20261125 R C202611240001 NT$300.00
	// sinopac: invalid BillDate: must be 1 to 30 days before today (Taipei), is 0
}

// List the bank's payouts (撥款) for card payments.
func ExampleClient_QueryAllot() {
	srv, now := statementBook()
	defer srv.Close()
	c, _ := srv.NewClient()

	r, err := c.QueryAllot(context.Background(), sinopac.AllotQuery{
		AllotDateS: now.AddDate(0, 0, -7), AllotDateE: now, PayType: sinopac.PayTypeCard,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range r.Allot {
		fmt.Println(a.AllotDate, "pay", a.PayAmount, "refund", a.RefundAmount, "fee", a.FeeAmount, "net", a.AllotAmount)
		for _, it := range a.List {
			fmt.Println("  ", it.TSType, it.TSNo, it.OrderNo, it.Amount)
		}
	}
	// Output:
	// 20261125 pay NT$1000.00 refund NT$0.00 fee NT$20.00 net NT$980.00
	//    P NA024900009001 C202611240001 NT$1000.00
	// 20261126 pay NT$0.00 refund NT$300.00 fee NT$0.00 net -NT$300.00
	//    R NA024900009001 C202611240001 NT$300.00
}

// Read the browser's ReturnURL form post, then verify it with the bank.
func ExampleParseReturnNotification() {
	form := url.Values{"ShopNo": {"NA0249_001"}, "PayToken": {"PT00000001ABC"}}
	r := httptest.NewRequest(http.MethodPost, "/qpay/return", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	shopNo, payToken, err := sinopac.ParseReturnNotification(r)
	fmt.Println(shopNo, payToken, err)
	// Next: client.QueryPayment(ctx, payToken), and act on its result only.
	// Output:
	// NA0249_001 PT00000001ABC <nil>
}
