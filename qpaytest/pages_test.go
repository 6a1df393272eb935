package qpaytest_test

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// A whole card checkout over plain HTTP, as a browser follows the pages:
// the card page, the OTP page, then the auto-submitting form back to the
// shop's ReturnURL with the bank's ShopNo and PayToken. The server posts
// the BackendURL itself and leaves the ReturnURL to the browser.
func TestCardPageCheckout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		auto string
		want sinopac.PayStatus
	}{{"Y", "1C400"}, {"N", "1C300"}} {
		t.Run("AutoBilling "+tc.auto, func(t *testing.T) {
			t.Parallel()
			srv, c := newSim(t)
			sh := newShop(t)
			created := cardOrder(t, c, sh, "CARD-"+tc.auto, &sinopac.CardParamRequest{AutoBilling: tc.auto})
			cardURL := created.CardParam.CardPayURL
			if !strings.HasPrefix(cardURL, strings.TrimSuffix(srv.URL(), qpaytest.BasePath)+qpaytest.PayPagePath+"PayCard?TD="+created.TSNo+"&TK=") {
				t.Fatalf("CardPayURL %s", cardURL)
			}

			p := get(t, cardURL)
			h := p.header
			for k, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "X-Frame-Options": "DENY",
				"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"} {
				if h.Get(k) != want {
					t.Errorf("%s: %q, want %q", k, h.Get(k), want)
				}
			}
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("CSP %q", csp)
			}
			if !p.has(`<meta name="viewport" content="width=device-width, initial-scale=1">`, `lang="zh-Hant-TW"`, "信用卡付款 Card payment", "NT$1,200",
				"咖啡豆 &lt;1kg&gt; &amp; 濾紙") {
				t.Fatalf("card page:\n%s", p.body)
			}
			if f := p.form(t, "card-form"); f.action != qpaytest.PayPagePath+"PayCard" || f.fields.Get("CSRFToken") == "" ||
				f.fields.Get("TD") != created.TSNo || f.fields.Get("TK") == "" {
				t.Fatalf("card form %+v", f)
			}

			res := payWithTestCard(t, cardURL)
			if res.status != 200 || !res.has("付款成功 Payment successful") {
				t.Fatalf("result page: HTTP %d\n%s", res.status, res.body)
			}
			ret := res.form(t, "qpay-return")
			tok := ret.fields.Get("PayToken")
			if ret.action != sh.url+"/return" || ret.fields.Get("ShopNo") != srv.ShopNo() || tok == "" || len(ret.fields) != 2 {
				t.Fatalf("return form %+v", ret)
			}
			if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+sh.url) {
				t.Errorf("CSP of the return page %q", csp)
			}
			res.submit(t, ret, nil) // the browser's form POST
			if err := srv.WaitIdle(t.Context()); err != nil {
				t.Fatal(err)
			}
			d := srv.Deliveries()
			if len(d) != 1 || d[0].Kind != qpaytest.NotifyBackend || d[0].PayToken != tok || !d[0].Acknowledged {
				t.Fatalf("Deliveries() = %+v: want the BackendURL only (the browser posts the ReturnURL)", d)
			}
			sh.mu.Lock()
			returns := sh.returns
			sh.mu.Unlock()
			if len(returns) != 1 || returns[0].Get("PayToken") != tok || returns[0].Get("ShopNo") != srv.ShopNo() {
				t.Fatalf("ReturnURL got %v", returns)
			}

			pq, err := c.QueryPayment(t.Context(), tok)
			if err != nil || !pq.Paid() || pq.TSResultContent.LeftCCNo != "414352" || pq.TSResultContent.RightCCNo != "0127" ||
				pq.TSResultContent.CCExpDate != "1235" || pq.TSResultContent.Amount != sinopac.TWD(1200) {
				t.Fatalf("OrderPayQuery %+v %v", pq, err)
			}
			q, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: created.OrderNo})
			if err != nil || len(q.OrderList) != 1 || q.OrderList[0].PayStatus != tc.want || q.OrderList[0].CardParam.AuthCode == "" {
				t.Fatalf("OrderQuery %+v %v", q, err)
			}

			// The page of a paid order only says so.
			again := get(t, cardURL)
			if again.status != http.StatusConflict || !again.has("此訂單已付款 This order has been paid") || len(again.forms) != 0 {
				t.Fatalf("card page after payment: HTTP %d\n%s", again.status, again.body)
			}
		})
	}
}

