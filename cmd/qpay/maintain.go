package main

import (
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/spf13/cobra"
)

func (a *app) maintainCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "maintain",
		Short: "Change an order (OrderMaintain): capture, cancel, refund, stop-recurring, change-expiry",
		Long: `Change an existing order (APIService OrderMaintain). These calls change
money: they are never resent once they may have reached the bank. A refund
first reads the order's refunds; when its outcome is unknown (the reply was
lost), the SDK compares the order's refunds with those and says whether it
was done. Never repeat a refund that ended with "outcome unknown": check the
order's refunds with 'qpay query --order-no' after the time it names, and
confirm with the bank before refunding again. Capture, cancel, stop-recurring
and change-expiry do no harm when repeated.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("choose what to do: qpay maintain capture|cancel|refund|stop-recurring|change-expiry --order-no …")
		},
	}
	type spec struct {
		use, short string
		command    sinopac.MaintainCommand
	}
	for _, s := range []spec{
		{"capture", "Capture a card authorisation (請款, Command P)", sinopac.CommandCapture},
		{"cancel", "Cancel a card authorisation or disable a virtual account (Command C)", sinopac.CommandCancel},
		{"refund", "Refund an order in full, or in part with --amount (Command R)", sinopac.CommandRefund},
		{"stop-recurring", "Stop a recurring card order (Command E)", sinopac.CommandStopRecurring},
		{"change-expiry", "Move a virtual account's deadline to --expire (Command M)", sinopac.CommandChangeExpiry},
	} {
		cmd.AddCommand(a.maintainSubcommand(s.use, s.short, s.command))
	}
	return cmd
}

func (a *app) maintainSubcommand(use, short string, command sinopac.MaintainCommand) *cobra.Command {
	var orderNo, amount, remark, expire string
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Args:    cobra.NoArgs,
		PreRunE: a.needCredentials,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := sinopac.OrderMaintainRequest{OrderNo: strings.TrimSpace(orderNo), Command: command, Remark: remark}
			if req.OrderNo == "" {
				return usagef("--order-no is required")
			}
			if command == sinopac.CommandRefund && amount != "" {
				amt, err := parseAmount("--amount", amount)
				if err != nil {
					return err
				}
				req.Amount = amt
			}
			if command == sinopac.CommandChangeExpiry {
				if expire == "" {
					return usagef("--expire is required: the new deadline, 2026-10-31 (its 23:59) or 2026-10-31T18:00")
				}
				t, err := parseWhen("--expire", expire, true)
				if err != nil {
					return err
				}
				if !t.After(time.Now()) {
					return usagef("--expire %s is in the past: the new deadline must be later than now (Taipei time %s)",
						expire, time.Now().In(sinopac.Taipei).Format(humanTime))
				}
				req.ExpireDateTime = t
			}
			if err := req.Validate(); err != nil {
				return err
			}
			c, done, err := a.connect()
			if err != nil {
				return err
			}
			defer done()
			r, err := c.MaintainOrder(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.emit(newMaintainedView(r))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&orderNo, "order-no", "", "the order's number (required)")
	fl.StringVar(&remark, "remark", "", "a note for the bank (at most 40 bytes)")
	if command == sinopac.CommandRefund {
		fl.StringVar(&amount, "amount", "", "refund this much, in whole NT$ (e.g. 200 or 1,200); default: the whole order")
	}
	if command == sinopac.CommandChangeExpiry {
		fl.StringVar(&expire, "expire", "", "the new deadline: 2026-10-31 (its 23:59) or 2026-10-31T18:00, Taipei")
	}
	return cmd
}

// maintainLabel names a command for people.
func maintainLabel(c sinopac.MaintainCommand) string {
	switch c {
	case sinopac.CommandCapture:
		return "capture"
	case sinopac.CommandCancel:
		return "cancel"
	case sinopac.CommandRefund:
		return "refund"
	case sinopac.CommandStopRecurring:
		return "stop-recurring"
	case sinopac.CommandChangeExpiry:
		return "change-expiry"
	}
	return string(c)
}
