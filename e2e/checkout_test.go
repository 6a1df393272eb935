package e2e_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/e2e"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// browserBound is how long one test may drive the browser: a stalled
// Chromium fails the test instead of hanging it.
const browserBound = 60 * time.Second

// browser starts headless Chromium for the test. Without Chromium the test
// is skipped, unless CI or QPAY_REQUIRE_BROWSER is set: then it fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := e2e.ChromiumPath()
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("QPAY_REQUIRE_BROWSER") != "" {
			t.Fatalf("%v (CI or QPAY_REQUIRE_BROWSER is set: the browser test must run)", err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), browserBound)
	t.Cleanup(cancel)
	bctx, stop := e2e.NewBrowser(ctx, path, t.TempDir())
	t.Cleanup(stop)
	if err := chromedp.Do(bctx, e2e.Phone(1)); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return bctx
}

// tab opens a new tab of the browser for one checkout.
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, e2e.Phone(1)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Location())
		t.Fatalf("%s: %v (at %s)", what, err, loc)
	}
}

func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("text of #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// A whole checkout in Chromium: the shop creates a card order and sends
// the browser to CardPayURL; the customer types the test card and the
// OTP; the bank's page sends the browser back to the ReturnURL, where the
// shop verifies the PayToken with OrderPayQuery; OrderQuery shows the card
// paid (1C400, or 1C300 authorised only with AutoBilling N) and the
// BackendURL got the bank's notification. A declined card comes back
// declined, and nothing is paid.
func TestBrowserCheckout(t *testing.T) {
	start := time.Now()
	srv := qpaytest.NewServer()
	t.Cleanup(srv.Close)
	c, err := srv.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	shop := newMerchant(t, c)
	b := browser(t)

	for _, tc := range []struct {
		orderNo, auto string
		want          sinopac.PayStatus
	}{{"E2E-CARD-Y", "Y", "1C400"}, {"E2E-CARD-N", "N", "1C300"}} {
		ctx := tab(t, b)
		do(t, ctx, "opening the shop's checkout", chromedp.Navigate(shop.buyURL(tc.orderNo, tc.auto)), chromedp.WaitVisible(chromedp.ID("CardNo")))
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, qpaytest.PayPagePath+"PayCard?TD=") {
			t.Fatalf("the browser is at %s, not the bank's card page", loc)
		}
		if got := text(t, ctx, "order-no"); got != tc.orderNo {
			t.Fatalf("the card page shows order %q", got)
		}
		// Usable on a phone: nothing wider than the screen.
		if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > e2e.PhoneWidth {
			t.Fatalf("the card page is %d px wide on a %d px phone (%v)", w, e2e.PhoneWidth, err)
		}
		do(t, ctx, "filling in the test card",
			chromedp.SendKeys(chromedp.ID("CardNo"), "4143 5200 0187 0127"),
			chromedp.SendKeys(chromedp.ID("ExpDate"), qpaytest.TestCardExp),
			chromedp.SendKeys(chromedp.ID("CVV"), qpaytest.TestCardCVV),
			chromedp.Click(chromedp.ID("pay")),
			chromedp.WaitVisible(chromedp.ID("OTP")))
		do(t, ctx, "entering the OTP",
			chromedp.SendKeys(chromedp.ID("OTP"), qpaytest.TestOTP),
			chromedp.Click(chromedp.ID("confirm")),
			chromedp.WaitVisible(chromedp.ID("verdict")))
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != shop.srv.URL+"/return" {
			t.Fatalf("after the OTP the browser is at %s, not the shop's ReturnURL", loc)
		}
		if v, no := text(t, ctx, "verdict"), text(t, ctx, "order-no"); v != "paid" || no != tc.orderNo {
			t.Fatalf("the shop's return page says %q for %q", v, no)
		}
		q, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: tc.orderNo})
		if err != nil || len(q.OrderList) != 1 || q.OrderList[0].PayStatus != tc.want {
			t.Fatalf("OrderQuery %s: %+v %v, want %s", tc.orderNo, q, err, tc.want)
		}
	}

	// A declined card.
	ctx := tab(t, b)
	do(t, ctx, "opening the checkout", chromedp.Navigate(shop.buyURL("E2E-DECLINE", "Y")), chromedp.WaitVisible(chromedp.ID("CardNo")))
	do(t, ctx, "paying with another card",
		chromedp.SendKeys(chromedp.ID("CardNo"), "4111 1111 1111 1111"),
		chromedp.SendKeys(chromedp.ID("ExpDate"), "12/35"),
		chromedp.SendKeys(chromedp.ID("CVV"), "123"),
		chromedp.Click(chromedp.ID("pay")),
		chromedp.WaitVisible(chromedp.ID("verdict")))
	if v, d := text(t, ctx, "verdict"), text(t, ctx, "detail"); v != "failed" || d != qpaytest.DeclinedDescription {
		t.Fatalf("the shop's return page after a declined card: %q %q", v, d)
	}
	q, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: "E2E-DECLINE"})
	if err != nil || len(q.OrderList) != 1 || q.OrderList[0].PayStatus != "1C200" || !q.OrderList[0].PayDate.IsZero() {
		t.Fatalf("OrderQuery after a declined card: %+v %v", q, err)
	}

	// The BackendURL heard of each attempt, verified by the shop.
	if err := srv.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	shop.mu.Lock()
	backend, returned := len(shop.backend), len(shop.returned)
	shop.mu.Unlock()
	if backend != 3 || returned != 3 {
		t.Fatalf("the shop verified %d BackendURL and %d ReturnURL notifications, want 3 and 3", backend, returned)
	}
	for _, d := range srv.Deliveries() {
		if d.Kind != qpaytest.NotifyBackend || d.Acknowledged != (d.OrderNo != "E2E-DECLINE") {
			t.Errorf("delivery %+v", d)
		}
	}
	t.Logf("three checkouts in Chromium in %s", time.Since(start).Round(time.Millisecond))
}

// The screenshot helper makes a PNG of a page at the phone's width.
func TestBrowserScreenshot(t *testing.T) {
	srv := qpaytest.NewServer()
	t.Cleanup(srv.Close)
	c, err := srv.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := e2e.SamplePages(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	out := t.TempDir()
	for _, p := range pages {
		path := filepath.Join(out, p.File)
		if err := e2e.TakeScreenshot(ctx, p, 1, path); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() != e2e.PhoneWidth {
			t.Fatalf("%s: %v %v", p.File, err, img)
		}
	}
	if len(pages) != 2 {
		t.Fatalf("%d sample pages", len(pages))
	}
}
