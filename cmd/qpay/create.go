package main

import (
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/spf13/cobra"
)

type createFlags struct {
	orderNo, amount, payType, product, memo string
	param1, param2, param3                  string
	returnURL, backendURL                   string
	expire                                  string // ATM deadline
	autoBilling                             string // card
	expMinutes, expBillingDays, staging     int
	choosePay                               string // mobile
	wallet                                  string // e-wallet
	qrCode                                  bool
}

func (a *app) createCommand() *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an order (OrderCreate): ATM virtual account, card, mobile pay or e-wallet",
		Long: `Create an order (APIService OrderCreate) and print where the customer pays:
the virtual account (ATM) or the payment page URL (card, mobile pay, e-wallet).

--amount is in whole New Taiwan dollars: 799, 1200 or 1,200 (commas only
between groups of three digits), optionally with .00; no cents.
An ATM order's deadline is --expire (a date means its 23:59; default: 7 days
from today, Taipei). Running the same create again is always safe: the bank
refuses a second order with an OrderNo (E0302), and the SDK recognises its
own order (same amount and pay type) and shows it as Resolved. When the
outcome is unknown (the reply was lost) the SDK looks the order up; if the
bank's query does not show it yet, run the same command again.`,
		Example: `  qpay create --pay-type A --order-no A20261001001 --amount 799 --product "虛擬帳號訂單" --expire 2026-10-08
  qpay create --pay-type C --order-no C20261001001 --amount 1200 --product "T-shirt" \
      --return-url https://shop.example/return --backend-url https://shop.example/qpay/notify`,
		Args:    cobra.NoArgs,
		PreRunE: a.needCredentials,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := f.request(time.Now())
			if err != nil {
				return err
			}
			c, done, err := a.connect()
			if err != nil {
				return err
			}
			defer done()
			r, err := c.CreateOrder(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.emit(newCreatedView(r))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.orderNo, "order-no", "", "your order number, unique per shop (required, at most 50 bytes)")
	fl.StringVar(&f.amount, "amount", "", "amount in whole NT$, e.g. 799 or 1,200 (required)")
	fl.StringVar(&f.payType, "pay-type", "A", "A (ATM), C (card), M (mobile pay), P (card, trust) or W (e-wallet)")
	fl.StringVar(&f.product, "product", "", "product name shown to the customer (required, at most 60 bytes)")
	fl.StringVar(&f.memo, "memo", "", "memo (at most 30 bytes)")
	fl.StringVar(&f.param1, "param1", "", "your own value, returned in notifications and queries")
	fl.StringVar(&f.param2, "param2", "", "your own value")
	fl.StringVar(&f.param3, "param3", "", "your own value")
	fl.StringVar(&f.returnURL, "return-url", "", "where the customer's browser returns after paying (card, mobile)")
	fl.StringVar(&f.backendURL, "backend-url", "", "where the bank notifies your server")
	fl.StringVar(&f.expire, "expire", "", "ATM: payment deadline, 2026-10-08 (its 23:59) or 2026-10-08T18:00 (default: in 7 days)")
	fl.StringVar(&f.autoBilling, "auto-billing", "Y", "card: Y captures automatically, N waits for 'qpay maintain capture'")
	fl.IntVar(&f.expBillingDays, "exp-billing-days", 0, "card with --auto-billing N: days until the authorisation is captured or lapses (1-30)")
	fl.IntVar(&f.expMinutes, "exp-minutes", 0, "card, mobile: minutes the payment page stays open (1-30, bank default 10)")
	fl.IntVar(&f.staging, "installments", 0, "card: pay in this many instalments (PayTypeSub STAGING)")
	fl.StringVar(&f.choosePay, "choose-pay", "", "mobile: A (Apple Pay), G (Google Pay) or S (Samsung Pay)")
	fl.StringVar(&f.wallet, "wallet", "", "e-wallet: Jko, Line, Plus, Px or IPass")
	fl.BoolVar(&f.qrCode, "qr-code", false, "also ask for a QR code URL")
	_ = cmd.RegisterFlagCompletionFunc("pay-type", fixedCompletions("A\tATM / virtual account", "C\tcredit card", "M\tmobile pay", "P\tcard, funds in trust", "W\te-wallet"))
	return cmd
}

