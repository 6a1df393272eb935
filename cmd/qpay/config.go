package main

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/spf13/cobra"
)

// setting is one QPAY_* value and where it came from, so that a message
// names what the operator typed: --hash-a1, QPAY_HASH_A1, or hash_a1 of a
// shop profile.
type setting struct{ value, from string }

// settingFlags names the flag behind each variable.
var settingFlags = map[string]string{
	sinopac.EnvShopNo: "--shop-no", sinopac.EnvHashA1: "--hash-a1", sinopac.EnvHashA2: "--hash-a2",
	sinopac.EnvHashB1: "--hash-b1", sinopac.EnvHashB2: "--hash-b2", sinopac.EnvKeyID: "--key-id",
	sinopac.EnvSandbox: "--sandbox", sinopac.EnvBaseURL: "--base-url",
}

var hashVars = []string{sinopac.EnvHashA1, sinopac.EnvHashA2, sinopac.EnvHashB1, sinopac.EnvHashB2}

// resolved is what qpay connects with: the shop's configuration, or demo
// mode; worked out once per invocation.
type resolved struct {
	settings map[string]setting // by QPAY_* name; absent when unset
	profile  *profile           // the shop profile in use, if any
	cfg      *sinopac.Config    // nil in demo mode
	demo     bool
	err      error
}

// flagValue is the value a flag gives a variable ("" when not given).
func (a *app) flagValue(env string) string {
	f := map[string]string{
		sinopac.EnvShopNo: a.shopNo, sinopac.EnvBaseURL: a.baseURL, sinopac.EnvKeyID: a.secretFlags.keyID,
		sinopac.EnvHashA1: a.secretFlags.a1, sinopac.EnvHashA2: a.secretFlags.a2,
		sinopac.EnvHashB1: a.secretFlags.b1, sinopac.EnvHashB2: a.secretFlags.b2,
	}
	if a.sandbox {
		f[sinopac.EnvSandbox] = "1"
	}
	return strings.TrimSpace(f[env])
}

// credentials works out, once, what to connect with. Each variable comes
// from the first of: its flag, the environment, the shop profile. The
// endpoint is one setting: a layer that sets QPAY_SANDBOX or QPAY_BASE_URL
// replaces both of the layers below it. A profile for another shop than
// the one the flags or environment name is not mixed in: --shop is then an
// error, a file's default is left out.
func (a *app) credentials() *resolved {
	if a.resolved != nil {
		return a.resolved
	}
	r := &resolved{settings: map[string]setting{}}
	a.resolved = r
	if a.demo {
		r.demo = true
		return r
	}
	p, err := a.loadProfile()
	if err != nil {
		r.err = err
		return r
	}
	env := func(name string) string { return strings.TrimSpace(a.getenv(name)) }
	shopNo, shopFrom := a.flagValue(sinopac.EnvShopNo), settingFlags[sinopac.EnvShopNo]
	if shopNo == "" {
		shopNo, shopFrom = env(sinopac.EnvShopNo), sinopac.EnvShopNo
	}
	if p != nil && shopNo != "" && p.values[sinopac.EnvShopNo] != "" && shopNo != p.values[sinopac.EnvShopNo] {
		if p.explicit {
			r.err = usagef("%s says shop %s, but --shop %s is shop %s (%s): choose one", shopFrom, shopNo, p.name, p.values[sinopac.EnvShopNo], p.path)
			return r
		}
		p = nil // the default profile is another shop's
	}
	r.profile = p

	type layer struct {
		value, from func(name string) string
		warn        bool // say when it overrides the profile
	}
	layers := []layer{
		{env, func(name string) string { return name }, true},
		{a.flagValue, func(name string) string { return settingFlags[name] }, false},
	}
	if p != nil {
		layers = append([]layer{{func(name string) string { return p.values[name] }, p.source, false}}, layers...)
	}
	warn := func(l layer, name string, prev setting) {
		if l.warn {
			fmt.Fprintf(a.stderr, "qpay: warning: %s from the environment overrides %s\n", name, prev.from)
		}
	}
	for _, l := range layers {
		sandbox, base := l.value(sinopac.EnvSandbox), l.value(sinopac.EnvBaseURL)
		for _, name := range []string{sinopac.EnvSandbox, sinopac.EnvBaseURL} {
			// This layer's endpoint replaces the one below.
			if prev, ok := r.settings[name]; ok && (sandbox != "" || base != "") && l.value(name) == "" {
				by := sinopac.EnvSandbox
				if base != "" {
					by = sinopac.EnvBaseURL
				}
				warn(l, by, prev)
				delete(r.settings, name)
			}
		}
		for _, name := range sinopac.EnvVars() {
			v := l.value(name)
			if v == "" {
				continue
			}
			if prev, ok := r.settings[name]; ok && prev.value != v {
				warn(l, name, prev)
			}
			r.settings[name] = setting{v, l.from(name)}
		}
	}
	for _, name := range append([]string{sinopac.EnvKeyID}, hashVars...) {
		if a.flagValue(name) != "" {
			a.warnSecretFlags()
		}
	}
	cfg, err := sinopac.LoadConfig(func(name string) string { return r.settings[name].value })
	switch {
	case errors.Is(err, sinopac.ErrNoConfig):
		r.demo = true
	case err != nil:
		r.err = a.configError(r, err)
	default:
		r.cfg = cfg
	}
	return r
}

