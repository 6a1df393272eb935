package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes (documented in the README and in "qpay help").
const (
	exitOK      = 0 // success
	exitFailed  = 1 // the bank answered Status F, or another failure explained on stderr
	exitUsage   = 2 // bad flags, arguments, input or credentials: nothing was sent
	exitNetwork = 3 // network or API gateway failure (timeout, refused, HTTP 5xx/4xx)
	exitVerify  = 4 // a reply failed verification: Sign mismatch or undecryptable Message
	exitDiffers = 5 // bill --diff: the statement and the ledger disagree
)

// app is one invocation of qpay: its I/O, environment and global flags.
// Nothing lives in package variables, so tests run it in-process too.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	output  string // table, json or csv
	shopNo  string
	baseURL string
	sandbox bool
	demo    bool
	retries int // -1: the SDK's default policy

	// Secrets given as flags (discouraged: they leak into shell history
	// and process lists); they override the environment.
	secretFlags struct{ a1, a2, b1, b2, keyID string }
	warned      bool

	started bool // a command's RunE began: later errors are not usage errors
}

// run executes qpay with args and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, retries: -1}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

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
With none of them set, qpay runs in demo mode against a built-in simulator
holding demo data.

Exit codes:
  0  success
  1  the bank answered Status F (its code and meaning are printed), or another failure
  2  usage error: bad flag, argument, input or credentials (nothing was sent)
  3  network or API gateway failure (connection, timeout, HTTP 4xx/5xx)
  4  verification failure: a reply's Sign does not match, or it cannot be decrypted
  5  bill --diff found discrepancies between the bank's statement and the ledger`,
		Example: `  qpay query --order-no A202110507397
  qpay query --from 2026-10-01 --to 2026-10-31 --all -o csv > october.csv
  qpay decode < captured-reply.json
  qpay simulator --addr 127.0.0.1:8080`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch a.output {
			case "table", "json", "csv":
			default:
				return usagef("--output must be table, json or csv, got %q", a.output)
			}
			if a.retries < -1 {
				return usagef("--retries must be 0 or more, got %d", a.retries)
			}
			a.started = true
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table, json or csv")
	pf.StringVar(&a.shopNo, "shop-no", "", "shop number (overrides QPAY_SHOP_NO)")
	pf.StringVar(&a.baseURL, "base-url", "", "QPay endpoint base URL (overrides QPAY_BASE_URL)")
	pf.BoolVar(&a.sandbox, "sandbox", false, "use the bank's sandbox (like QPAY_SANDBOX=1)")
	pf.BoolVar(&a.demo, "demo", false, "use the built-in simulator with demo data, whatever the environment says")
	pf.IntVar(&a.retries, "retries", -1, "retries of failed queries (-1: the SDK's default policy, 0: none)")
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

	root.AddCommand(
		a.queryCommand(),
		a.payQueryCommand(),
		a.createCommand(),
		a.maintainCommand(),
		a.billCommand(),
		a.allotCommand(),
		a.reconcileCommand(),
		a.simulatorCommand(),
		a.decodeCommand(),
		a.versionCommand(),
	)
	return root
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
	var ve *verifyError
	if errors.As(err, &ve) {
		return exitVerify, ve.msg
	}
	var de *discrepancyError
	if errors.As(err, &de) {
		return exitDiffers, de.msg
	}
	if code, msg, ok := explainSDK(err); ok {
		return code, msg
	}
	if errors.Is(err, context.Canceled) {
		return exitNetwork, "interrupted"
	}
	return exitFailed, strings.TrimPrefix(err.Error(), "sinopac: ")
}
