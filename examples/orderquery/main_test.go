package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDemoModePrintsSeedOrder(t *testing.T) {
	var out, errOut strings.Builder
	err := run(t.Context(), nil, func(string) string { return "" }, &out, &errOut)
	require.NoError(t, err)
	assert.Equal(t, `Order A202110507397 (TSNo NA024900000369)
  amount    NT$799.00
  pay type  A
  status    1A400 付款完成 (paid): paid
  ordered   2021-10-01 22:43 (Taipei)
  paid      2021-10-01 22:45 (Taipei)
  account   99922530175613 (bank 807)
`, out.String())
	assert.Contains(t, errOut.String(), "demo mode")
}

func TestUnknownOrder(t *testing.T) {
	var out, errOut strings.Builder
	err := run(t.Context(), []string{"-order-no", "NOPE1"}, func(string) string { return "" }, &out, &errOut)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "No order NOPE1 at the bank")
}

func TestPartialCredentialsFail(t *testing.T) {
	env := map[string]string{"QPAY_SHOP_NO": "NA0249_001", "QPAY_HASH_A1": "86D50DEF3EB7400E"}
	var out, errOut strings.Builder
	err := run(t.Context(), nil, func(k string) string { return env[k] }, &out, &errOut)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HashKeys.A2")
	assert.Empty(t, out.String())
}
