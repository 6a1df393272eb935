package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/funbiz-go/sinopac/qpaytest"
)

// writeConfig writes an XDG config dir holding qpay/config.toml with
// mode and returns the dir (for XDG_CONFIG_HOME) and the file.
func writeConfig(t *testing.T, mode os.FileMode, text string) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	file = filepath.Join(dir, "qpay", "config.toml")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, mode); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

// shopTOML is a [shop.NAME] table pointing at srv.
func shopTOML(name string, srv *qpaytest.Server) string {
	k := srv.Keys()
	return fmt.Sprintf("[shop.%s]\nshop_no = %q\nbase_url = %q\nhash_a1 = %q\nhash_a2 = %q\nhash_b1 = %q\nhash_b2 = %q\n\n",
		name, srv.ShopNo(), srv.URL(), k.A1, k.A2, k.B1, k.B2)
}

func TestProfilesChooseTheShop(t *testing.T) {
	t.Parallel()
	main, second := qpaytest.NewServer(qpaytest.WithDemoData()), qpaytest.NewServer(qpaytest.WithDemoData())
	defer main.Close()
	defer second.Close()
	xdg, _ := writeConfig(t, 0o600, "# two shops\ndefault = \"main\"\n\n"+shopTOML("main", main)+shopTOML("second", second))
	env := map[string]string{"XDG_CONFIG_HOME": xdg}

	// The default shop, through the binary as a user runs it.
	r := qpay(t, env, "", "query", "--order-no", qpaytest.SeedOrderNo, "-o", "csv")
	wantCode(t, r, 0)
	if r.stderr != "" || !strings.Contains(r.stdout, "A202110507397,NA024900000369") {
		t.Errorf("default shop: %s %s", r.stdout, r.stderr)
	}
	// --shop picks another; state-changing commands run (not demo mode).
	r = qpay(t, env, "", "--shop", "second", "create", "--order-no", "P-1", "--amount", "1,200", "--product", "第二家店")
	wantCode(t, r, 0)
	if _, ok := second.Order("P-1"); !ok {
		t.Error("the order did not reach shop \"second\"")
	}
	if _, ok := main.Order("P-1"); ok {
		t.Error("the order reached the default shop")
	}
	if main.Stats().Requests["OrderQuery"] != 1 || second.Stats().Requests["OrderCreate"] != 1 {
		t.Errorf("requests: main %v, second %v", main.Stats().Requests, second.Stats().Requests)
	}

	// Environment variables still win, one by one, and say so.
	env2 := map[string]string{"XDG_CONFIG_HOME": xdg, "QPAY_BASE_URL": second.URL()}
	r = qpay(t, env2, "", "query", "--order-no", "P-1")
	wantCode(t, r, 0)
	if !strings.Contains(r.stderr, `QPAY_BASE_URL from the environment overrides base_url of shop "main"`) {
		t.Errorf("override warning: %s", r.stderr)
	}

	// The endpoint is one setting: QPAY_BASE_URL replaces a profile's
	// sandbox = true (a sandbox profile pointed at a local simulator).
	xdg2, _ := writeConfig(t, 0o600, strings.Replace(shopTOML("sbx", second), "base_url = ", "sandbox = true\n# base_url = ", 1))
	r = qpay(t, map[string]string{"XDG_CONFIG_HOME": xdg2, "QPAY_BASE_URL": second.URL()}, "", "--shop", "sbx", "query", "--order-no", "P-1")
	wantCode(t, r, 0)
	if !strings.Contains(r.stderr, `QPAY_BASE_URL from the environment overrides sandbox of shop "sbx"`) {
		t.Errorf("endpoint override: %s", r.stderr)
	}

	// An environment naming another shop leaves the default profile out
	// (its keys are not mixed in) and contradicts an explicit --shop.
	env3 := map[string]string{"XDG_CONFIG_HOME": xdg, "QPAY_SHOP_NO": "NA0249_999"}
	r = runInProcess(env3, "", "query", "--order-no", "X")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "QPAY_HASH_A1, QPAY_HASH_A2, QPAY_HASH_B1, QPAY_HASH_B2 are not set") {
		t.Errorf("other shop in the environment: %s", r.stderr)
	}
	r = runInProcess(env3, "", "--shop", "second", "query", "--order-no", "X")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "QPAY_SHOP_NO says shop NA0249_999, but --shop second is shop NA0249_001") {
		t.Errorf("contradiction: %s", r.stderr)
	}

	// decode uses the profile's keys and says so.
	v := loadVectors(t)
	r = runInProcess(env, envelopeJSON(t, v.SeedReply.Envelope), "decode")
	wantCode(t, r, 0)
	if !strings.Contains(r.stderr, `the keys from shop "main"`) {
		t.Errorf("decode with a profile: %s", r.stderr)
	}
}

