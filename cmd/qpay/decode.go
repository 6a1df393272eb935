package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/funbiz-go/sinopac"
	"github.com/spf13/cobra"
)

// maxEnvelopeBytes bounds what decode reads from FILE or stdin: a full 300-order
// reply is well under 2 MiB.
const maxEnvelopeBytes = 16 << 20

func (a *app) decodeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "decode [FILE]",
		Short: "Verify and decrypt a captured request or reply envelope (from FILE or stdin)",
		Long: `Read one QPay envelope (the JSON posted to or returned by {base}/Order:
Version, ShopNo, APIService, Sign, Nonce, Message) from FILE (stdin without
one, or with -), decrypt its Message with the hash keys, recompute the Sign
and print the plaintext, pretty printed, only when the Sign matches. This is
the bank's 'Calc/Descrypt' page as a command.

The keys come from --hash-a1 … --hash-b2, QPAY_HASH_A1 … QPAY_HASH_B2 or the
shop profile (--shop); with none set, the simulator's public demo keys are
used. When the envelope does not verify, decode says
exactly why: not JSON, a missing field, a Message that is not hex, bad padding
(wrong keys or nonce), or a Sign that does not match the content.`,
		Example: `  qpay decode reply.json
  pbpaste | qpay decode | jq .OrderList`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, source, err := a.hashKeys()
			if err != nil {
				return err
			}
			in, name := a.stdin, "stdin"
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return usagef("cannot read the envelope: %v", err)
				}
				defer f.Close()
				in, name = f, args[0]
			}
			raw, err := io.ReadAll(io.LimitReader(in, maxEnvelopeBytes+1))
			if err != nil {
				return fmt.Errorf("reading %s: %w", name, err)
			}
			if len(raw) > maxEnvelopeBytes {
				return usagef("%s holds more than %d bytes: not one envelope", name, maxEnvelopeBytes)
			}
			env, err := parseEnvelope(raw, name)
			if err != nil {
				return err
			}
			plain, err := openEnvelope(env, keys, source)
			if err != nil {
				return err
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, plain, "", "  "); err != nil {
				return fmt.Errorf("verified plaintext is not JSON: %w", err)
			}
			pretty.WriteByte('\n')
			fmt.Fprintln(a.stderr, "qpay: "+describeVerified(env, plain, source))
			_, err = a.stdout.Write(pretty.Bytes())
			return err
		},
	}
}

// parseEnvelope reads the captured JSON from name (a file, or stdin) and
// checks the envelope's shape, naming the first thing wrong with it.
func parseEnvelope(raw []byte, name string) (*sinopac.APIMessage, error) {
	raw = bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))) // a BOM from Windows editors
	if len(raw) == 0 {
		if name != "stdin" {
			return nil, usagef("%s is empty: it should hold one captured envelope", name)
		}
		return nil, usagef("stdin is empty: pipe a captured envelope, e.g. qpay decode < reply.json, or name its file: qpay decode reply.json")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, usagef("%s is not valid JSON: %s at byte %d", name, se.Error(), se.Offset)
		case errors.As(err, &te):
			return nil, usagef("%s is JSON but not an object: an envelope is {\"Version\":…,\"ShopNo\":…,\"APIService\":…,\"Sign\":…,\"Nonce\":…,\"Message\":…}", name)
		}
		return nil, usagef("%s is not valid JSON: %v", name, err)
	}
	str := func(name string) (string, bool, error) {
		v, ok := fields[name]
		if !ok || string(v) == "null" {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", true, usagef("the envelope's %s is not a JSON string", name)
		}
		return strings.TrimSpace(s), true, nil
	}
	env := &sinopac.APIMessage{}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"Version", &env.Version}, {"ShopNo", &env.ShopNo}, {"APIService", &env.APIService}, {"Sign", &env.Sign}, {"Nonce", &env.Nonce}, {"Message", &env.Message}} {
		v, _, err := str(f.name)
		if err != nil {
			return nil, err
		}
		*f.dst = v
	}
	if env.Message == "" {
		if st, ok, _ := str("Status"); ok {
			desc, _, _ := str("Description")
			return nil, usagef("this is not a sealed envelope but an unencrypted error body (Status %s, Description %q): there is nothing to decrypt or verify", st, desc)
		}
	}
	for _, f := range []struct{ name, v string }{{"Message", env.Message}, {"Nonce", env.Nonce}, {"Sign", env.Sign}} {
		if f.v == "" {
			return nil, usagef("the envelope has no %s (an envelope has Version, ShopNo, APIService, Sign, Nonce and Message)", f.name)
		}
	}
	if i := strings.IndexFunc(env.Message, func(r rune) bool { return !isHexRune(r) }); i >= 0 {
		return nil, &verifyError{fmt.Sprintf("the envelope's Message is not hex: character %d is %q (was it cut or re-encoded when captured?)", i+1, env.Message[i:i+1])}
	}
	if len(env.Sign) != 64 || strings.IndexFunc(env.Sign, func(r rune) bool { return !isHexRune(r) }) >= 0 {
		return nil, &verifyError{fmt.Sprintf("the envelope's Sign is not 64 hex digits (a SHA-256): got %d characters", len(env.Sign))}
	}
	return env, nil
}

