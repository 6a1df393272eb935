package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/spf13/cobra"
)

func (a *app) triggerCommand() *cobra.Command {
	var orderNo, amount string
	cmd := &cobra.Command{
		Use:   "trigger pay|expire|refund --order-no NO",
		Short: "Make a running 'qpay simulator' act as the bank: an order is paid, expires or is refunded",
		Long: `Make a running 'qpay simulator' do what the bank does on its own, so that your
application sees it: the customer pays (pay), the order's payment window
closes (expire), or a refund is made (refund). The simulator is the one
QPAY_BASE_URL (or --base-url, or the shop profile) points at; trigger refuses
to run against anything else, the bank's sandbox and production included,
and says so before sending anything.

  pay     the order is paid, as if the customer paid on the bank's page: a
          virtual account or mobile order becomes x400, a card order 1C400
          (1C300 when it was created with AutoBilling N). The simulator then
          posts the bank's notification to the order's BackendURL (resent
          every 10 minutes, 5 times, until answered {"Status":"S"}) and, for a
          card order, the ReturnURL form POST. The PayToken is printed: try
          'qpay pay-query --token …'. An order past its deadline expires instead.
  expire  a pending order lapses (x250); the bank sends no notification.
  refund  a paid order is refunded as OrderMaintain R refunds it (both steps
          of a virtual account's refund); --amount for part of it.

Exit codes: 0 done, 1 the order's state does not allow it, 2 not a simulator,
3 the simulator cannot be reached, 5 no such order.`,
		Example: `  qpay simulator --addr 127.0.0.1:8080 &     # and export the lines it prints
  qpay trigger pay --order-no A1001
  qpay trigger refund --order-no A1001 --amount 200
  qpay trigger expire --order-no A1002`,
		ValidArgs: []string{"pay", "expire", "refund"},
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != "pay" && args[0] != "expire" && args[0] != "refund") {
				return usagef("trigger needs one action: pay, expire or refund")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			orderNo = strings.TrimSpace(orderNo)
			if orderNo == "" {
				return usagef("--order-no is required")
			}
			body := map[string]any{"OrderNo": orderNo}
			if amount != "" {
				if args[0] != "refund" {
					return usagef("--amount is for refund only")
				}
				amt, err := parseAmount("--amount", amount)
				if err != nil {
					return err
				}
				body["Amount"] = amt
			}
			sim, err := a.simulator(cmd.Context())
			if err != nil {
				return err
			}
			rep, err := sim.post(cmd.Context(), args[0], body)
			if err != nil {
				return err
			}
			return a.emit(&triggerView{Action: args[0], OrderNo: rep.OrderNo, PayType: string(rep.PayType),
				PayStatus: string(rep.PayStatus), PayStatusLabel: rep.PayStatus.Label(), PayToken: rep.PayToken,
				RefundStatus: string(rep.RefundStatus), RefundStatusLabel: labelOrEmpty(rep.RefundStatus)})
		},
	}
	cmd.Flags().StringVar(&orderNo, "order-no", "", "the order to act on")
	cmd.Flags().StringVar(&amount, "amount", "", "refund: the amount in whole NT$ (default: all that is left)")
	return cmd
}

func labelOrEmpty(s sinopac.RefundStatus) string {
	if s == "" {
		return ""
	}
	return s.Label()
}

// simulatorAdmin is the admin endpoint of a running qpay simulator.
type simulatorAdmin struct {
	url, keyID string
	client     *http.Client
}

// adminAnswer is what the simulator's admin endpoint answers.
type adminAnswer struct {
	Simulator    string
	ShopNo       string
	OrderNo      string
	PayType      sinopac.PayType
	PayStatus    sinopac.PayStatus
	PayToken     string
	RefundStatus sinopac.RefundStatus
	Error        string
}

// unreachableError is a simulator or merchant endpoint that did not
// answer: exit 3.
type unreachableError struct{ msg string }

func (e *unreachableError) Error() string { return e.msg }