// Any card but the test card is declined: the order stays waiting, the
// browser goes back to the ReturnURL with the attempt's PayToken, whose
// OrderPayQuery answers the inner Status F with the failure, and stays so
// after the order is paid later with the test card.
func TestCardPageDeclines(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	sh := newShop(t)
	created := cardOrder(t, c, sh, "DECLINE1", nil)
	cardURL := created.CardParam.CardPayURL

	for _, card := range []map[string]string{
		{"CardNo": "4111 1111 1111 1111", "ExpDate": "12/35", "CVV": "123"},
		{"CardNo": qpaytest.TestCardNo, "ExpDate": "11/35", "CVV": "123"},
		{"CardNo": qpaytest.TestCardNo, "ExpDate": "12/35", "CVV": "999"},
	} {
		p := get(t, cardURL)
		res := p.submit(t, p.form(t, "card-form"), card)
		if res.status != 200 || !res.has("付款失敗 Payment declined", "05 拒絕交易") {
			t.Fatalf("declined %v: HTTP %d\n%s", card, res.status, res.body)
		}
		ret := res.form(t, "qpay-return")
		if ret.action != sh.url+"/return" {
			t.Fatalf("return form %+v", ret)
		}
		pq, err := c.QueryPayment(t.Context(), ret.fields.Get("PayToken"))
		if err != nil || !pq.Failed() || pq.Paid() || pq.TSResultContent.Description != qpaytest.DeclinedDescription ||
			pq.TSResultContent.AuthResponseCode != "05" || pq.TSResultContent.APType != "PayOut" || pq.TSResultContent.OrderNo != "DECLINE1" {
			t.Fatalf("OrderPayQuery of a declined card: %+v %v", pq, err)
		}
		if o, _ := srv.Order("DECLINE1"); o.PayStatus != "1C200" {
			t.Fatalf("after a decline: %s", o.PayStatus)
		}
	}
	declined := srv.Deliveries()

	res := payWithTestCard(t, cardURL)
	paidTok := res.form(t, "qpay-return").fields.Get("PayToken")
	if err := srv.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if o, _ := srv.Order("DECLINE1"); o.PayStatus != "1C400" {
		t.Fatalf("after the test card: %s", o.PayStatus)
	}
	for _, d := range declined {
		pq, err := c.QueryPayment(t.Context(), d.PayToken)
		if err != nil || !pq.Failed() {
			t.Fatalf("a declined attempt's token after the payment: %+v %v", pq, err)
		}
	}
	if pq, err := c.QueryPayment(t.Context(), paidTok); err != nil || !pq.Paid() {
		t.Fatalf("the payment's token: %+v %v", pq, err)
	}
	// Each attempt was announced on the BackendURL.
	if n := len(srv.Deliveries()); n != 4 {
		t.Fatalf("%d BackendURL deliveries, want 3 declines and 1 payment", n)
	}
}

