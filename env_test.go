package sinopac_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// simEnv is the environment "qpay simulator" prints for sim.
func simEnv(sim *qpaytest.Server) map[string]string {
	k := sim.Keys()
	return map[string]string{
		sinopac.EnvBaseURL: sim.URL(), sinopac.EnvShopNo: sim.ShopNo(),
		sinopac.EnvHashA1: k.A1, sinopac.EnvHashA2: k.A2, sinopac.EnvHashB1: k.B1, sinopac.EnvHashB2: k.B2,
	}
}

func lookup(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// with returns a copy of env with the changes applied ("" deletes).
func with(env map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func TestLoadConfigQueriesTheSimulator(t *testing.T) {
	t.Parallel()
	sim := qpaytest.NewServer(qpaytest.WithDemoData(), qpaytest.WithKeyID("key-1"))
	defer sim.Close()
	env := with(simEnv(sim), sinopac.EnvKeyID, "  key-1 ", sinopac.EnvBaseURL, sim.URL()+"/")
	cfg, err := sinopac.LoadConfig(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShopNo != qpaytest.DemoShopNo || cfg.BaseURL != sim.URL() {
		t.Errorf("config %v", cfg)
	}
	c, err := cfg.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	if err != nil || len(r.OrderList) != 1 || r.OrderList[0].Amount != sinopac.TWD(799) {
		t.Fatalf("query through the loaded config: %v %+v", err, r)
	}

	// Without QPAY_KEY_ID no X-KeyID is sent (and no WithKeyID("") error):
	// this simulator wants one, so it answers 401.
	cfg, err = sinopac.LoadConfig(lookup(with(env, sinopac.EnvKeyID, "")))
	if err != nil {
		t.Fatal(err)
	}
	c, err = cfg.NewClient(sinopac.WithRetryPolicy(sinopac.NoRetry()))
	if err != nil {
		t.Fatalf("an unset QPAY_KEY_ID must not be an error: %v", err)
	}
	_, err = c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	var ge *sinopac.GatewayError
	if !errors.As(err, &ge) || ge.StatusCode != 401 {
		t.Errorf("without a key id: %v, want HTTP 401", err)
	}
}

func TestLoadConfigBaseURLs(t *testing.T) {
	t.Parallel()
	keys := map[string]string{sinopac.EnvShopNo: "NA0249_001", sinopac.EnvHashA1: qpaytest.DemoKeys.A1,
		sinopac.EnvHashA2: qpaytest.DemoKeys.A2, sinopac.EnvHashB1: qpaytest.DemoKeys.B1, sinopac.EnvHashB2: qpaytest.DemoKeys.B2}
	for _, tc := range []struct {
		sandbox, base, want string
	}{
		{"", "", sinopac.ProductionURL},
		{"0", "", sinopac.ProductionURL},
		{"no", "", sinopac.ProductionURL},
		{"1", "", sinopac.SandboxURL},
		{"TRUE", "", sinopac.SandboxURL},
		{"yes", "", sinopac.SandboxURL},
		{"false", "http://127.0.0.1:8080/funBIZ/QPay.WebAPI/api", "http://127.0.0.1:8080/funBIZ/QPay.WebAPI/api"},
	} {
		cfg, err := sinopac.LoadConfig(lookup(with(keys, sinopac.EnvSandbox, tc.sandbox, sinopac.EnvBaseURL, tc.base)))
		if err != nil || cfg.BaseURL != tc.want {
			t.Errorf("QPAY_SANDBOX=%q QPAY_BASE_URL=%q: %v, %v; want %s", tc.sandbox, tc.base, cfg, err, tc.want)
			continue
		}
		c, err := cfg.NewClient()
		if err != nil || c.BaseURL() != tc.want || c.ShopNo() != "NA0249_001" {
			t.Errorf("client: %v %v", c, err)
		}
	}
	// A later option wins over the configuration's base URL.
	cfg, _ := sinopac.LoadConfig(lookup(keys))
	c, err := cfg.NewClient(sinopac.WithSandbox())
	if err != nil || c.BaseURL() != sinopac.SandboxURL {
		t.Errorf("WithSandbox after the config: %v %v", c, err)
	}
}

// Every failure names the variables, never a value, and is typed.
func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	secret := "86D50DEF3EB7400X" // a malformed key that must not be echoed
	full := map[string]string{sinopac.EnvShopNo: "NA0249_001", sinopac.EnvHashA1: qpaytest.DemoKeys.A1,
		sinopac.EnvHashA2: qpaytest.DemoKeys.A2, sinopac.EnvHashB1: qpaytest.DemoKeys.B1, sinopac.EnvHashB2: qpaytest.DemoKeys.B2}
	cases := []struct {
		name    string
		env     map[string]string
		vars    []string
		missing bool
		reason  string
	}{
		{"nothing set", nil, []string{sinopac.EnvShopNo, sinopac.EnvHashA1, sinopac.EnvHashA2, sinopac.EnvHashB1, sinopac.EnvHashB2}, true, "not set"},
		{"blank values are unset", map[string]string{sinopac.EnvShopNo: "  ", sinopac.EnvKeyID: "\t"}, []string{sinopac.EnvShopNo, sinopac.EnvHashA1, sinopac.EnvHashA2, sinopac.EnvHashB1, sinopac.EnvHashB2}, true, "not set"},
		{"two keys missing", with(full, sinopac.EnvHashB1, "", sinopac.EnvHashB2, ""), []string{sinopac.EnvHashB1, sinopac.EnvHashB2}, true, "not set"},
		{"only a base URL", map[string]string{sinopac.EnvBaseURL: "http://127.0.0.1:8080"}, []string{sinopac.EnvShopNo, sinopac.EnvHashA1, sinopac.EnvHashA2, sinopac.EnvHashB1, sinopac.EnvHashB2}, true, "not set"},
		{"malformed key", with(full, sinopac.EnvHashB1, secret), []string{sinopac.EnvHashB1}, false, "must contain only hex digits"},
		{"short key", with(full, sinopac.EnvHashA2, "86D50DEF"), []string{sinopac.EnvHashA2}, false, "must be 16 hex digits or a GUID, got 8 characters"},
		{"bad shop", with(full, sinopac.EnvShopNo, "NA0249 001"), []string{sinopac.EnvShopNo}, false, "contains spaces"},
		{"bad sandbox", with(full, sinopac.EnvSandbox, "maybe"), []string{sinopac.EnvSandbox}, false, "must be 1"},
		{"bad base URL", with(full, sinopac.EnvBaseURL, "ftp://x"), []string{sinopac.EnvBaseURL}, false, "absolute http(s) URL"},
		{"sandbox and base URL", with(full, sinopac.EnvSandbox, "1", sinopac.EnvBaseURL, "http://127.0.0.1:8080"), []string{sinopac.EnvSandbox, sinopac.EnvBaseURL}, false, "choose"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := sinopac.LoadConfig(lookup(tc.env))
			var ce *sinopac.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *ConfigError", err, err)
			}
			if strings.Join(ce.Vars, ",") != strings.Join(tc.vars, ",") || ce.Missing != tc.missing || !strings.Contains(ce.Reason, tc.reason) {
				t.Errorf("got Vars %v Missing %v Reason %q; want %v %v %q", ce.Vars, ce.Missing, ce.Reason, tc.vars, tc.missing, tc.reason)
			}
			for _, v := range tc.vars {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("error %q does not name %s", err, v)
				}
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), qpaytest.DemoKeys.A1) {
				t.Errorf("error %q shows a key", err)
			}
			if errors.Is(err, sinopac.ErrNoConfig) != (tc.env == nil || tc.name == "blank values are unset") {
				t.Errorf("errors.Is(ErrNoConfig) = %v", errors.Is(err, sinopac.ErrNoConfig))
			}
			var ve *sinopac.ValidationError
			if errors.As(err, &ve) != (!tc.missing && tc.name != "bad sandbox" && tc.name != "sandbox and base URL") {
				t.Errorf("errors.As(ValidationError) = %v for %v", errors.As(err, &ve), err)
			}
		})
	}
}