// simulator finds the admin endpoint of the qpay simulator the
// configuration points at, and refuses anything else: demo mode, the
// bank's own URLs, an endpoint that does not answer as a simulator.
func (a *app) simulator(ctx context.Context) (*simulatorAdmin, error) {
	r := a.credentials()
	if r.err != nil {
		return nil, r.err
	}
	if r.demo {
		return nil, usagef("no QPAY_* settings point at a running simulator: start one ('qpay simulator') and export the lines it prints (QPAY_BASE_URL …)")
	}
	base := r.cfg.BaseURL
	if base == sinopac.ProductionURL || base == sinopac.SandboxURL || strings.Contains(base, "sinopac.com") {
		return nil, usagef("the configured endpoint %s is the bank's, not a qpay simulator: nothing was sent", base)
	}
	origin, ok := strings.CutSuffix(base, qpaytest.BasePath)
	if !ok {
		return nil, usagef("%s is not a qpay simulator's base URL (…%s): nothing was sent", base, qpaytest.BasePath)
	}
	sim := &simulatorAdmin{url: origin + qpaytest.AdminPath, keyID: r.settings[sinopac.EnvKeyID].value,
		client: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	status, hello, err := sim.call(ctx, http.MethodGet, "", nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || hello.Simulator != qpaytest.AdminName {
		return nil, usagef("%s does not answer as a qpay simulator with its admin endpoint (HTTP %d at %s): start 'qpay simulator', or point QPAY_BASE_URL at one",
			base, status, sim.url)
	}
	if hello.ShopNo != r.cfg.ShopNo {
		return nil, usagef("the simulator at %s serves shop %s, not %s", origin, hello.ShopNo, r.cfg.ShopNo)
	}
	return sim, nil
}

// call makes one admin request and decodes its answer.
func (s *simulatorAdmin) call(ctx context.Context, method, action string, body any) (int, adminAnswer, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+action, rd)
	if err != nil {
		return 0, adminAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.keyID != "" {
		req.Header.Set("X-KeyID", s.keyID)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return 0, adminAnswer{}, err
		}
		return 0, adminAnswer{}, &unreachableError{fmt.Sprintf("the simulator does not answer at %s: %v", s.url, err)}
	}
	defer resp.Body.Close()
	var ans adminAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans); err != nil && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, adminAnswer{}, usagef("%s does not answer as a qpay simulator", s.url)
	}
	return resp.StatusCode, ans, nil
}

// post runs an admin action on an order and turns refusals into errors:
// no such order (exit 5), a state that forbids it (exit 1).
func (s *simulatorAdmin) post(ctx context.Context, action string, body any) (adminAnswer, error) {
	status, ans, err := s.call(ctx, http.MethodPost, action, body)
	switch {
	case err != nil:
		return ans, err
	case status == http.StatusNotFound && ans.OrderNo != "":
		return ans, &missingError{fmt.Sprintf("the simulator has no order %s", ans.OrderNo)}
	case status == http.StatusConflict:
		return ans, fmt.Errorf("%s refused: %s (%s)", action, ans.Error, ans.PayStatus.Label())
	case status != http.StatusOK:
		return ans, fmt.Errorf("%s: HTTP %d from the simulator: %s", action, status, ans.Error)
	}
	return ans, nil
}

// triggerView is what trigger did.
type triggerView struct {
	Action            string `json:"action"`
	OrderNo           string `json:"order_no"`
	PayType           string `json:"pay_type"`
	PayStatus         string `json:"pay_status"`
	PayStatusLabel    string `json:"pay_status_label"`
	PayToken          string `json:"pay_token,omitempty"`
	RefundStatus      string `json:"refund_status,omitempty"`
	RefundStatusLabel string `json:"refund_status_label,omitempty"`
}

func (v *triggerView) table(w io.Writer, _ tableOpts) {
	keyValues(w, kv("Order", v.OrderNo), kv("Action", v.Action), kv("PayStatus", v.PayStatus+" "+v.PayStatusLabel),
		kv("RefundStatus", strings.TrimSpace(v.RefundStatus+" "+v.RefundStatusLabel)), kv("PayToken", v.PayToken))
	switch v.Action {
	case "pay":
		fmt.Fprintln(w, "The simulator notifies the order's BackendURL (and a card order's ReturnURL) now.")
		fmt.Fprintf(w, "Check the payment as your backend does: qpay pay-query --token %s\n", v.PayToken)
	case "refund":
		fmt.Fprintf(w, "See it as your backend will: qpay query --order-no %s\n", v.OrderNo)
	}
}

func (v *triggerView) csv() ([]string, [][]string) {
	return []string{"action", "order_no", "pay_type", "pay_status", "pay_status_label", "pay_token", "refund_status", "refund_status_label"},
		[][]string{{v.Action, v.OrderNo, v.PayType, v.PayStatus, v.PayStatusLabel, v.PayToken, v.RefundStatus, v.RefundStatusLabel}}
}
