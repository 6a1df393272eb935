package sinopac

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// The environment variables that [LoadConfig] and [NewClientFromEnv] read.
// The qpay command-line tool reads the same ones, by these constants.
const (
	EnvShopNo  = "QPAY_SHOP_NO"  // the shop number, e.g. NA0249_001 (required)
	EnvHashA1  = "QPAY_HASH_A1"  // hash key A1 (required)
	EnvHashA2  = "QPAY_HASH_A2"  // hash key A2 (required)
	EnvHashB1  = "QPAY_HASH_B1"  // hash key B1 (required)
	EnvHashB2  = "QPAY_HASH_B2"  // hash key B2 (required)
	EnvKeyID   = "QPAY_KEY_ID"   // the X-KeyID API key; unset sends none
	EnvSandbox = "QPAY_SANDBOX"  // 1 (true, yes) for the bank's sandbox; 0 (false, no) or unset for production
	EnvBaseURL = "QPAY_BASE_URL" // another endpoint, e.g. a "qpay simulator"; excludes QPAY_SANDBOX=1
)

// EnvVars lists the variables LoadConfig reads, in the order above.
func EnvVars() []string {
	return []string{EnvShopNo, EnvHashA1, EnvHashA2, EnvHashB1, EnvHashB2, EnvKeyID, EnvSandbox, EnvBaseURL}
}

// ErrNoConfig is matched (errors.Is) by the *ConfigError of LoadConfig
// and NewClientFromEnv when none of the QPAY_* variables is set, so that a
// program can fall back to something else (a simulator, a demo mode).
var ErrNoConfig = errors.New("sinopac: no QPAY_* variable is set")

// ConfigError reports QPAY_* variables that are missing, malformed or
// contradict each other. It names the variables, never their values.
type ConfigError struct {
	Vars    []string // the variables at fault, e.g. {"QPAY_HASH_B1", "QPAY_HASH_B2"}
	Missing bool     // the variables are not set (Reason is then "not set")
	Reason  string   // the rule a value breaks, e.g. "must be 16 hex digits or a GUID, got 15 characters"
	Err     error    // the *ValidationError behind a malformed value, if any
	none    bool     // no QPAY_* variable is set at all
}

func (e *ConfigError) Error() string {
	msg := "sinopac: " + strings.Join(e.Vars, ", ") + ": " + e.Reason
	if e.none {
		msg += " (no QPAY_* variable is set)"
	}
	return msg
}

// Unwrap gives the *ValidationError behind a malformed value, if any.
func (e *ConfigError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNoConfig) true when no variable is set.
func (e *ConfigError) Is(target error) bool { return target == ErrNoConfig && e.none }

// Config is a shop's connection as the QPAY_* variables describe it,
// validated by LoadConfig. Its secrets (hash keys, X-KeyID) are kept
// unexported and never printed: a Config prints and logs as its ShopNo and
// BaseURL only.
type Config struct {
	ShopNo  string
	BaseURL string // ProductionURL, SandboxURL (QPAY_SANDBOX=1) or QPAY_BASE_URL
	keys    HashKeys
	keyID   string
}

