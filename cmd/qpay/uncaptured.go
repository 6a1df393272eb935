package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/funbiz-go/sinopac"
	"github.com/spf13/cobra"
)

func (a *app) uncapturedCommand() *cobra.Command {
	var orderNo string
	cmd := &cobra.Command{
		Use:   "uncaptured",
		Short: "List card orders authorised but not captured yet (OrderUnCapturedQuery)",
		Long: `List the shop's card orders that are authorised and not captured yet (APIService
OrderUnCapturedQuery), with the deadline to capture each ('qpay maintain
capture') before its authorisation lapses. With --order-no, only that order;
it exits 5 when the bank has no uncaptured order of that number.`,
		Example: `  qpay uncaptured
  qpay uncaptured --order-no C20261001001 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			orderNo = strings.TrimSpace(orderNo)
			c, done, err := a.connect()
			if err != nil {
				return err
			}
			defer done()
			r, err := c.QueryUnCaptured(cmd.Context(), orderNo)
			if err != nil {
				return err
			}
			if err := a.emit(newUncapturedView(r.OrderList)); err != nil {
				return err
			}
			if orderNo != "" && len(r.OrderList) == 0 {
				return &missingError{fmt.Sprintf("the bank has no uncaptured order %s (captured, cancelled, not a card order, or no such order: see 'qpay query --order-no %s')", orderNo, orderNo)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&orderNo, "order-no", "", "only this order")
	return cmd
}

// uncapturedView is the result of uncaptured: the JSON document
// {"orders":[…],"count":N}.
type uncapturedView struct {
	Orders []uncapturedJSON `json:"orders"`
	Count  int              `json:"count"`
}

type uncapturedJSON struct {
	OrderNo        string  `json:"order_no"`
	TSNo           string  `json:"ts_no"`
	PayType        string  `json:"pay_type"`
	Amount         int64   `json:"amount"` // minor units
	AmountTWD      string  `json:"amount_twd"`
	PayStatus      string  `json:"pay_status"`
	PayStatusLabel string  `json:"pay_status_label"`
	OrderedAt      *string `json:"ordered_at"`
	AuthorizedAt   *string `json:"authorized_at"`
	ExpiresAt      *string `json:"expires_at"`
	CaptureBy      *string `json:"capture_by"` // the authorisation lapses after this
	Product        string  `json:"product"`
	Memo           string  `json:"memo"`
}

func newUncapturedView(orders []sinopac.UnCapturedOrder) *uncapturedView {
	v := &uncapturedView{Orders: make([]uncapturedJSON, 0, len(orders)), Count: len(orders)}
	for _, o := range orders {
		v.Orders = append(v.Orders, uncapturedJSON{OrderNo: o.OrderNo, TSNo: o.TSNo, PayType: string(o.PayType),
			Amount: int64(o.Amount), AmountTWD: twd(o.Amount), PayStatus: string(o.PayStatus), PayStatusLabel: o.PayStatus.Label(),
			OrderedAt: jsonTS(o.TSDate), AuthorizedAt: jsonTS(o.ApprovedDate), ExpiresAt: jsonTS(o.ExpireDate),
			CaptureBy: jsonTS(o.AuthExpireDate), Product: o.PrdtName, Memo: o.Memo})
	}
	return v
}

func (v *uncapturedView) jsonLines() []any {
	out := make([]any, len(v.Orders))
	for i := range v.Orders {
		out[i] = &v.Orders[i]
	}
	return out
}

func (v *uncapturedView) table(w io.Writer, opt tableOpts) {
	if len(v.Orders) == 0 {
		if !opt.noHeaders {
			fmt.Fprintln(w, "No uncaptured card orders.")
		}
		return
	}
	amounts := []string{"AMOUNT"}
	var total int64
	for _, o := range v.Orders {
		amounts = append(amounts, sinopac.Amount(o.Amount).String())
		total += o.Amount
	}
	amounts = rightAlign(amounts)
	row := func(no, tsNo, typ, amount, authorized, captureBy, status, product string) {
		cells := []string{no, typ, amount, authorized, captureBy, status}
		if opt.wide {
			cells = []string{no, tsNo, typ, amount, authorized, captureBy, status, product}
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	if !opt.noHeaders {
		row("ORDER NO", "TSNO", "TYPE", amounts[0], "AUTHORIZED", "CAPTURE BY", "STATUS", "PRODUCT")
	}
	for i, o := range v.Orders {
		row(o.OrderNo, dash(o.TSNo), payTypeLabel(sinopac.PayType(o.PayType)), amounts[i+1], dash(strPtr(o.AuthorizedAt, humanTime)),
			dash(strPtr(o.CaptureBy, humanTime)), statusCell(sinopac.PayStatus(o.PayStatus)), dash(o.Product))
	}
	if !opt.noHeaders {
		fmt.Fprintf(w, "\n%s authorised, %s in total: capture each before its CAPTURE BY time ('qpay maintain capture --order-no …')\n",
			plural(len(v.Orders), "order"), sinopac.Amount(total))
	}
}

func (v *uncapturedView) csv() ([]string, [][]string) {
	rows := make([][]string, 0, len(v.Orders))
	for _, o := range v.Orders {
		rows = append(rows, []string{o.OrderNo, o.TSNo, o.PayType, strconv.FormatInt(o.Amount, 10), o.AmountTWD, o.PayStatus,
			o.PayStatusLabel, strPtr(o.OrderedAt, humanTime), strPtr(o.AuthorizedAt, humanTime), strPtr(o.ExpiresAt, humanTime),
			strPtr(o.CaptureBy, humanTime), o.Product, o.Memo})
	}
	return []string{"order_no", "ts_no", "pay_type", "amount", "amount_twd", "pay_status", "pay_status_label", "ordered_at",
		"authorized_at", "expires_at", "capture_by", "product", "memo"}, rows
}