// configError rewords a *sinopac.ConfigError with the flag, variable or
// profile key that gave each value.
func (a *app) configError(r *resolved, err error) error {
	var ce *sinopac.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	if ce.Missing {
		verb := "is"
		if len(ce.Vars) > 1 {
			verb = "are"
		}
		if r.profile != nil {
			keys := make([]string, len(ce.Vars))
			for i, v := range ce.Vars {
				keys[i] = profileKeys[v]
			}
			return usagef("incomplete credentials: shop %q (%s) has no %s, and %s %s not set", r.profile.name, r.profile.path,
				strings.Join(keys, ", "), strings.Join(ce.Vars, ", "), verb)
		}
		return usagef("incomplete credentials: %s %s not set. Set all of %s, %s, %s, %s and %s (or none of the QPAY_* variables for demo mode)",
			strings.Join(ce.Vars, ", "), verb, sinopac.EnvShopNo, sinopac.EnvHashA1, sinopac.EnvHashA2, sinopac.EnvHashB1, sinopac.EnvHashB2)
	}
	if len(ce.Vars) == 2 && ce.Vars[0] == sinopac.EnvSandbox {
		return usagef("both the sandbox (%s) and a base URL (%s) are set: choose one",
			r.settings[sinopac.EnvSandbox].from, r.settings[sinopac.EnvBaseURL].from)
	}
	from := make([]string, len(ce.Vars))
	for i, v := range ce.Vars {
		from[i] = r.settings[v].from
	}
	return usagef("%s %s", strings.Join(from, ", "), ce.Reason)
}

// needCredentials is the PreRunE of the commands that create, change or
// record state (create, maintain, reconcile, reconcile track). Without
// credentials they refuse to run against the demo simulator, unless --demo
// asks for it: a cron job that lost its QPAY_* variables must fail, not
// give up real orders against demo data and exit 0.
func (a *app) needCredentials(cmd *cobra.Command, _ []string) error {
	r := a.credentials()
	if r.err != nil {
		return r.err
	}
	if r.demo && !a.demo {
		return usagef("%s changes or records state, and no credentials are set (%s, %s … %s, or a shop profile with --shop): refusing to run it against the built-in demo simulator. Give --demo to try it on demo data",
			cmd.CommandPath(), sinopac.EnvShopNo, sinopac.EnvHashA1, sinopac.EnvHashB2)
	}
	return nil
}

// clientOptions are the options every client of this invocation gets.
func (a *app) clientOptions() []sinopac.Option {
	var opts []sinopac.Option
	switch {
	case a.retries == 0:
		opts = append(opts, sinopac.WithRetryPolicy(sinopac.NoRetry()))
	case a.retries > 0:
		p := sinopac.DefaultRetryPolicy()
		p.MaxAttempts = a.retries + 1
		opts = append(opts, sinopac.WithRetryPolicy(p))
	}
	if a.log != nil {
		opts = append(opts, sinopac.WithLogger(a.log))
	}
	return opts
}

