package main

import (
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
)

func TestCreateRequestFromFlags(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 10, 1, 9, 0, 0, 0, sinopac.Taipei)
	base := createFlags{orderNo: "A1", amount: "799", payType: "A", product: "虛擬帳號訂單", autoBilling: "Y"}

	atm := base
	req, err := atm.request(now)
	if err != nil {
		t.Fatal(err)
	}
	if req.Amount != sinopac.TWD(799) || req.ATMParam == nil || req.ATMParam.ExpireDate != "20261008" || req.ATMParam.ExpireTime != "2359" || req.CardParam != nil {
		t.Errorf("ATM default deadline: %+v %+v", req, req.ATMParam)
	}
	atm.expire = "2026-10-03T18:30"
	if req, err = atm.request(now); err != nil || req.ATMParam.ExpireDate != "20261003" || req.ATMParam.ExpireTime != "1830" {
		t.Errorf("ATM --expire: %+v %v", req.ATMParam, err)
	}

	card := base
	card.payType, card.amount, card.autoBilling, card.expBillingDays, card.staging = "c", "1,200.00", "n", 7, 3
	req, err = card.request(now)
	if err != nil {
		t.Fatal(err)
	}
	if req.PayType != sinopac.PayTypeCard || req.Amount != sinopac.TWD(1200) || req.ATMParam != nil ||
		*req.CardParam != (sinopac.CardParamRequest{AutoBilling: "N", ExpBillingDays: 7, PayTypeSub: "STAGING", Staging: 3}) {
		t.Errorf("card: %+v %+v", req, req.CardParam)
	}
}

func TestCreateUsageErrors(t *testing.T) {
	t.Parallel()
	ok := []string{"create", "--order-no", "A1", "--amount", "799", "--product", "x"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"create", "--amount", "799", "--product", "x"}, "--order-no is required"},
		{[]string{"create", "--order-no", "A1", "--product", "x"}, "--amount is required"},
		{append(ok[:5:5], "--product", ""), "--product is required"},
		{append(ok, "--amount", "799.50"), "whole NT$ only, no cents"},
		{append(ok, "--amount", "seven"), `--amount "seven" is not an amount in whole NT$`},
		{append(ok, "--amount", "0"), "--amount must be more than 0"},
		{append(ok, "--pay-type", "X"), "--pay-type must be A (ATM), C (card), M (mobile pay), P (card, trust) or W"},
		{append(ok, "--expire", "2020-01-01"), "--expire 2020-01-01 is in the past"},
		{append(ok, "--expire", "tomorrow"), `--expire "tomorrow" is not a date`},
		{append(ok, "--pay-type", "C", "--expire", "2099-01-01"), "--expire is for ATM orders"},
		{append(ok, "--installments", "3"), "are for card orders"},
		{append(ok, "--pay-type", "C", "--auto-billing", "maybe"), "--auto-billing must be Y or N"},
		{append(ok, "--pay-type", "W"), "--wallet is required for --pay-type W"},
		{append(ok, "--choose-pay", "A"), "--choose-pay is for mobile pay orders"},
		{append(ok, "--return-url", "ftp://x"), "invalid ReturnURL"},
		{append(ok, "--amount", "30001"), "invalid Amount"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			t.Parallel()
			r := runInProcess(nil, "", append(tc.args, "--demo")...) // input is checked before the demo starts
			wantCode(t, r, 2)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, "demo mode") {
				t.Error("a usage error started the demo simulator")
			}
		})
	}
}
