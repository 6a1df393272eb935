package sinopac_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// A program configured by the environment: the QPAY_* variables that
// "qpay simulator" prints as export lines point it at the simulator, and
// the shop's real ones at the bank.
func ExampleNewClientFromEnv() {
	sim := qpaytest.NewServer(qpaytest.WithDemoData()) // stands in for "qpay simulator"
	defer sim.Close()
	k := sim.Keys()
	for name, v := range map[string]string{
		sinopac.EnvBaseURL: sim.URL(), sinopac.EnvShopNo: sim.ShopNo(),
		sinopac.EnvHashA1: k.A1, sinopac.EnvHashA2: k.A2, sinopac.EnvHashB1: k.B1, sinopac.EnvHashB2: k.B2,
	} {
		os.Setenv(name, v) // what "export QPAY_…=…" does before the program starts
		defer os.Unsetenv(name)
	}

	c, err := sinopac.NewClientFromEnv()
	if err != nil {
		fmt.Println(err) // names the missing or malformed variable, never a key
		return
	}
	r, err := c.QueryOrders(context.Background(), sinopac.QueryConditions{OrderNo: "A202110507397"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.OrderList[0].OrderNo, r.OrderList[0].Amount, r.OrderList[0].PayStatus.Label())
	// Output:
	// A202110507397 NT$799.00 付款完成 (paid)
}

// LoadConfig with a lookup of its own, and the typed errors it returns.
func ExampleLoadConfig() {
	env := map[string]string{
		sinopac.EnvShopNo:  "NA0249_001",
		sinopac.EnvHashA1:  "86D50DEF3EB7400E",
		sinopac.EnvHashA2:  "01FD27C09E5549E5",
		sinopac.EnvHashB1:  "9E004965F4244953",
		sinopac.EnvSandbox: "1",
	}
	_, err := sinopac.LoadConfig(func(name string) string { return env[name] })
	var ce *sinopac.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Vars, ce.Reason)
	}

	env[sinopac.EnvHashB2] = "7FB3385F414E4F91"
	cfg, err := sinopac.LoadConfig(func(name string) string { return env[name] })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.ShopNo, cfg.BaseURL == sinopac.SandboxURL)
	fmt.Printf("%v\n", cfg) // never the keys

	_, err = sinopac.LoadConfig(func(string) string { return "" })
	fmt.Println(errors.Is(err, sinopac.ErrNoConfig))
	// Output:
	// [QPAY_HASH_B2] not set
	// NA0249_001 true
	// {ShopNo:NA0249_001 BaseURL:https://apisbx.sinopac.com/funBIZ-Sbx/QPay.WebAPI/api Keys:[redacted]}
	// true
}
