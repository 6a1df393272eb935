package main

import (
	"strings"

	"github.com/funbiz-go/sinopac"
	"github.com/spf13/cobra"
)

func (a *app) allotCommand() *cobra.Command {
	var from, to, payType string
	cmd := &cobra.Command{
		Use:   "allot",
		Short: "List the bank's payouts to the shop (AllotQuery, 撥款) between two dates",
		Long: `List the bank's payouts to the shop (APIService AllotQuery) between two dates
(Taipei, inclusive), with their fees and the transactions they cover. The bank
answers for one pay type at a time: without --pay-type, qpay asks for each of
A, C, M, P and W in turn.`,
		Example: `  qpay allot --from 2026-10-01 --to 2026-10-31 --pay-type A
  qpay allot --from 2026-10-01 --to 2026-10-31 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usagef("--from and --to are required, e.g. --from 2026-10-01 --to 2026-10-31")
			}
			s, err := parseDay("--from", from)
			if err != nil {
				return err
			}
			e, err := parseDay("--to", to)
			if err != nil {
				return err
			}
			if s.After(e) {
				return usagef("--from %s is after --to %s", from, to)
			}
			types := []sinopac.PayType{sinopac.PayTypeATM, sinopac.PayTypeCard, sinopac.PayTypeMobile, sinopac.PayTypeCardTrust, sinopac.PayTypeWallet}
			if payType != "" {
				pt := sinopac.PayType(strings.ToUpper(payType))
				switch pt {
				case sinopac.PayTypeATM, sinopac.PayTypeCard, sinopac.PayTypeMobile, sinopac.PayTypeCardTrust, sinopac.PayTypeWallet:
				default:
					return usagef("--pay-type must be A, C, M, P or W, got %q", payType)
				}
				types = []sinopac.PayType{pt}
			}
			c, done, err := a.connect()
			if err != nil {
				return err
			}
			defer done()
			var allots []sinopac.Allot
			for _, pt := range types {
				r, err := c.QueryAllot(cmd.Context(), sinopac.AllotQuery{AllotDateS: s, AllotDateE: e, PayType: pt})
				if err != nil {
					return err
				}
				allots = append(allots, r.Allot...)
			}
			return a.emit(newAllotView(allots))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "first payout day, e.g. 2026-10-01 (required)")
	fl.StringVar(&to, "to", "", "last payout day, e.g. 2026-10-31 (required)")
	fl.StringVar(&payType, "pay-type", "", "A, C, M, P or W (default: each in turn)")
	return cmd
}