// request builds the OrderCreateRequest; the SDK validates the rest.
func (f *createFlags) request(now time.Time) (sinopac.OrderCreateRequest, error) {
	req := sinopac.OrderCreateRequest{
		OrderNo: strings.TrimSpace(f.orderNo), PayType: sinopac.PayType(strings.ToUpper(f.payType)),
		PrdtName: f.product, Memo: f.memo, Param1: f.param1, Param2: f.param2, Param3: f.param3,
		ReturnURL: f.returnURL, BackendURL: f.backendURL,
	}
	if req.OrderNo == "" {
		return req, usagef("--order-no is required: your unique order number")
	}
	if f.amount == "" {
		return req, usagef("--amount is required: NT$, whole dollars, e.g. --amount 799")
	}
	amt, err := parseAmount("--amount", f.amount)
	if err != nil {
		return req, err
	}
	req.Amount = amt
	if req.PrdtName == "" {
		return req, usagef("--product is required: the product name shown to the customer")
	}
	if f.qrCode {
		req.QRCodeStatus = "Y"
	}
	atmOnly := f.expire != ""
	cardOnly := f.expBillingDays != 0 || f.staging != 0 || f.autoBilling != "Y"
	switch req.PayType {
	case sinopac.PayTypeATM:
		deadline := now.In(sinopac.Taipei).AddDate(0, 0, 7)
		deadline = time.Date(deadline.Year(), deadline.Month(), deadline.Day(), 23, 59, 0, 0, sinopac.Taipei)
		if f.expire != "" {
			if deadline, err = parseWhen("--expire", f.expire, true); err != nil {
				return req, err
			}
			if deadline.Before(now) {
				return req, usagef("--expire %s is in the past", f.expire)
			}
		}
		req.ATMParam = sinopac.ATMExpiry(deadline)
		cardOnly = cardOnly || f.expMinutes != 0
	case sinopac.PayTypeCard, sinopac.PayTypeCardTrust:
		ab := strings.ToUpper(f.autoBilling)
		if ab != "Y" && ab != "N" {
			return req, usagef("--auto-billing must be Y or N, got %q", f.autoBilling)
		}
		req.CardParam = &sinopac.CardParamRequest{AutoBilling: ab, ExpBillingDays: f.expBillingDays, ExpMinutes: f.expMinutes}
		if f.staging > 0 {
			req.CardParam.PayTypeSub, req.CardParam.Staging = "STAGING", f.staging
		}
		cardOnly = false
	case sinopac.PayTypeMobile:
		if f.expMinutes != 0 || f.choosePay != "" {
			req.MobileParam = &sinopac.MobileParamRequest{ExpMinutes: f.expMinutes, ChoosePay: strings.ToUpper(f.choosePay)}
		}
	case sinopac.PayTypeWallet:
		if f.wallet == "" {
			return req, usagef("--wallet is required for --pay-type W: Jko, Line, Plus, Px or IPass")
		}
		req.WalletParam = &sinopac.WalletParamRequest{PayTypeSub: f.wallet}
		cardOnly = cardOnly || f.expMinutes != 0
	default:
		return req, usagef("--pay-type must be A (ATM), C (card), M (mobile pay), P (card, trust) or W (e-wallet), got %q", f.payType)
	}
	switch {
	case atmOnly && req.PayType != sinopac.PayTypeATM:
		return req, usagef("--expire is for ATM orders (--pay-type A) only")
	case cardOnly:
		return req, usagef("--auto-billing, --exp-billing-days and --installments are for card orders (--pay-type C or P) only; --exp-minutes for card and mobile orders")
	case f.choosePay != "" && req.PayType != sinopac.PayTypeMobile:
		return req, usagef("--choose-pay is for mobile pay orders (--pay-type M) only")
	case f.wallet != "" && req.PayType != sinopac.PayTypeWallet:
		return req, usagef("--wallet is for e-wallet orders (--pay-type W) only")
	}
	if err := req.Validate(); err != nil {
		return req, err
	}
	return req, nil
}

// parseAmount reads NT$ for people: whole dollars, "799", with commas
// only as thousands separators ("1,200", "12,345,678": groups of three
// digits), a ".00" that changes nothing, and an "NT$" or "$" in front, so
// that qpay's own output ("NT$1200.00") can be pasted back. Anything else
// is refused, never guessed: "12,00" or "1,2,00" is a typo, not NT$1,200,
// and the bank takes no cents.
func parseAmount(name, v string) (sinopac.Amount, error) {
	s := strings.TrimSpace(v)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "NT$"), "$")
	bad := usagef("%s %q is not an amount in whole NT$: write 799, 1200 or 1,200 (commas between groups of three digits), optionally with .00", name, v)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if hasFrac && frac != "00" {
		if len(frac) <= 2 && strings.Trim(frac, "0123456789") == "" && strings.Trim(frac, "0") != "" {
			return 0, usagef("%s %s: the bank takes whole NT$ only, no cents", name, v)
		}
		return 0, bad
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		if len(groups[0]) < 1 || len(groups[0]) > 3 || groups[0][0] == '0' {
			return 0, bad
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, bad
			}
		}
		whole = strings.Join(groups, "")
	}
	if whole == "" || len(whole) > 12 || strings.Trim(whole, "0123456789") != "" {
		return 0, bad
	}
	var d int64
	for _, c := range whole {
		d = d*10 + int64(c-'0')
	}
	if d == 0 {
		return 0, usagef("%s must be more than 0", name)
	}
	return sinopac.TWD(d), nil
}