// Three wrong one-time passwords decline the payment.
func TestOTPPageDeclinesAfterThreeTries(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	sh := newShop(t)
	created := cardOrder(t, c, sh, "OTP1", nil)
	p := get(t, created.CardParam.CardPayURL)
	p = p.submit(t, p.form(t, "card-form"), map[string]string{"CardNo": qpaytest.TestCardNo, "ExpDate": "1235", "CVV": "123"})
	for try := 1; try < qpaytest.OTPTries; try++ {
		p = p.submit(t, p.form(t, "otp-form"), map[string]string{"OTP": "000000"})
		if p.status != http.StatusUnprocessableEntity || !p.has("驗證碼錯誤") {
			t.Fatalf("wrong OTP %d: HTTP %d\n%s", try, p.status, p.body)
		}
	}
	p = p.submit(t, p.form(t, "otp-form"), map[string]string{"OTP": "000000"})
	if !p.has("付款失敗 Payment declined") {
		t.Fatalf("third wrong OTP:\n%s", p.body)
	}
	pq, err := c.QueryPayment(t.Context(), p.form(t, "qpay-return").fields.Get("PayToken"))
	if err != nil || !pq.Failed() || pq.TSResultContent.Description != qpaytest.OTPFailedDescription {
		t.Fatalf("OrderPayQuery %+v %v", pq, err)
	}
	if o, _ := srv.Order("OTP1"); o.PayStatus != "1C200" {
		t.Fatalf("order %s", o.PayStatus)
	}
}

// Bad input shows the form again with what is wrong; nothing is decided.
func TestCardPageValidation(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	sh := newShop(t)
	created := cardOrder(t, c, sh, "VALID1", nil)
	for _, tc := range []struct {
		card map[string]string
		want string
	}{
		{map[string]string{"CardNo": "4143520001870128", "ExpDate": "12/35", "CVV": "123"}, "卡號格式錯誤"},
		{map[string]string{"CardNo": "41435200", "ExpDate": "12/35", "CVV": "123"}, "卡號格式錯誤"},
		{map[string]string{"CardNo": "4143<b>5200", "ExpDate": "12/35", "CVV": "123"}, "4143&lt;b&gt;5200"},
		{map[string]string{"CardNo": qpaytest.TestCardNo, "ExpDate": "13/35", "CVV": "123"}, "MM/YY"},
		{map[string]string{"CardNo": qpaytest.TestCardNo, "ExpDate": "01/20", "CVV": "123"}, "卡片已過期"},
		{map[string]string{"CardNo": qpaytest.TestCardNo, "ExpDate": "12/35", "CVV": "12"}, "CVV is 3 digits"},
	} {
		p := get(t, created.CardParam.CardPayURL)
		res := p.submit(t, p.form(t, "card-form"), tc.card)
		if res.status != http.StatusUnprocessableEntity || !res.has(tc.want) || len(res.form(t, "card-form").fields.Get("CSRFToken")) == 0 {
			t.Fatalf("%v: HTTP %d, want %q\n%s", tc.card, res.status, tc.want, res.body)
		}
		if strings.Contains(res.body, `value="`+tc.card["CVV"]+`"`) && tc.card["CVV"] != "" {
			t.Fatal("the CVV is echoed back")
		}
	}
	if o, _ := srv.Order("VALID1"); o.PayStatus != "1C200" || len(srv.Deliveries()) != 0 {
		t.Fatalf("after bad input: %s, %d deliveries", o.PayStatus, len(srv.Deliveries()))
	}
}

