package main

import (
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) payQueryCommand() *cobra.Command {
	var token string
	cmd := &cobra.Command{
		Use:   "pay-query",
		Short: "Ask the bank what a PayToken from a notification stands for (OrderPayQuery)",
		Long: `Ask the bank what a PayToken stands for (APIService OrderPayQuery). A
PayToken arrives in the bank's notifications (BackendURL, ReturnURL), which
carry no signature: this signed and verified answer is what to act on.

The payment's result is the transaction's own Status and APType, shown as
"paid" (a successful PayOut or RegularOut), not the reply's outer Status.`,
		Example: `  qpay pay-query --token 3a83b2d6-76d0-4e66-a32b-66d55ceb74f3`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token = strings.TrimSpace(token)
			if token == "" {
				return usagef("--token is required: the PayToken from the bank's notification")
			}
			c, done, err := a.connect()
			if err != nil {
				return err
			}
			defer done()
			r, err := c.QueryPayment(cmd.Context(), token)
			if err != nil {
				return err
			}
			return a.emit(newPaymentView(r))
		},
	}
	cmd.Flags().StringVar(&token, "token", "", "the PayToken from a BackendURL or ReturnURL notification")
	return cmd
}
