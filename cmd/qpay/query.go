package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/spf13/cobra"
)

type queryFlags struct {
	orderNo, payType, payFlag string
	from, to                  string
	paidFrom, paidTo          string
	all                       bool
}

func (a *app) queryCommand() *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Look up orders (OrderQuery): one by number, or by type, state and time range",
		Long: `Look up orders at the bank (APIService OrderQuery).

Give at least one condition. Dates are Taipei time, either a whole day
(2026-10-01: --from starts at 00:00, --to ends at 23:59) or a minute
(2026-10-01T14:30). With --order-no the bank ignores other conditions; qpay
still applies them to the answer.

The bank returns at most 300 orders per query and says nothing when it cuts
a list. --all splits the range until every part is complete.`,
		Example: `  qpay query --order-no A202110507397
  qpay query --from 2026-10-01 --to 2026-10-31 --pay-flag Y --all -o csv
  qpay query --paid-from 2026-10-05T09:00 --paid-to 2026-10-05T12:00 --pay-type C`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := f.conditions()
			if err != nil {
				return err
			}
			c, done, err := a.connect()
			if err != nil {
				return err
			}
			defer done()
			if f.all {
				return a.queryAll(cmd, c, q)
			}
			r, err := c.QueryOrders(cmd.Context(), q)
			if err != nil {
				return err
			}
			complete := !r.Truncated()
			if !complete {
				fmt.Fprintf(a.stderr, "qpay: warning: the bank returned %d orders, its maximum per query: the list may be cut. Use --all (with a date range) to get every order.\n", len(r.OrderList))
			}
			if err := a.emit(newOrdersView(r.OrderList, complete)); err != nil {
				return err
			}
			return orderMissing(q.OrderNo, len(r.OrderList), q.PayType != "" || q.PayFlag != "" || !q.OrderDateTimeS.IsZero() || !q.PayDateTimeS.IsZero())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.orderNo, "order-no", "", "the merchant's order number")
	fl.StringVar(&f.payType, "pay-type", "", "A (ATM), C (card), M (mobile) or P (card, trust)")
	fl.StringVar(&f.payFlag, "pay-flag", "", "Y (paid/captured), N (not paid) or O (expired)")
	fl.StringVar(&f.from, "from", "", "orders created from (2026-10-01 or 2026-10-01T14:30, Taipei)")
	fl.StringVar(&f.to, "to", "", "orders created until (a date includes its 23:59)")
	fl.StringVar(&f.paidFrom, "paid-from", "", "orders paid from (date or date-time, Taipei)")
	fl.StringVar(&f.paidTo, "paid-to", "", "orders paid until (a date includes its 23:59)")
	fl.BoolVar(&f.all, "all", false, "get every order of the date range, past the bank's 300-per-query limit")
	_ = cmd.RegisterFlagCompletionFunc("pay-type", fixedCompletions("A\tATM / virtual account", "C\tcredit card", "M\tmobile pay", "P\tcard, funds in trust"))
	_ = cmd.RegisterFlagCompletionFunc("pay-flag", fixedCompletions("Y\tpaid / captured", "N\tnot paid / not captured", "O\texpired"))
	return cmd
}

// orderMissing is the error for an order asked for by number that the
// answer lacks (exit 5), so a script can tell "no such order" from an
// order in any state.
func orderMissing(orderNo string, found int, filtered bool) error {
	switch {
	case orderNo == "" || found > 0:
		return nil
	case filtered:
		return &missingError{fmt.Sprintf("order %s does not match the other conditions (or the bank has no such order)", orderNo)}
	}
	return &missingError{fmt.Sprintf("the bank has no order %s", orderNo)}
}

func fixedCompletions(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// conditions turns the flags into QueryConditions, naming the flag at fault.
func (f *queryFlags) conditions() (sinopac.QueryConditions, error) {
	var q sinopac.QueryConditions
	q.OrderNo = strings.TrimSpace(f.orderNo)
	switch pt := sinopac.PayType(strings.ToUpper(f.payType)); pt {
	case "", sinopac.PayTypeATM, sinopac.PayTypeCard, sinopac.PayTypeMobile, sinopac.PayTypeCardTrust:
		q.PayType = pt
	default:
		return q, usagef("--pay-type must be A (ATM), C (card), M (mobile) or P (card, trust), got %q", f.payType)
	}
	switch pf := sinopac.PayFlag(strings.ToUpper(f.payFlag)); pf {
	case "", sinopac.PayFlagPaid, sinopac.PayFlagUnpaid, sinopac.PayFlagExpired:
		q.PayFlag = pf
	default:
		return q, usagef("--pay-flag must be Y (paid), N (not paid) or O (expired), got %q", f.payFlag)
	}
	var err error
	if q.OrderDateTimeS, q.OrderDateTimeE, err = timeRange("--from", f.from, "--to", f.to); err != nil {
		return q, err
	}
	if q.PayDateTimeS, q.PayDateTimeE, err = timeRange("--paid-from", f.paidFrom, "--paid-to", f.paidTo); err != nil {
		return q, err
	}
	hasRange := !q.OrderDateTimeS.IsZero() || !q.PayDateTimeS.IsZero()
	switch {
	case q.OrderNo == "" && q.PayType == "" && q.PayFlag == "" && !hasRange:
		return q, usagef("give at least one condition: --order-no, --pay-type, --pay-flag, --from/--to or --paid-from/--paid-to")
	case f.all && q.OrderNo != "":
		return q, usagef("--all is for date ranges; --order-no finds one order without it")
	case f.all && !hasRange:
		return q, usagef("--all needs a date range: --from/--to or --paid-from/--paid-to")
	}
	if err := q.Validate(); err != nil {
		return q, err
	}
	return q, nil
}

// timeRange parses a pair of range flags: both or neither.
func timeRange(sName, s, eName, e string) (time.Time, time.Time, error) {
	switch {
	case s == "" && e == "":
		return time.Time{}, time.Time{}, nil
	case s == "":
		return time.Time{}, time.Time{}, usagef("%s needs %s too (e.g. %s 2026-10-01 %s 2026-10-31)", eName, sName, sName, eName)
	case e == "":
		return time.Time{}, time.Time{}, usagef("%s needs %s too (e.g. %s 2026-10-01 %s 2026-10-31)", sName, eName, sName, eName)
	}
	st, err := parseWhen(sName, s, false)
	if err != nil {
		return st, st, err
	}
	et, err := parseWhen(eName, e, true)
	if err != nil {
		return st, et, err
	}
	if st.After(et) {
		return st, et, usagef("%s %s is after %s %s", sName, s, eName, e)
	}
	return st, et, nil
}

// parseWhen reads a human date or minute in Taipei time. A whole day at
// the end of a range means its last minute, 23:59.
func parseWhen(name, v string, end bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "200601021504"} {
		if t, err := time.ParseInLocation(layout, v, sinopac.Taipei); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02", "20060102"} {
		if t, err := time.ParseInLocation(layout, v, sinopac.Taipei); err == nil {
			if end {
				t = t.Add(24*time.Hour - time.Minute)
			}
			return t, nil
		}
	}
	return time.Time{}, usagef("%s %q is not a date: use 2026-10-01 (a whole day) or 2026-10-01T14:30 (a minute), Taipei time", name, v)
}