// Every form POST needs a fresh token of its own order and step; a form
// sent twice pays once; other sites' posts, bad bodies and wrong methods
// are refused.
func TestPagesRefuseForgedAndRepeatedPosts(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	sh := newShop(t)
	a := cardOrder(t, c, sh, "CSRF-A", nil)
	b := cardOrder(t, c, sh, "CSRF-B", nil)
	pa, pb := get(t, a.CardParam.CardPayURL), get(t, b.CardParam.CardPayURL)
	fa, fb := pa.form(t, "card-form"), pb.form(t, "card-form")
	card := map[string]string{"CardNo": qpaytest.TestCardNo, "ExpDate": "12/35", "CVV": "123"}

	post := func(target string, body string, hdr map[string]string) *page {
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(target)
		return parsePage(t, u, resp)
	}
	values := func(f htmlForm, set map[string]string) url.Values {
		v := url.Values{}
		for k := range f.fields {
			v.Set(k, f.fields.Get(k))
		}
		for k, x := range set {
			v.Set(k, x)
		}
		return v
	}
	cardPost := pa.url.ResolveReference(&url.URL{Path: qpaytest.PayPagePath + "PayCard"}).String()

	noToken := values(fa, card)
	noToken.Del("CSRFToken")
	otherOrder := values(fa, card)
	otherOrder.Set("CSRFToken", fb.fields.Get("CSRFToken"))
	otherStep := values(fa, card)
	for name, tc := range map[string]struct {
		target, body string
		hdr          map[string]string
		status       int
	}{
		"no token":               {cardPost, noToken.Encode(), nil, http.StatusForbidden},
		"another order's token":  {cardPost, otherOrder.Encode(), nil, http.StatusForbidden},
		"the card form's on OTP": {pa.url.ResolveReference(&url.URL{Path: qpaytest.PayPagePath + "PayOTP"}).String(), otherStep.Encode(), nil, http.StatusForbidden},
		"another site's page":    {cardPost, values(fa, card).Encode(), map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		"a cross-site fetch":     {cardPost, values(fa, card).Encode(), map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		"a field twice":          {cardPost, values(fa, card).Encode() + "&CVV=123", nil, http.StatusBadRequest},
		"wrong TK":               {cardPost, values(fa, map[string]string{"TK": "x"}).Encode(), nil, http.StatusNotFound},
	} {
		if p := post(tc.target, tc.body, tc.hdr); p.status != tc.status {
			t.Errorf("%s: HTTP %d, want %d\n%s", name, p.status, tc.status, p.body)
		}
	}
	resp, err := noRedirects.Post(cardPost, "application/json", strings.NewReader(values(fa, card).Encode()))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a JSON body: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodPut, a.CardParam.CardPayURL, nil)
	resp, err = noRedirects.Do(req)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	resp.Body.Close()

	// The refused posts used up nothing: the form still works, once.
	otp := pa.submit(t, fa, card)
	otpForm := otp.form(t, "otp-form")
	first := otp.submit(t, otpForm, map[string]string{"OTP": qpaytest.TestOTP})
	second := otp.submit(t, otpForm, map[string]string{"OTP": qpaytest.TestOTP})
	if !first.has("付款成功") || second.status != http.StatusConflict || !second.has("此訂單已付款") || len(second.forms) != 0 {
		t.Fatalf("double submission: first HTTP %d, second HTTP %d\n%s", first.status, second.status, second.body)
	}
	// The card form of another view of the paid order cannot pay it again.
	if again := pa.submit(t, fa, card); again.status != http.StatusConflict {
		t.Fatalf("an old card form after payment: HTTP %d", again.status)
	}
	if err := srv.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := srv.Deliveries(); len(d) != 1 {
		t.Fatalf("%d notifications, want 1: paid once", len(d))
	}
	// A used token of a pending order: the form has expired.
	used := pb.submit(t, fb, map[string]string{"CardNo": "1", "ExpDate": "x", "CVV": "1"})
	if used.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad input: HTTP %d", used.status)
	}
	if again := pb.submit(t, fb, card); again.status != http.StatusForbidden || !again.has("表單已失效") {
		t.Fatalf("a used form token: HTTP %d\n%s", again.status, again.body)
	}
}

