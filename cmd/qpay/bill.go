package main

import (
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/spf13/cobra"
)

func (a *app) billCommand() *cobra.Command {
	var date string
	cmd := &cobra.Command{
		Use:   "bill",
		Short: "Show one day's statement (BillQuery, 對帳): payments and refunds booked that day",
		Long: `Show one day's statement (APIService BillQuery): the payments and refunds the
bank booked that day. The bank keeps statements for 30 days and today's is not
closed yet: --date must be 1 to 30 days ago (Taipei). Default: yesterday.`,
		Example: `  qpay bill --date 2026-10-05 -o csv > bill-2026-10-05.csv`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			day := time.Now().In(sinopac.Taipei).AddDate(0, 0, -1)
			if date != "" {
				t, err := parseDay("--date", date)
				if err != nil {
					return err
				}
				day = t
			}
			q := sinopac.BillQuery{BillDate: day}
			if err := q.Validate(); err != nil {
				return usagef("--date %s: must be 1 to 30 days before today (Taipei): the bank keeps 30 days of statements and today's is not closed", day.Format(humanDate))
			}
			c, done, err := a.connect()
			if err != nil {
				return err
			}
			defer done()
			r, err := c.QueryBill(cmd.Context(), q)
			if err != nil {
				return err
			}
			return a.emit(newBillView(day, r))
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "the statement's day, e.g. 2026-10-05 (1 to 30 days ago; default yesterday)")
	return cmd
}

// parseDay reads a whole day, Taipei time.
func parseDay(name, v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "20060102"} {
		if t, err := time.ParseInLocation(layout, v, sinopac.Taipei); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("%s %q is not a date: use 2026-10-05 (Taipei)", name, v)
}