// LoadConfig reads and validates the QPAY_* variables through getenv
// (os.Getenv when nil; a program with its own precedence of flags, files
// and environment passes a function of its own). Values are trimmed; an
// empty value counts as unset. QPAY_SHOP_NO and the four hash keys are
// required, QPAY_KEY_ID is sent only when set, and QPAY_SANDBOX=1 and
// QPAY_BASE_URL exclude each other; neither means production. Every failure
// is a *ConfigError naming the variables, and with none of them set it
// matches ErrNoConfig.
func LoadConfig(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	v := make(map[string]string, 8)
	for _, name := range EnvVars() {
		if s := strings.TrimSpace(getenv(name)); s != "" {
			v[name] = s
		}
	}
	required := []string{EnvShopNo, EnvHashA1, EnvHashA2, EnvHashB1, EnvHashB2}
	if len(v) == 0 {
		return nil, &ConfigError{Vars: required, Missing: true, Reason: "not set", none: true}
	}
	sandbox := false
	switch s := strings.ToLower(v[EnvSandbox]); s {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		sandbox = true
	default:
		return nil, &ConfigError{Vars: []string{EnvSandbox}, Reason: "must be 1 (or true, yes) for the sandbox, 0 (or false, no) for production"}
	}
	var missing []string
	for _, name := range required {
		if v[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, &ConfigError{Vars: missing, Missing: true, Reason: "not set"}
	}
	if sandbox && v[EnvBaseURL] != "" {
		return nil, &ConfigError{Vars: []string{EnvSandbox, EnvBaseURL}, Reason: "both set: choose the sandbox or another base URL"}
	}

	cfg := &Config{ShopNo: v[EnvShopNo], BaseURL: ProductionURL, keyID: v[EnvKeyID],
		keys: HashKeys{A1: v[EnvHashA1], A2: v[EnvHashA2], B1: v[EnvHashB1], B2: v[EnvHashB2]}}
	switch {
	case sandbox:
		cfg.BaseURL = SandboxURL
	case v[EnvBaseURL] != "":
		cfg.BaseURL = strings.TrimRight(v[EnvBaseURL], "/")
	}
	// The rules of NewClient and its options, checked here to name the
	// variable rather than the field.
	for _, c := range []struct {
		name string
		err  error
	}{
		{EnvShopNo, checkShopNo(cfg.ShopNo)},
		{EnvHashA1, hashKeyError("A1", cfg.keys.A1)},
		{EnvHashA2, hashKeyError("A2", cfg.keys.A2)},
		{EnvHashB1, hashKeyError("B1", cfg.keys.B1)},
		{EnvHashB2, hashKeyError("B2", cfg.keys.B2)},
		{EnvKeyID, optionError(WithKeyID(cfg.keyID), cfg.keyID != "")},
		{EnvBaseURL, optionError(WithBaseURL(cfg.BaseURL), true)},
	} {
		var ve *ValidationError
		if errors.As(c.err, &ve) {
			return nil, &ConfigError{Vars: []string{c.name}, Reason: ve.Reason, Err: ve}
		}
	}
	return cfg, nil
}

// hashKeyError checks one hash key as HashKeys.HashID does.
func hashKeyError(name, k string) error {
	if _, err := parseHashKey(k); err != nil {
		return &ValidationError{Field: "HashKeys." + name, Reason: err.Error()}
	}
	return nil
}

// optionError runs opt on a scratch client, to check its input.
func optionError(opt Option, use bool) error {
	if !use {
		return nil
	}
	return opt(&Client{cred: &credentials{&keyMaterial{}}})
}

// options are the options the configuration stands for: the base URL, and
// the X-KeyID when one is set.
func (cfg *Config) options() []Option {
	opts := []Option{WithBaseURL(cfg.BaseURL)}
	if cfg.keyID != "" {
		opts = append(opts, WithKeyID(cfg.keyID))
	}
	return opts
}

// NewClient returns a Client for the configured shop. opts come after the
// configuration's own options, so they may override them (a WithBaseURL
// wins over QPAY_BASE_URL).
func (cfg *Config) NewClient(opts ...Option) (*Client, error) {
	return NewClient(cfg.ShopNo, cfg.keys, append(cfg.options(), opts...)...)
}

// Format prints the ShopNo and BaseURL only, with every verb.
func (cfg Config) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{ShopNo:%s BaseURL:%s Keys:%s}", cfg.ShopNo, cfg.BaseURL, redacted)
}

// LogValue logs the ShopNo and BaseURL only.
func (cfg Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("shop_no", cfg.ShopNo), slog.String("base_url", cfg.BaseURL))
}

// NewClientFromEnv returns a Client configured by the QPAY_* environment
// variables (see LoadConfig), the ones "qpay simulator" prints as export
// lines. opts are applied after them. A missing or malformed variable is a
// *ConfigError naming it, never its value; with none set the error matches
// ErrNoConfig.
func NewClientFromEnv(opts ...Option) (*Client, error) {
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	return cfg.NewClient(opts...)
}
