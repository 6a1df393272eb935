package qpaytest_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// The payment pages are plain HTML forms: a test pays a card order over
// HTTP by submitting them as a browser would.
func Example_paymentPages() {
	srv := qpaytest.NewServer()
	defer srv.Close()
	c, _ := srv.NewClient()
	ctx := context.Background()
	created, err := c.CreateOrder(ctx, sinopac.OrderCreateRequest{OrderNo: "WEB-1", Amount: sinopac.TWD(450),
		PayType: sinopac.PayTypeCard, CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "Tea",
		ReturnURL: "https://shop.example/qpay/return"})
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	input := func(page, name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
		return html.UnescapeString(m[1])
	}
	read := func(resp *http.Response) string {
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	hidden := func(page string) url.Values {
		return url.Values{"TD": {input(page, "TD")}, "TK": {input(page, "TK")}, "CSRFToken": {input(page, "CSRFToken")}}
	}
	pageURL, _ := url.Parse(created.CardParam.CardPayURL)
	post := func(page, name string, extra map[string]string) string {
		form := hidden(page)
		for k, v := range extra {
			form.Set(k, v)
		}
		resp, err := client.PostForm(pageURL.ResolveReference(&url.URL{Path: qpaytest.PayPagePath + name}).String(), form)
		if err != nil {
			return err.Error()
		}
		return read(resp)
	}

	resp, err := client.Get(created.CardParam.CardPayURL)
	if err != nil {
		fmt.Println(err)
		return
	}
	card := read(resp)
	otp := post(card, "PayCard", map[string]string{"CardNo": qpaytest.TestCardNo, "ExpDate": qpaytest.TestCardExp, "CVV": qpaytest.TestCardCVV})
	result := post(otp, "PayOTP", map[string]string{"OTP": qpaytest.TestOTP})

	// The result page posts ShopNo and PayToken back to the ReturnURL.
	fmt.Println(regexp.MustCompile(`action="([^"]*)"`).FindStringSubmatch(result)[1], input(result, "ShopNo"))
	pq, err := c.QueryPayment(ctx, input(result, "PayToken"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pq.TSResultContent.OrderNo, pq.Paid())
	o, _ := srv.Order("WEB-1")
	fmt.Println(o.PayStatus, o.PayStatus.Label())
	// Output:
	// https://shop.example/qpay/return NA0249_001
	// WEB-1 true
	// 1C400 請款完成 (captured)
}
