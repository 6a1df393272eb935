package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/funbiz-go/sinopac"
)

// configFile is qpay's config file: named shop profiles, for operators
// who look after several shops.
//
//	default = "main"          # the shop used without --shop
//
//	[shop.main]
//	shop_no = "NA0249_001"
//	hash_a1 = "…"             # hash_a2, hash_b1, hash_b2 likewise
//	key_id  = "…"
//	sandbox = true            # or base_url = "http://127.0.0.1:8080/funBIZ/QPay.WebAPI/api"
//
// TOML: comments, typed values (sandbox is a boolean, not "1"), and a
// parser that reports unknown keys, so a typo such as hash_a3 is an error
// instead of a silently missing key.
type configFile struct {
	Default string                 `toml:"default"`
	Shops   map[string]shopProfile `toml:"shop"`
}

// shopProfile is one [shop.NAME] table: the QPAY_* variables under other
// names.
type shopProfile struct {
	ShopNo  string `toml:"shop_no"`
	HashA1  string `toml:"hash_a1"`
	HashA2  string `toml:"hash_a2"`
	HashB1  string `toml:"hash_b1"`
	HashB2  string `toml:"hash_b2"`
	KeyID   string `toml:"key_id"`
	Sandbox bool   `toml:"sandbox"`
	BaseURL string `toml:"base_url"`
}

// profileKeys names each variable's key in a shop table.
var profileKeys = map[string]string{
	sinopac.EnvShopNo: "shop_no", sinopac.EnvHashA1: "hash_a1", sinopac.EnvHashA2: "hash_a2",
	sinopac.EnvHashB1: "hash_b1", sinopac.EnvHashB2: "hash_b2", sinopac.EnvKeyID: "key_id",
	sinopac.EnvSandbox: "sandbox", sinopac.EnvBaseURL: "base_url",
}

// values gives the profile as QPAY_* variables.
func (p shopProfile) values() map[string]string {
	v := map[string]string{sinopac.EnvShopNo: p.ShopNo, sinopac.EnvHashA1: p.HashA1, sinopac.EnvHashA2: p.HashA2,
		sinopac.EnvHashB1: p.HashB1, sinopac.EnvHashB2: p.HashB2, sinopac.EnvKeyID: p.KeyID, sinopac.EnvBaseURL: p.BaseURL}
	if p.Sandbox {
		v[sinopac.EnvSandbox] = "1"
	}
	return v
}

func (p shopProfile) holdsSecrets() bool {
	return p.HashA1 != "" || p.HashA2 != "" || p.HashB1 != "" || p.HashB2 != "" || p.KeyID != ""
}

// profile is the shop profile in use: its name, file and values.
type profile struct {
	name, path string
	explicit   bool // chosen with --shop, not by the file's default
	values     map[string]string
}

// source names a profile key for messages: hash_a1 of shop "main" (path).
func (p *profile) source(env string) string {
	return fmt.Sprintf("%s of shop %q (%s)", profileKeys[env], p.name, p.path)
}

// configPath is the config file: --config, or config.toml in qpay's XDG
// config directory ($XDG_CONFIG_HOME/qpay, ~/.config/qpay; %AppData%\qpay
// on Windows). "" when there is no home to look in.
func (a *app) configPath() string {
	if a.configFile != "" {
		return a.configFile
	}
	dir := a.getenv("XDG_CONFIG_HOME")
	switch {
	case filepath.IsAbs(dir):
	case a.getenv("HOME") != "":
		dir = filepath.Join(a.getenv("HOME"), ".config")
	case runtime.GOOS == "windows" && a.getenv("AppData") != "":
		dir = a.getenv("AppData")
	default:
		return ""
	}
	return filepath.Join(dir, "qpay", "config.toml")
}

// loadProfile reads the config file, if there is one, and returns the
// profile chosen by --shop or the file's default (nil for none).
func (a *app) loadProfile() (*profile, error) {
	path := a.configPath()
	if path == "" {
		if a.shop != "" {
			return nil, usagef("--shop %s: no config file (set HOME or XDG_CONFIG_HOME, or give --config FILE)", a.shop)
		}
		return nil, nil
	}
	f, err := readConfigFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && a.configFile == "" && a.shop == "":
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, usagef("no config file %s (it holds the shops that --shop names; see 'qpay help')", path)
	case err != nil:
		return nil, err
	}
	name, explicit := a.shop, a.shop != ""
	if name == "" {
		name = f.Default
	}
	if name == "" {
		return nil, nil
	}
	p, ok := f.Shops[name]
	if !ok {
		names := make([]string, 0, len(f.Shops))
		for n := range f.Shops {
			names = append(names, n)
		}
		slices.Sort(names)
		what := "--shop " + name
		if !explicit {
			what = fmt.Sprintf("default = %q", name)
		}
		return nil, usagef("%s: no [shop.%s] in %s (it has: %s)", what, name, path, strings.Join(names, ", "))
	}
	return &profile{name: name, path: path, explicit: explicit, values: p.values()}, nil
}

// readConfigFile parses the config file and refuses one that holds keys
// and that other users may read or change (like ssh with a private key).
func readConfigFile(path string) (*configFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the config file: %w", err)
	}
	var f configFile
	md, err := toml.Decode(string(b), &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			// pe.Message may quote the text at fault, which may be a
			// key: name the line only.
			return nil, usagef("%s line %d is not valid TOML (after key %q): values are quoted strings, e.g. hash_a1 = \"…\", or true/false for sandbox",
				path, pe.Position.Line, pe.LastKey)
		}
		return nil, usagef("%s: %v", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, usagef("%s: unknown key %s (a [shop.NAME] table has shop_no, hash_a1, hash_a2, hash_b1, hash_b2, key_id, sandbox, base_url)",
			path, strings.Join(keys, ", "))
	}
	secrets := false
	for _, p := range f.Shops {
		secrets = secrets || p.holdsSecrets()
	}
	if mode := fi.Mode().Perm(); secrets && mode&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, usagef("%s holds hash keys or API keys and other users can read or change it (mode %04o): run chmod 600 %s", path, mode, path)
	}
	return &f, nil
}
