package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/spf13/cobra"
)

type simulatorFlags struct {
	addr    string
	keyID   string
	latency time.Duration
	autoPay time.Duration
	noDemo  bool
}

func (a *app) simulatorCommand() *cobra.Command {
	var f simulatorFlags
	cmd := &cobra.Command{
		Use:   "simulator",
		Short: "Run a local QPay (the qpaytest simulator) with the demo shop until interrupted",
		Long: `Serve a local QPay on --addr: the SDK's simulator (package qpaytest) with the
public demo shop, its demo keys and demo data (the seed order A202110507397 and
a generated month of orders in October 2026, and orders of the 30 days before
today: statements for 'qpay bill', payouts for 'qpay allot', PayTokens for
'qpay pay-query', and a few orders waiting for payment). It prints its base URL
and the environment variables that point qpay, the SDK or any other QPay client
at it, and serves until interrupted (Ctrl-C, SIGTERM).

It also serves the bank's payment pages at the URLs OrderCreate returns
(CardPayURL, WebAtmURL, MobilePayURL, WalletPayURL, QRCodeURL): the card page
takes the bank's test card 4143-5200-0187-0127, 12/35, CVV 123, then the OTP
123456, and declines any other card; the ATM page simulates the transfer. And
an admin endpoint (/qpaytest/admin/) for 'qpay trigger' and 'qpay notify'.`,
		Example: `  qpay simulator --addr 127.0.0.1:8080
  qpay simulator --addr 127.0.0.1:8080 --auto-pay 30s --key-id 00000000-0000-0000-0000-000000000000
  qpay trigger pay --order-no A1001          # with the exported QPAY_* lines: the customer pays`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := []qpaytest.Option{qpaytest.WithAdmin()}
			if !f.noDemo {
				opts = append(opts, qpaytest.WithDemoData(), qpaytest.WithRecentDemoData(time.Now()))
			}
			if f.keyID != "" {
				opts = append(opts, qpaytest.WithKeyID(f.keyID))
			}
			if f.latency > 0 {
				opts = append(opts, qpaytest.WithLatency(f.latency))
			}
			if f.autoPay > 0 {
				opts = append(opts, qpaytest.WithAutoPay(f.autoPay))
			}
			srv, err := qpaytest.Start(f.addr, opts...)
			if err != nil {
				return fmt.Errorf("cannot start the simulator on %s: %w", f.addr, err)
			}
			defer srv.Close()
			if err := a.emit(newSimulatorView(srv, f)); err != nil {
				return err
			}
			<-cmd.Context().Done()
			fmt.Fprintln(a.stderr, "qpay: simulator stopped")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)")
	fl.StringVar(&f.keyID, "key-id", "", "require this X-KeyID header on every request (HTTP 401 otherwise)")
	fl.DurationVar(&f.latency, "latency", 0, "delay added to every request, e.g. 200ms")
	fl.DurationVar(&f.autoPay, "auto-pay", 0, "mark new ATM orders paid after this delay, like the sandbox (OrderNo ending in 9 expires instead)")
	fl.BoolVar(&f.noDemo, "empty", false, "start without demo data")
	return cmd
}

// simulatorView is what "qpay simulator" prints once it listens.
type simulatorView struct {
	BaseURL  string            `json:"base_url"`
	ShopNo   string            `json:"shop_no"`
	HashKeys map[string]string `json:"hash_keys"` // public demo values, never a real shop's
	KeyID    string            `json:"key_id,omitempty"`
	DemoData bool              `json:"demo_data"`
	Env      map[string]string `json:"env"`
	PagesURL string            `json:"pages_url"` // where the payment pages are
	AdminURL string            `json:"admin_url"` // qpay trigger, qpay notify
	// PayTokens are a few PayTokens of paid demo orders, for pay-query.
	PayTokens []qpaytest.RecentPayToken `json:"pay_tokens"`
	// Waiting lists demo orders waiting for payment: pay them on their
	// page or with 'qpay trigger pay'.
	Waiting []waitingOrder `json:"waiting"`
}

// waitingOrder is a demo order waiting for payment and its payment page.
type waitingOrder struct {
	OrderNo string `json:"order_no"`
	PayType string `json:"pay_type"`
	Amount  string `json:"amount"`
	PageURL string `json:"page_url"`
}