// A config file is refused, naming the line or key at fault and never a
// key's value.
func TestProfileFileErrors(t *testing.T) {
	t.Parallel()
	srv := qpaytest.NewServer(qpaytest.WithDemoData())
	defer srv.Close()
	secret := qpaytest.DemoKeys.A1
	cases := []struct {
		name, text string
		mode       os.FileMode
		args       []string
		want       []string
	}{
		{"readable by others", shopTOML("main", srv), 0o644, []string{"--shop", "main"},
			[]string{"holds hash keys or API keys and other users can read or change it (mode 0644)", "chmod 600"}},
		{"group-writable", "default = \"main\"\n" + shopTOML("main", srv), 0o620, nil, []string{"mode 0620"}},
		{"unknown key", shopTOML("main", srv) + "hash_a3 = \"x\"\n", 0o600, []string{"--shop", "main"}, []string{"unknown key shop.main.hash_a3"}},
		{"unquoted key", "[shop.main]\nshop_no = \"NA0249_001\"\nhash_a1 = " + secret + "\n", 0o600, []string{"--shop", "main"},
			[]string{"line 3 is not valid TOML", "values are quoted strings"}},
		{"sandbox as a string", "[shop.main]\nsandbox = \"yes\"\n", 0o600, []string{"--shop", "main"}, []string{"sandbox"}},
		{"no such shop", shopTOML("main", srv) + shopTOML("other", srv), 0o600, []string{"--shop", "nope"},
			[]string{"--shop nope: no [shop.nope] in", "(it has: main, other)"}},
		{"default names no shop", "default = \"gone\"\n" + shopTOML("main", srv), 0o600, nil, []string{`default = "gone": no [shop.gone]`}},
		{"bad key in the profile", strings.Replace(shopTOML("main", srv), secret, "86D50DEF3EB7", 1), 0o600, []string{"--shop", "main"},
			[]string{`hash_a1 of shop "main"`, "must be 16 hex digits or a GUID, got 12 characters"}},
		{"profile lacks a key", strings.Replace(shopTOML("main", srv), "hash_b2", "# hash_b2", 1), 0o600, []string{"--shop", "main"},
			[]string{`shop "main"`, "has no hash_b2, and QPAY_HASH_B2 is not set"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			xdg, _ := writeConfig(t, tc.mode, tc.text)
			r := runInProcess(map[string]string{"XDG_CONFIG_HOME": xdg}, "", append(tc.args, "query", "--order-no", "X")...)
			wantCode(t, r, 2)
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, secret) || strings.Contains(r.stderr, "86D50DEF3EB7") {
				t.Errorf("stderr shows a key:\n%s", r.stderr)
			}
		})
	}
	if n := srv.Stats().NoncesIssued; n != 0 {
		t.Errorf("a refused config sent %d requests", n)
	}

	// A file without secrets may be readable; --config names another file;
	// --shop without any file is an error.
	xdg, _ := writeConfig(t, 0o644, "[shop.sim]\nshop_no = \"NA0249_001\"\nbase_url = \""+srv.URL()+"\"\n")
	k := srv.Keys()
	keys := map[string]string{"XDG_CONFIG_HOME": xdg, "QPAY_HASH_A1": k.A1, "QPAY_HASH_A2": k.A2, "QPAY_HASH_B1": k.B1, "QPAY_HASH_B2": k.B2}
	wantCode(t, runInProcess(keys, "", "--shop", "sim", "query", "--order-no", qpaytest.SeedOrderNo), 0)
	_, file := writeConfig(t, 0o600, shopTOML("x", srv))
	wantCode(t, runInProcess(nil, "", "--config", file, "--shop", "x", "query", "--order-no", qpaytest.SeedOrderNo), 0)
	r := runInProcess(map[string]string{"HOME": t.TempDir()}, "", "--shop", "x", "query", "--order-no", "X")
	wantCode(t, r, 2)
	if !strings.Contains(r.stderr, "no config file") {
		t.Errorf("--shop without a file: %s", r.stderr)
	}
	// HOME/.config is the default place.
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".config", "qpay"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "qpay", "config.toml"), []byte("default = \"x\"\n"+shopTOML("x", srv)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runInProcess(map[string]string{"HOME": home}, "", "query", "--order-no", qpaytest.SeedOrderNo)
	wantCode(t, r, 0)
	if strings.Contains(r.stderr, "demo mode") {
		t.Errorf("~/.config/qpay/config.toml was not read: %s", r.stderr)
	}
}
