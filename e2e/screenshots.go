package e2e

import (
	"context"
	"os"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/funbiz-go/sinopac"
)

// SamplePage is a payment page to picture: its URL, the element that
// shows it is rendered, and the file name of its picture.
type SamplePage struct {
	URL, WaitID, File string
}

// SamplePages creates, through c (a client of a qpaytest server), the
// orders whose pages docs/ shows: a card order and a virtual-account
// order, and returns their pages.
func SamplePages(ctx context.Context, c *sinopac.Client) ([]SamplePage, error) {
	card, err := c.CreateOrder(ctx, sinopac.OrderCreateRequest{OrderNo: "DOC-CARD-0001", Amount: sinopac.TWD(1280),
		PayType: sinopac.PayTypeCard, CardParam: &sinopac.CardParamRequest{AutoBilling: "Y", ExpMinutes: 30},
		PrdtName: "藍牙耳機 Bluetooth earbuds", ReturnURL: "https://shop.example/qpay/return"})
	if err != nil {
		return nil, err
	}
	atm, err := c.CreateOrder(ctx, sinopac.OrderCreateRequest{OrderNo: "DOC-ATM-0001", Amount: sinopac.TWD(3600),
		PayType: sinopac.PayTypeATM, ATMParam: sinopac.ATMExpiry(time.Now().Add(72 * time.Hour)), PrdtName: "年度會員 Annual membership",
		BackendURL: "https://shop.example/qpay/notify"})
	if err != nil {
		return nil, err
	}
	return []SamplePage{
		{URL: card.CardParam.CardPayURL, WaitID: "CardNo", File: "card-page.png"},
		{URL: atm.ATMParam.WebAtmURL, WaitID: "atm-account", File: "atm-page.png"},
	}, nil
}

// TakeScreenshot opens p in a new tab of the browser ctx (see NewBrowser)
// at the phone's viewport and scale, waits for it, and writes a PNG of the
// whole page to path.
func TakeScreenshot(ctx context.Context, p SamplePage, scale float64, path string) error {
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(tab, Phone(scale), chromedp.Navigate(p.URL), chromedp.WaitVisible(chromedp.ID(p.WaitID))); err != nil {
		return err
	}
	img, err := chromedp.Run(tab, Screenshot())
	if err != nil {
		return err
	}
	return os.WriteFile(path, img, 0o644)
}