// A page never pays an order that expired, was cancelled or does not
// exist; an order past its deadline is expired when its page is opened.
func TestPagesRefuseOrdersNotWaiting(t *testing.T) {
	t.Parallel()
	clock := qpaytest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei))
	srv, c := newSim(t, qpaytest.WithClock(clock))
	sh := newShop(t)
	late := cardOrder(t, c, sh, "LATE1", &sinopac.CardParamRequest{AutoBilling: "Y", ExpMinutes: 5})
	p := get(t, late.CardParam.CardPayURL)
	clock.Advance(6 * time.Minute)
	if res := p.submit(t, p.form(t, "card-form"), map[string]string{"CardNo": qpaytest.TestCardNo, "ExpDate": "12/35", "CVV": "123"}); res.status != http.StatusConflict ||
		!res.has("付款期限已過") {
		t.Fatalf("after the deadline: HTTP %d\n%s", res.status, res.body)
	}
	if o, _ := srv.Order("LATE1"); o.PayStatus != "1C250" {
		t.Fatalf("LATE1 %s, want 1C250", o.PayStatus)
	}

	atm, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "VA1", Amount: sinopac.TWD(500), PayType: sinopac.PayTypeATM,
		ATMParam: sinopac.ATMExpiry(clock.Now().Add(48 * time.Hour)), PrdtName: "x", BackendURL: sh.url + "/backend"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.MaintainOrder(t.Context(), sinopac.OrderMaintainRequest{OrderNo: "VA1", Command: sinopac.CommandCancel}); err != nil {
		t.Fatal(err)
	}
	if p := get(t, atm.ATMParam.WebAtmURL); p.status != http.StatusConflict || !p.has("付款期限已過") || len(p.forms) != 0 {
		t.Fatalf("a disabled virtual account: HTTP %d\n%s", p.status, p.body)
	}

	base := strings.TrimSuffix(srv.URL(), qpaytest.BasePath)
	for _, u := range []string{
		base + qpaytest.PayPagePath + "PayCard?TD=" + late.TSNo + "&TK=wrong",
		base + qpaytest.PayPagePath + "PayCard?TD=NOPE&TK=x",
		base + qpaytest.PayPagePath + "PayWebATM?" + strings.SplitN(late.CardParam.CardPayURL, "?", 2)[1], // a card order's TK on the ATM page
		base + qpaytest.PayPagePath + "Nope",
	} {
		if p := get(t, u); p.status != http.StatusNotFound {
			t.Errorf("%s: HTTP %d", u, p.status)
		}
	}
}

// The virtual-account page shows the account and simulates the
// customer's transfer; the bank announces it on the BackendURL only.
func TestATMPage(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	sh := newShop(t)
	r, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "VA2", Amount: sinopac.TWD(2500), PayType: sinopac.PayTypeATM,
		ATMParam: sinopac.ATMExpiry(time.Now().Add(72 * time.Hour)), PrdtName: "年度會員", ReturnURL: sh.url + "/return", BackendURL: sh.url + "/backend"})
	if err != nil {
		t.Fatal(err)
	}
	p := get(t, r.ATMParam.WebAtmURL)
	if p.status != 200 || !p.has(r.ATMParam.AtmPayNo, "807", "NT$2,500", "模擬轉帳") {
		t.Fatalf("ATM page: HTTP %d\n%s", p.status, p.body)
	}
	res := p.submit(t, p.form(t, "atm-form"), nil)
	if res.status != 200 || !res.has("轉帳成功") || len(res.forms) != 0 {
		t.Fatalf("after the transfer: HTTP %d\n%s", res.status, res.body)
	}
	if err := srv.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	o, _ := srv.Order("VA2")
	d := srv.Deliveries()
	if o.PayStatus != "1A400" || len(d) != 1 || d[0].Kind != qpaytest.NotifyBackend || !d[0].Acknowledged {
		t.Fatalf("after the transfer: %s, %+v", o.PayStatus, d)
	}
	if pq, err := c.QueryPayment(t.Context(), d[0].PayToken); err != nil || !pq.Paid() {
		t.Fatalf("OrderPayQuery %+v %v", pq, err)
	}
}

