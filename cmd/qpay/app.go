package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes (documented in the README and in "qpay help").
const (
	exitOK      = 0 // success
	exitFailed  = 1 // the bank answered Status F, or another failure explained on stderr
	exitUsage   = 2 // bad flags, arguments, input or credentials: nothing was sent
	exitNetwork = 3 // network or API gateway failure (timeout, refused, HTTP 5xx/4xx)
	exitVerify  = 4 // a reply failed verification: Sign mismatch or undecryptable Message
	exitMissing = 5 // the order asked for by --order-no is not at the bank
	exitDiffers = 6 // bill --diff: the statement and the ledger disagree
)

// app is one invocation of qpay: its I/O, environment and global flags.
// Nothing lives in package variables, so tests run it in-process too.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	output    string // table, wide, json, jsonl or csv
	noHeaders bool
	bom       bool // a UTF-8 byte order mark before CSV, for Excel
	shopNo    string
	baseURL   string
	sandbox   bool
	demo      bool
	retries   int // -1: the SDK's default policy
	timeout   time.Duration
	verbose   bool
	log       *slog.Logger // with --verbose: the SDK's attempts and retries on stderr

	shop       string // --shop: a profile of the config file
	configFile string // --config
	resolved   *resolved

	// Secrets given as flags (discouraged: they leak into shell history
	// and process lists); they override the environment.
	secretFlags struct{ a1, a2, b1, b2, keyID string }
	warned      bool

	started bool // a command's RunE began: later errors are not usage errors
	cancel  func()
}

