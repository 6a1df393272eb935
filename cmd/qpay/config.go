package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// Environment variables qpay reads.
const (
	envShopNo  = "QPAY_SHOP_NO"
	envHashA1  = "QPAY_HASH_A1"
	envHashA2  = "QPAY_HASH_A2"
	envHashB1  = "QPAY_HASH_B1"
	envHashB2  = "QPAY_HASH_B2"
	envKeyID   = "QPAY_KEY_ID"
	envSandbox = "QPAY_SANDBOX"
	envBaseURL = "QPAY_BASE_URL"
)

// credentials are what the environment and flags say about the shop.
type credentials struct {
	shopNo  string
	keys    sinopac.HashKeys
	keyID   string
	sandbox bool
	baseURL string
}

// loadCredentials reads the environment, lets flags override it, and
// reports demo mode (nothing set at all) or names what is missing.
func (a *app) loadCredentials() (cr credentials, demo bool, err error) {
	env := func(name string) string { return strings.TrimSpace(a.getenv(name)) }
	cr = credentials{
		shopNo:  env(envShopNo),
		keys:    sinopac.HashKeys{A1: env(envHashA1), A2: env(envHashA2), B1: env(envHashB1), B2: env(envHashB2)},
		keyID:   env(envKeyID),
		baseURL: env(envBaseURL),
	}
	cr.keys = a.keysFromFlags(cr.keys)
	if a.secretFlags.keyID != "" {
		a.warnSecretFlags()
		cr.keyID = strings.TrimSpace(a.secretFlags.keyID)
	}
	switch v := strings.ToLower(env(envSandbox)); v {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		cr.sandbox = true
	default:
		return cr, false, usagef("%s must be 1 (or 0), got %q", envSandbox, v)
	}
	if a.shopNo != "" {
		cr.shopNo = a.shopNo
	}
	if a.baseURL != "" {
		cr.baseURL = a.baseURL
	}
	cr.sandbox = cr.sandbox || a.sandbox
	if a.demo {
		return credentials{}, true, nil
	}

	required := []struct{ name, v string }{
		{envShopNo, cr.shopNo}, {envHashA1, cr.keys.A1}, {envHashA2, cr.keys.A2},
		{envHashB1, cr.keys.B1}, {envHashB2, cr.keys.B2},
	}
	var missing []string
	for _, r := range required {
		if r.v == "" {
			missing = append(missing, r.name)
		}
	}
	anySet := len(missing) < len(required) || cr.keyID != "" || cr.baseURL != "" || cr.sandbox
	switch {
	case !anySet:
		return credentials{}, true, nil
	case len(missing) > 0:
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		return cr, false, usagef("incomplete credentials: %s %s not set. Set all of %s, %s, %s, %s and %s (or none of the QPAY_* variables for demo mode)",
			strings.Join(missing, ", "), verb, envShopNo, envHashA1, envHashA2, envHashB1, envHashB2)
	case cr.sandbox && cr.baseURL != "":
		return cr, false, usagef("both the sandbox (%s/--sandbox) and a base URL (%s/--base-url) are set: choose one", envSandbox, envBaseURL)
	}
	return cr, false, nil
}

// clientOptions are the options every client of this invocation gets.
func (a *app) clientOptions() []sinopac.Option {
	switch {
	case a.retries == 0:
		return []sinopac.Option{sinopac.WithRetryPolicy(sinopac.NoRetry())}
	case a.retries > 0:
		p := sinopac.DefaultRetryPolicy()
		p.MaxAttempts = a.retries + 1
		return []sinopac.Option{sinopac.WithRetryPolicy(p)}
	}
	return nil
}