// The mobile-pay and e-wallet pages pay and send the browser back.
func TestMobileAndWalletPages(t *testing.T) {
	t.Parallel()
	srv, c := newSim(t)
	sh := newShop(t)
	m, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "MOB1", Amount: sinopac.TWD(150), PayType: sinopac.PayTypeMobile,
		MobileParam: &sinopac.MobileParamRequest{ChoosePay: "G"}, PrdtName: "電子票券", ReturnURL: sh.url + "/return", BackendURL: sh.url + "/backend"})
	if err != nil {
		t.Fatal(err)
	}
	p := get(t, m.MobileParam.MobilePayURL)
	if !p.has("Google Pay") || p.has("Apple Pay") {
		t.Fatalf("mobile page (ChoosePay G):\n%s", p.body)
	}
	if bad := p.submit(t, p.form(t, "mobile-form"), map[string]string{"Method": "A"}); bad.status != http.StatusUnprocessableEntity {
		t.Fatalf("a method not offered: HTTP %d", bad.status)
	}
	p = get(t, m.MobileParam.MobilePayURL)
	res := p.submit(t, p.form(t, "mobile-form"), nil)
	ret := res.form(t, "qpay-return")
	if ret.action != sh.url+"/return" || ret.fields.Get("PayToken") == "" {
		t.Fatalf("mobile result:\n%s", res.body)
	}
	if o, _ := srv.Order("MOB1"); o.PayStatus != "1M400" || o.MobileParam.Paymenthod != "G" {
		t.Fatalf("MOB1 %s %+v", o.PayStatus, o.MobileParam)
	}

	w, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "W1", Amount: sinopac.TWD(90), PayType: sinopac.PayTypeWallet,
		WalletParam: &sinopac.WalletParamRequest{PayTypeSub: "Line"}, PrdtName: "x", ReturnURL: sh.url + "/return"})
	if err != nil {
		t.Fatal(err)
	}
	p = get(t, w.WalletParam.WalletPayURL)
	if !p.has("LINE Pay") {
		t.Fatalf("wallet page:\n%s", p.body)
	}
	res = p.submit(t, p.form(t, "wallet-form"), nil)
	if res.form(t, "qpay-return").fields.Get("PayToken") == "" {
		t.Fatalf("wallet result:\n%s", res.body)
	}
	if o, _ := srv.Order("W1"); o.PayStatus != "1W400" {
		t.Fatalf("W1 %s", o.PayStatus)
	}
}

// Instalments and bonus points, where the order asked for them, show on
// the card page and in the paid order.
func TestCardPageInstalmentsAndBonus(t *testing.T) {
	t.Parallel()
	_, c := newSim(t)
	sh := newShop(t)
	st := cardOrder(t, c, sh, "STG1", &sinopac.CardParamRequest{AutoBilling: "Y", PayTypeSub: "STAGING", Staging: 3})
	p := get(t, st.CardParam.CardPayURL)
	if !p.has("分 3 期付款：首期 NT$400，其餘每期 NT$400") {
		t.Fatalf("instalments:\n%s", p.body)
	}
	res := payWithTestCard(t, st.CardParam.CardPayURL)
	pq, err := c.QueryPayment(t.Context(), res.form(t, "qpay-return").fields.Get("PayToken"))
	if err != nil || pq.TSResultContent.PayTypeSub != "STAGING" {
		t.Fatalf("OrderPayQuery %+v %v", pq, err)
	}
	q, _ := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "STG1"})
	if cp := q.OrderList[0].CardParam; cp.StagingFirstAmount != sinopac.TWD(400) || cp.StagingEachAmount != sinopac.TWD(400) {
		t.Fatalf("instalments %+v", cp)
	}

	bo := cardOrder(t, c, sh, "BON1", &sinopac.CardParamRequest{AutoBilling: "Y", PayTypeSub: "BONUS"})
	p = get(t, bo.CardParam.CardPayURL)
	if !p.has("使用紅利 1200 點折抵 NT$120") {
		t.Fatalf("bonus:\n%s", p.body)
	}
	otp := p.submit(t, p.form(t, "card-form"), map[string]string{"CardNo": qpaytest.TestCardNo, "ExpDate": "12/35", "CVV": "123", "UseBonus": "Y"})
	otp.submit(t, otp.form(t, "otp-form"), map[string]string{"OTP": qpaytest.TestOTP})
	q, _ = c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "BON1"})
	if cp := q.OrderList[0].CardParam; cp.BonusCount != 1200 || cp.BonusAmount != sinopac.TWD(120) || cp.BonusPayAmount != sinopac.TWD(1080) ||
		cp.BonusLastCount != qpaytest.DemoBonusPoints-1200 {
		t.Fatalf("bonus %+v", cp)
	}
}