// run executes qpay with args and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, retries: -1}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	defer func() {
		if a.cancel != nil {
			a.cancel()
		}
	}()

	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code, msg := a.explain(err)
	fmt.Fprintln(stderr, "qpay: "+msg)
	if code == exitUsage && cmd != nil {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "qpay",
		Short: "Operator's tool for the SinoPac 豐收款 (QPay) payment API",
		Long: `qpay queries and maintains orders at SinoPac's 豐收款 (QPay) API, decodes captured
envelopes and runs a local QPay simulator. It is built on the Go SDK
github.com/funbiz-go/sinopac.

Credentials come from the environment:
  QPAY_SHOP_NO                        shop number, e.g. NA0249_001
  QPAY_HASH_A1 QPAY_HASH_A2
  QPAY_HASH_B1 QPAY_HASH_B2           the four hash keys (--hash-a1 … work too, but leak
                                      into shell history: prefer the environment)
  QPAY_KEY_ID                         the X-KeyID API key, if the shop has one
  QPAY_SANDBOX=1                      use the bank's sandbox
  QPAY_BASE_URL                       another QPay endpoint (e.g. a 'qpay simulator')
or from a shop profile in the config file (--shop NAME; see below). Each value
comes from the first of: its flag, its QPAY_* variable, the profile.
With none of them set, qpay runs in demo mode against a built-in simulator
holding demo data; create, maintain and reconcile then refuse to run unless
--demo is given.

Config file ($XDG_CONFIG_HOME/qpay/config.toml, ~/.config/qpay/config.toml;
--config FILE), refused when other users can read it and it holds keys:
  default = "main"                    the shop used without --shop
  [shop.main]
  shop_no = "NA0249_001"
  hash_a1 = "…"                       and hash_a2, hash_b1, hash_b2
  key_id  = "…"
  sandbox = true                      or base_url = "http://127.0.0.1:8080/funBIZ/QPay.WebAPI/api"

Exit codes:
  0  success
  1  the bank answered Status F (its code and meaning are printed), or another failure
  2  usage error: bad flag, argument, input or credentials (nothing was sent)
  3  network or API gateway failure (connection, timeout, HTTP 4xx/5xx)
  4  verification failure: a reply's Sign does not match, or it cannot be decrypted
  5  not found: the bank has no order with the --order-no asked for
  6  bill --diff found discrepancies between the bank's statement and the ledger`,
		Example: `  qpay query --order-no A202110507397
  qpay query --from 2026-10-01 --to 2026-10-31 --all -o csv --bom > october.csv
  qpay --shop second-shop uncaptured -o wide
  qpay decode captured-reply.json
  qpay simulator --addr 127.0.0.1:8080`,
		Version:       newVersionView().line(),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutputFlags(cmd); err != nil {
				return err
			}
			if a.retries < -1 {
				return usagef("--retries must be 0 or more, got %d", a.retries)
			}
			if a.timeout < 0 {
				return usagef("--timeout must be 0 (none) or more, got %s", a.timeout)
			}
			if a.timeout > 0 {
				ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
				cmd.SetContext(ctx)
				a.cancel = cancel
			}
			if a.verbose {
				a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			a.started = true
			return nil
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table, wide (more columns), json, jsonl (one JSON object per line) or csv")
	pf.BoolVar(&a.noHeaders, "no-headers", false, "table, wide, csv: no header row (and no summary line under a table)")
	pf.BoolVar(&a.bom, "bom", false, "csv: start with a UTF-8 byte order mark, so Excel (zh-TW Windows) reads the Chinese text")
	pf.StringVar(&a.shopNo, "shop-no", "", "shop number (overrides QPAY_SHOP_NO)")
	pf.StringVar(&a.shop, "shop", "", "use the shop profile NAME of the config file ([shop.NAME]); QPAY_* variables still win")
	pf.StringVar(&a.configFile, "config", "", "the config file of shop profiles (default $XDG_CONFIG_HOME/qpay/config.toml)")
	pf.StringVar(&a.baseURL, "base-url", "", "QPay endpoint base URL (overrides QPAY_BASE_URL)")
	pf.BoolVar(&a.sandbox, "sandbox", false, "use the bank's sandbox (like QPAY_SANDBOX=1)")
	pf.BoolVar(&a.demo, "demo", false, "use the built-in simulator with demo data, whatever the environment says")
	pf.IntVar(&a.retries, "retries", -1, "retries of failed calls: queries after any retryable failure, creates and maintain commands only when the bank provably did not process them (-1: the SDK's default policy, 0: none)")
	pf.DurationVar(&a.timeout, "timeout", 0, "give up after this long, retries included, e.g. 30s (0: no limit but the SDK's 30 s per request)")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log each attempt and retry to stderr (never keys or message contents)")
	for _, f := range []struct {
		dst        *string
		name, what string
	}{
		{&a.secretFlags.a1, "hash-a1", "hash key A1"}, {&a.secretFlags.a2, "hash-a2", "hash key A2"},
		{&a.secretFlags.b1, "hash-b1", "hash key B1"}, {&a.secretFlags.b2, "hash-b2", "hash key B2"},
		{&a.secretFlags.keyID, "key-id", "X-KeyID API key"},
	} {
		pf.StringVar(f.dst, f.name, "", f.what+" (prefer the environment: flags leak into shell history)")
	}
	_ = root.RegisterFlagCompletionFunc("output", fixedCompletions("table\taligned columns", "wide\ttable with more columns",
		"json\tone JSON document", "jsonl\tone JSON object per line", "csv\tRFC 4180, header row"))

	// reconcile prints its events itself, as they are delivered.
	rec := a.reconcileCommand()
	limitOutputs(rec, "table", "json", "csv", "jsonl")
	root.AddCommand(
		a.queryCommand(),
		a.payQueryCommand(),
		a.uncapturedCommand(),
		a.createCommand(),
		a.maintainCommand(),
		a.billCommand(),
		a.allotCommand(),
		rec,
		a.simulatorCommand(),
		a.triggerCommand(),
		a.notifyCommand(),
		a.decodeCommand(),
		a.versionCommand(),
		a.completionCommand(root),
	)
	return root
}

// outputsAnnotation lists the -o formats of a command that does not take
// them all.
const outputsAnnotation = "qpay/outputs"

// limitOutputs restricts cmd and its subcommands to formats.
func limitOutputs(cmd *cobra.Command, formats ...string) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[outputsAnnotation] = strings.Join(formats, ",")
	for _, sub := range cmd.Commands() {
		limitOutputs(sub, formats...)
	}
}