func newSimulatorView(srv *qpaytest.Server, f simulatorFlags) *simulatorView {
	k := srv.Keys()
	v := &simulatorView{
		BaseURL:  srv.URL(),
		ShopNo:   srv.ShopNo(),
		HashKeys: map[string]string{"A1": k.A1, "A2": k.A2, "B1": k.B1, "B2": k.B2},
		KeyID:    f.keyID,
		DemoData: !f.noDemo,
	}
	origin := strings.TrimSuffix(v.BaseURL, qpaytest.BasePath)
	v.PagesURL, v.AdminURL = origin+qpaytest.PayPagePath, origin+qpaytest.AdminPath
	v.PayTokens = []qpaytest.RecentPayToken{}
	if toks := srv.RecentPayTokens(); len(toks) > 0 {
		v.PayTokens = toks[max(0, len(toks)-3):]
	}
	v.Waiting = []waitingOrder{}
	for _, o := range srv.Orders() {
		if !o.PayStatus.Pending() || !strings.HasPrefix(o.OrderNo, "RD") || !o.ExpireDate.Time().After(time.Now()) {
			continue
		}
		w := waitingOrder{OrderNo: o.OrderNo, PayType: string(o.PayType), Amount: "NT$" + twd(o.Amount)}
		switch {
		case o.CardParam != nil:
			w.PageURL = o.CardParam.CardPayURL
		case o.ATMParam != nil:
			w.PageURL = o.ATMParam.WebAtmURL
		case o.MobileParam != nil:
			w.PageURL = o.MobileParam.MobilePayURL
		}
		v.Waiting = append(v.Waiting, w)
	}
	v.Env = map[string]string{sinopac.EnvBaseURL: v.BaseURL, sinopac.EnvShopNo: v.ShopNo,
		sinopac.EnvHashA1: k.A1, sinopac.EnvHashA2: k.A2, sinopac.EnvHashB1: k.B1, sinopac.EnvHashB2: k.B2}
	if f.keyID != "" {
		v.Env[sinopac.EnvKeyID] = f.keyID
	}
	return v
}

// envOrder is the order the variables are printed in.
var envOrder = []string{sinopac.EnvBaseURL, sinopac.EnvShopNo, sinopac.EnvHashA1, sinopac.EnvHashA2,
	sinopac.EnvHashB1, sinopac.EnvHashB2, sinopac.EnvKeyID}

func (v *simulatorView) table(w io.Writer, _ tableOpts) {
	fmt.Fprintf(w, "QPay simulator serving at %s\n\n", v.BaseURL)
	fmt.Fprintln(w, "Demo shop (public demo credentials, not a real shop's):")
	keyValues(w, kv("  ShopNo", v.ShopNo), kv("  Hash A1", v.HashKeys["A1"]), kv("  Hash A2", v.HashKeys["A2"]),
		kv("  Hash B1", v.HashKeys["B1"]), kv("  Hash B2", v.HashKeys["B2"]), kv("  X-KeyID", v.KeyID))
	fmt.Fprintln(w, "\nPoint qpay or your application at it:")
	for _, name := range envOrder {
		if val, ok := v.Env[name]; ok {
			fmt.Fprintf(w, "  export %s=%s\n", name, val)
		}
	}
	if v.DemoData {
		fmt.Fprintln(w, "\nDemo data: order A202110507397 (paid), a month of orders in October 2026, and the")
		fmt.Fprintln(w, "last 30 days (statements, payouts, PayTokens), e.g.")
		fmt.Fprintln(w, "  qpay query --order-no A202110507397")
		fmt.Fprintln(w, "  qpay bill                                   (yesterday's statement)")
		for _, t := range v.PayTokens[max(0, len(v.PayTokens)-1):] {
			fmt.Fprintf(w, "  qpay pay-query --token %s   (order %s)\n", t.PayToken, t.OrderNo)
		}
	}
	fmt.Fprintf(w, "\nPayment pages at %s… (the URLs OrderCreate returns).\n", v.PagesURL)
	fmt.Fprintln(w, "Test card 4143-5200-0187-0127, 12/35, CVV 123, OTP 123456; any other card is declined.")
	if len(v.Waiting) > 0 {
		fmt.Fprintln(w, "Waiting for payment now:")
		for _, o := range v.Waiting {
			fmt.Fprintf(w, "  %s  %s %s  %s\n", o.OrderNo, o.PayType, o.Amount, o.PageURL)
		}
	}
	fmt.Fprintln(w, "\nDev loop (with the exports above):")
	fmt.Fprintln(w, "  qpay trigger pay|expire|refund --order-no NO     (the bank acts on an order)")
	fmt.Fprintln(w, "  qpay notify --to URL --order-no NO               (would the bank's notification get through?)")
	fmt.Fprintln(w, "\nServing until interrupted (Ctrl-C).")
}

func (v *simulatorView) csv() ([]string, [][]string) {
	rows := [][]string{}
	for _, name := range envOrder {
		if val, ok := v.Env[name]; ok {
			rows = append(rows, []string{name, val})
		}
	}
	return []string{"variable", "value"}, rows
}