// connect builds the client: for the configured shop, or, with no
// credentials at all, for an in-process simulator with demo data. The
// returned func releases what connect started.
func (a *app) connect() (*sinopac.Client, func(), error) {
	r := a.credentials()
	if r.err != nil {
		return nil, nil, r.err
	}
	if r.demo {
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
	if a.log != nil {
		attrs := []any{slog.String("shop_no", r.cfg.ShopNo), slog.String("base_url", r.cfg.BaseURL)}
		for _, name := range sinopac.EnvVars() {
			if s, ok := r.settings[name]; ok {
				attrs = append(attrs, slog.String(name, "from "+s.from)) // where from, never the value
			}
		}
		a.log.Debug("qpay config", attrs...)
	}
	c, err := r.cfg.NewClient(a.clientOptions()...)
	if err != nil {
		return nil, nil, err
	}
	return c, func() {}, nil
}

// hashKeys gives the keys for decode: from the flags, environment or shop
// profile, or the simulator's demo keys when none is set anywhere. source
// says where they came from.
func (a *app) hashKeys() (keys sinopac.HashKeys, source string, err error) {
	r := a.credentials()
	if r.demo && a.demo {
		return qpaytest.DemoKeys, "the demo keys (--demo)", nil
	}
	if r.err != nil && r.cfg == nil && len(r.settings) == 0 {
		return keys, "", r.err // the config file could not be used
	}
	var missing, from []string
	for _, name := range hashVars {
		s, ok := r.settings[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		if !slices.Contains(from, s.from) {
			from = append(from, s.from)
		}
	}
	switch {
	case len(missing) == len(hashVars):
		return qpaytest.DemoKeys, "the demo keys (no QPAY_HASH_* set)", nil
	case len(missing) > 0:
		return keys, "", usagef("incomplete hash keys: %s not set (set all four %s … %s, or none for the demo keys)",
			strings.Join(missing, ", "), sinopac.EnvHashA1, sinopac.EnvHashB2)
	}
	keys = sinopac.HashKeys{A1: r.settings[sinopac.EnvHashA1].value, A2: r.settings[sinopac.EnvHashA2].value,
		B1: r.settings[sinopac.EnvHashB1].value, B2: r.settings[sinopac.EnvHashB2].value}
	if _, err := keys.HashID(); err != nil {
		return keys, "", a.keyError(err)
	}
	return keys, "the keys from " + describeSources(from), nil
}

// describeSources shortens the usual sets of key sources for messages.
func describeSources(from []string) string {
	switch {
	case len(from) == 4 && from[0] == sinopac.EnvHashA1 && from[3] == sinopac.EnvHashB2:
		return sinopac.EnvHashA1 + " … " + sinopac.EnvHashB2
	case len(from) == 4 && from[0] == "--hash-a1" && from[3] == "--hash-b2":
		return "--hash-a1 … --hash-b2"
	case len(from) == 4 && strings.HasPrefix(from[0], "hash_a1 of shop ") && strings.HasPrefix(from[3], "hash_b2 of shop "):
		return "shop" + strings.TrimPrefix(from[0], "hash_a1 of shop")
	}
	return strings.Join(from, ", ")
}

// keyError names the flag, variable or profile key behind a hash key the
// SDK rejected (its field is HashKeys.A1 …).
func (a *app) keyError(err error) error {
	var ve *sinopac.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	for _, name := range hashVars {
		if ve.Field == "HashKeys."+strings.ToUpper(name[len(name)-2:]) {
			return usagef("%s %s", a.credentials().settings[name].from, ve.Reason)
		}
	}
	return err
}

// warnSecretFlags says once that secrets on the command line are exposed.
func (a *app) warnSecretFlags() {
	if !a.warned {
		a.warned = true
		fmt.Fprintln(a.stderr, "qpay: warning: secrets given as flags end up in shell history and process lists; prefer QPAY_HASH_A1 … QPAY_HASH_B2 and QPAY_KEY_ID, or a shop profile")
	}
}