// checkOutputFlags checks -o, --no-headers and --bom for cmd.
func (a *app) checkOutputFlags(cmd *cobra.Command) error {
	formats := []string{"table", "wide", "json", "jsonl", "csv"}
	if s, ok := cmd.Annotations[outputsAnnotation]; ok {
		formats = strings.Split(s, ",")
	}
	if !slices.Contains(formats, a.output) {
		return usagef("--output must be %s for %s, got %q", orList(formats), cmd.CommandPath(), a.output)
	}
	_, limited := cmd.Annotations[outputsAnnotation]
	switch {
	case a.bom && (a.output != "csv" || limited):
		return usagef("--bom is for -o csv (and not for %s)", cmd.CommandPath())
	case a.noHeaders && (a.output == "json" || a.output == "jsonl" || limited):
		return usagef("--no-headers is for -o table, wide and csv (and not for %s)", cmd.CommandPath())
	}
	return nil
}

// orList writes "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// completionCommand replaces cobra's, which prints its help and exits 0
// for a shell it does not know.
func (a *app) completionCommand(root *cobra.Command) *cobra.Command {
	root.CompletionOptions.DisableDefaultCmd = true
	shells := []string{"bash", "zsh", "fish", "powershell"}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script for bash, zsh, fish or powershell",
		Long: `Print the completion script for a shell. Load it, e.g.:
  bash:        source <(qpay completion bash)
  zsh:         qpay completion zsh > "${fpath[1]}/_qpay"
  fish:        qpay completion fish > ~/.config/fish/completions/qpay.fish
  powershell:  qpay completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: shells,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return usagef("completion needs a shell: %s", orList(shells))
			case len(args) > 1 || !slices.Contains(shells, args[0]):
				return usagef("completion: unknown shell %q: choose %s", strings.Join(args, " "), orList(shells))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(a.stdout, true)
			case "zsh":
				return root.GenZshCompletion(a.stdout)
			case "fish":
				return root.GenFishCompletion(a.stdout, true)
			}
			return root.GenPowerShellCompletionWithDesc(a.stdout)
		},
	}
}

// usageError is a mistake in the command line or its input: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// verifyError is a verification failure found by the CLI itself (decode): exit 4.
type verifyError struct{ msg string }

func (e *verifyError) Error() string { return e.msg }

// missingError is an order asked for by --order-no that the bank does
// not have: exit 5.
type missingError struct{ msg string }

func (e *missingError) Error() string { return e.msg }

// explain maps an error to its exit code and a message a person can act on.
func (a *app) explain(err error) (int, string) {
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage, ue.msg
	}
	if !a.started {
		// cobra's own errors: unknown command, wrong number of arguments.
		return exitUsage, err.Error()
	}
	var me *missingError
	if errors.As(err, &me) {
		return exitMissing, me.msg
	}
	var ve *verifyError
	if errors.As(err, &ve) {
		return exitVerify, ve.msg
	}
	var de *discrepancyError
	if errors.As(err, &de) {
		return exitDiffers, de.msg
	}
	var une *unreachableError // trigger, notify: the simulator or the endpoint did not answer
	if errors.As(err, &une) {
		return exitNetwork, une.msg
	}
	code, msg, ok := explainSDK(err)
	switch {
	case ok:
	case errors.Is(err, context.DeadlineExceeded):
		code, msg = exitNetwork, strings.TrimPrefix(err.Error(), "sinopac: ")
	case errors.Is(err, context.Canceled):
		return exitNetwork, "interrupted"
	default:
		return exitFailed, strings.TrimPrefix(err.Error(), "sinopac: ")
	}
	if a.timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
		msg += fmt.Sprintf("\n  --timeout %s ran out", a.timeout)
	}
	return code, msg
}