// connect builds the client: for the shop in the environment, or, with no
// credentials at all, for an in-process simulator with demo data. The
// returned func releases what connect started.
func (a *app) connect() (*sinopac.Client, func(), error) {
	cr, demo, err := a.loadCredentials()
	if err != nil {
		return nil, nil, err
	}
	if demo {
		srv := qpaytest.NewServer(qpaytest.WithDemoData())
		c, err := srv.NewClient(a.clientOptions()...)
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		why := "no QPAY_* credentials set"
		if a.demo {
			why = "--demo"
		}
		fmt.Fprintf(a.stderr, "qpay: demo mode: %s, using a built-in simulator with demo data (shop %s)\n", why, srv.ShopNo())
		return c, srv.Close, nil
	}
	opts := []sinopac.Option{}
	switch {
	case cr.baseURL != "":
		opts = append(opts, sinopac.WithBaseURL(cr.baseURL))
	case cr.sandbox:
		opts = append(opts, sinopac.WithSandbox())
	}
	if cr.keyID != "" {
		opts = append(opts, sinopac.WithKeyID(cr.keyID))
	}
	opts = append(opts, a.clientOptions()...)
	c, err := sinopac.NewClient(cr.shopNo, cr.keys, opts...)
	if err != nil {
		return nil, nil, credentialError(err)
	}
	return c, func() {}, nil
}

// credentialError names the environment variable (or flag) behind a
// rejected credential instead of the SDK's field name.
func credentialError(err error) error {
	var ve *sinopac.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	names := map[string]string{
		"ShopNo":        envShopNo + " (or --shop-no)",
		"HashKeys.A1":   envHashA1,
		"HashKeys.A2":   envHashA2,
		"HashKeys.B1":   envHashB1,
		"HashKeys.B2":   envHashB2,
		"X-KeyID":       envKeyID,
		"BaseURL":       envBaseURL + " (or --base-url)",
		"HTTPClient":    "",
		"RetryPolicy":   "--retries",
		"MaxReplyBytes": "",
	}
	if n := names[ve.Field]; n != "" {
		return usagef("%s %s", n, ve.Reason)
	}
	return err
}

// hashKeys gives the keys for decode: from the environment, or the
// simulator's demo keys when no QPAY_HASH_* variable is set.
func (a *app) hashKeys() (sinopac.HashKeys, string, error) {
	env := func(name string) string { return strings.TrimSpace(a.getenv(name)) }
	k := a.keysFromFlags(sinopac.HashKeys{A1: env(envHashA1), A2: env(envHashA2), B1: env(envHashB1), B2: env(envHashB2)})
	var missing []string
	for _, f := range []struct{ name, v string }{{envHashA1, k.A1}, {envHashA2, k.A2}, {envHashB1, k.B1}, {envHashB2, k.B2}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	switch {
	case a.demo || len(missing) == 4:
		return qpaytest.DemoKeys, "the demo keys (no QPAY_HASH_* set)", nil
	case len(missing) > 0:
		return k, "", usagef("incomplete hash keys: %s not set (set all four QPAY_HASH_A1 … QPAY_HASH_B2, or none for the demo keys)", strings.Join(missing, ", "))
	}
	if _, err := k.HashID(); err != nil {
		return k, "", credentialError(err)
	}
	return k, "the keys from QPAY_HASH_A1 … QPAY_HASH_B2", nil
}

// keysFromFlags lets --hash-a1 … override the environment's keys, with a
// warning.
func (a *app) keysFromFlags(k sinopac.HashKeys) sinopac.HashKeys {
	for _, f := range []struct {
		flag string
		dst  *string
	}{{a.secretFlags.a1, &k.A1}, {a.secretFlags.a2, &k.A2}, {a.secretFlags.b1, &k.B1}, {a.secretFlags.b2, &k.B2}} {
		if f.flag != "" {
			a.warnSecretFlags()
			*f.dst = strings.TrimSpace(f.flag)
		}
	}
	return k
}

// warnSecretFlags says once that secrets on the command line are exposed.
func (a *app) warnSecretFlags() {
	if !a.warned {
		a.warned = true
		fmt.Fprintln(a.stderr, "qpay: warning: secrets given as flags end up in shell history and process lists; prefer QPAY_HASH_A1 … QPAY_HASH_B2 and QPAY_KEY_ID")
	}
}