func isHexRune(r rune) bool {
	return '0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F'
}

// openEnvelope verifies env with the SDK and turns a failure into the
// reason a person can act on.
func openEnvelope(env *sinopac.APIMessage, keys sinopac.HashKeys, source string) ([]byte, error) {
	hashID, err := keys.HashID()
	if err != nil {
		return nil, err // hashKeys checked them, naming their source
	}
	plain, err := env.OpenReply(hashID) // a request's raw-rule Sign verifies too
	if err == nil {
		return plain, nil
	}
	shop := ""
	if env.ShopNo != "" {
		shop = " of shop " + env.ShopNo
	}
	var me *sinopac.MessageError
	switch {
	case errors.Is(err, sinopac.ErrSignatureMismatch):
		// The Message decrypted to a JSON object with these keys, so the
		// keys are right: the Sign or the content was changed.
		msg := "Sign mismatch: the Message decrypts with " + source + ", but the envelope's Sign does not match its content: the envelope was altered (tampered, forged, or the Sign or Nonce copied from another message). Nothing of it is trustworthy."
		if content, derr := sinopac.DecryptMessage(env.Message, hashID, env.Nonce); derr == nil {
			if want, serr := sinopac.Sign(content, env.Nonce, hashID); serr == nil {
				msg += fmt.Sprintf("\n  envelope Sign: %s\n  content signs: %s", strings.ToUpper(env.Sign), want)
			}
		}
		return nil, &verifyError{msg}
	case errors.Is(err, sinopac.ErrBadPadding):
		return nil, &verifyError{"cannot decrypt the Message: bad PKCS#7 padding after decrypting with " + source +
			". Wrong keys? They must be the hash keys" + shop + "; otherwise the Message or Nonce was altered."}
	case errors.Is(err, sinopac.ErrMessageTruncated) && errors.As(err, &me):
		return nil, &verifyError{"cannot decrypt the Message: " + me.Reason + " (was the capture cut short?)"}
	case errors.Is(err, sinopac.ErrDuplicateField) && errors.As(err, &me):
		return nil, &verifyError{"the Message decrypts with " + source + " to a JSON object that names a field twice (" + me.Reason +
			"): refused whatever its Sign, since the Sign could cover one value and a decoder read the other."}
	case errors.As(err, &me):
		return nil, &verifyError{"decrypting the Message with " + source + " gives no JSON object (" + me.Reason + "). Wrong keys? They must be the hash keys" + shop + "; otherwise the Message or Nonce was altered."}
	}
	return nil, err
}

// describeVerified is the one-line summary printed on stderr.
func describeVerified(env *sinopac.APIMessage, plain []byte, source string) string {
	var top struct{ Status, Description string }
	_ = json.Unmarshal(plain, &top)
	kind := "request"
	if top.Status != "" {
		kind = "reply"
	}
	what := strings.TrimSpace(env.APIService + " " + kind)
	s := "Sign verified with " + source + ": " + what
	if env.ShopNo != "" {
		s += " for shop " + env.ShopNo
	}
	if top.Status != "" {
		s += fmt.Sprintf(" (Status %s, %s)", top.Status, top.Description)
	}
	return s
}