// QRCodeURL is a PNG of QRCodeSize pixels.
func TestQRCodeURL(t *testing.T) {
	t.Parallel()
	_, c := newSim(t)
	r, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: "QR1", Amount: sinopac.TWD(100), PayType: sinopac.PayTypeCard,
		CardParam: &sinopac.CardParamRequest{AutoBilling: "Y"}, PrdtName: "x", QRCodeStatus: "Y", QRCodeSize: 420})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirects.Get(r.QRCodeURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || resp.Header.Get("Content-Type") != "image/png" || img.Bounds().Dx() != 420 || img.Bounds().Dy() != 420 {
		t.Fatalf("QR code: %v %s %v", err, resp.Header.Get("Content-Type"), img)
	}
	resp, err = noRedirects.Get(strings.Replace(r.QRCodeURL, "TK=", "TK=x", 1))
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a wrong TK: %v %v", resp, err)
	}
	resp.Body.Close()
}

// Payments on the pages follow the test clock's resend schedule: a
// BackendURL that answers wrongly gets the first try and exactly 5
// resends 10 minutes apart; one that answers {"Status":"S"} no more.
func TestPagePaymentResendsOnTheClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, sinopac.Taipei)
	clock := qpaytest.NewClock(t0)
	srv, c := newSim(t, qpaytest.WithClock(clock))
	wrong := newAnswering(t, answer{200, `{"Status":"F"}`})
	third := newAnswering(t, answer{302, ""}, answer{200, "<html>csrf</html>"}, answer{200, `{"Status":"S"}`})
	for no, be := range map[string]*answering{"CLK-WRONG": wrong, "CLK-THIRD": third} {
		r, err := c.CreateOrder(t.Context(), sinopac.OrderCreateRequest{OrderNo: no, Amount: sinopac.TWD(300), PayType: sinopac.PayTypeCard,
			CardParam: &sinopac.CardParamRequest{AutoBilling: "Y", ExpMinutes: 30}, PrdtName: "x", BackendURL: be.URL + "/notify"})
		if err != nil {
			t.Fatal(err)
		}
		if res := payWithTestCard(t, r.CardParam.CardPayURL); !res.has("付款成功") {
			t.Fatalf("%s: %s", no, res.body)
		}
	}
	clock.Advance(50 * time.Minute)
	byOrder := map[string][]qpaytest.Delivery{}
	for _, d := range srv.Deliveries() {
		byOrder[d.OrderNo] = append(byOrder[d.OrderNo], d)
	}
	if w := byOrder["CLK-WRONG"]; len(w) != 6 || wrong.count() != 6 {
		t.Fatalf("wrong answers: %d deliveries, %d calls, want 6", len(w), wrong.count())
	}
	for i, d := range byOrder["CLK-WRONG"] {
		if d.Attempt != i+1 || !d.At.Equal(t0.Add(time.Duration(i)*qpaytest.DefaultNotifyRetry)) || d.Acknowledged || d.Kind != qpaytest.NotifyBackend {
			t.Errorf("try %d: %+v", i+1, d)
		}
	}
	if th := byOrder["CLK-THIRD"]; len(th) != 3 || !th[2].Acknowledged || th[0].Status != 302 {
		t.Fatalf("S on the third try: %+v", th)
	}
	clock.Advance(24 * time.Hour)
	if wrong.count() != 6 || third.count() != 3 {
		t.Fatalf("after a day: %d and %d calls, want 6 and 3", wrong.count(), third.count())
	}
}