// A Config never prints or logs its keys or X-KeyID.
func TestConfigRedacted(t *testing.T) {
	t.Parallel()
	const keyID = "5c8a3f51-0bd4-4e9e-a0a6-3c7f3d1f9e21"
	env := map[string]string{sinopac.EnvShopNo: "NA0249_001", sinopac.EnvHashA1: qpaytest.DemoKeys.A1,
		sinopac.EnvHashA2: qpaytest.DemoKeys.A2, sinopac.EnvHashB1: qpaytest.DemoKeys.B1, sinopac.EnvHashB2: qpaytest.DemoKeys.B2,
		sinopac.EnvKeyID: keyID}
	cfg, err := sinopac.LoadConfig(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		fmt.Fprintf(&out, verb+"\n", cfg)
		fmt.Fprintf(&out, verb+"\n", *cfg)
	}
	b, _ := json.Marshal(cfg)
	out.Write(b)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("cfg", "cfg", cfg, "value", *cfg)
	slog.New(slog.NewTextHandler(&out, nil)).Info("cfg", "cfg", cfg)
	for _, secret := range []string{keyID, qpaytest.DemoKeys.A1, qpaytest.DemoKeys.A2, qpaytest.DemoKeys.B1, qpaytest.DemoKeys.B2} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("a secret appears in\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "NA0249_001") || !strings.Contains(out.String(), sinopac.ProductionURL) {
		t.Errorf("the shop and base URL should show:\n%s", out.String())
	}
}

func TestNewClientFromEnv(t *testing.T) {
	// t.Setenv: not parallel.
	sim := qpaytest.NewServer(qpaytest.WithDemoData())
	defer sim.Close()
	for _, name := range sinopac.EnvVars() {
		t.Setenv(name, "")
	}
	if _, err := sinopac.NewClientFromEnv(); !errors.Is(err, sinopac.ErrNoConfig) {
		t.Errorf("empty environment: %v, want ErrNoConfig", err)
	}
	for k, v := range simEnv(sim) {
		t.Setenv(k, v)
	}
	t.Setenv(sinopac.EnvHashB2, "")
	var ce *sinopac.ConfigError
	if _, err := sinopac.NewClientFromEnv(); !errors.As(err, &ce) || len(ce.Vars) != 1 || ce.Vars[0] != sinopac.EnvHashB2 || errors.Is(err, sinopac.ErrNoConfig) {
		t.Errorf("missing B2: %v", err)
	}
	t.Setenv(sinopac.EnvHashB2, sim.Keys().B2)
	c, err := sinopac.NewClientFromEnv(sinopac.WithRetryPolicy(sinopac.NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.QueryOrders(t.Context(), sinopac.QueryConditions{OrderNo: qpaytest.SeedOrderNo})
	if err != nil || len(r.OrderList) != 1 || !r.OrderList[0].PayStatus.Paid() {
		t.Errorf("query: %v %+v", err, r)
	}
}
