package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
)

// view is a command's result in every output format. The value itself is
// the JSON document (its own struct with stable snake_case names).
type view interface {
	// table writes the human form (-o table and wide); cells are
	// tab-separated and aligned by the caller's tableWriter.
	table(w io.Writer, o tableOpts)
	// csv gives the header row and the records.
	csv() (header []string, rows [][]string)
}

// tableOpts are the table flags: -o wide, --no-headers.
type tableOpts struct {
	wide      bool // more columns (the product name)
	noHeaders bool // no header row and no summary line: rows only
}

// lister is a view that is a list: -o jsonl writes one line per item.
// Other views are one line.
type lister interface {
	jsonLines() []any
}

func (a *app) tableOpts() tableOpts {
	return tableOpts{wide: a.output == "wide", noHeaders: a.noHeaders}
}

// emit writes v to stdout in the chosen format.
func (a *app) emit(v view) error {
	switch a.output {
	case "json":
		return a.writeJSON(v)
	case "jsonl":
		items := []any{v}
		if l, ok := v.(lister); ok {
			items = l.jsonLines()
		}
		for _, it := range items {
			if err := writeJSONLine(a.stdout, it); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		header, rows := v.csv()
		w, err := a.csvWriter(header)
		if err != nil {
			return err
		}
		if err := w.WriteAll(rows); err != nil {
			return err
		}
		return w.Error()
	}
	tw := newTableWriter(a.stdout)
	v.table(tw, a.tableOpts())
	return tw.Flush()
}

// utf8BOM lets Excel tell UTF-8 CSV from the ANSI code page (Big5 on
// zh-TW Windows), which garbles Chinese text.
const utf8BOM = "\ufeff"

// csvWriter starts CSV output: the BOM (--bom) and the header row (unless
// --no-headers).
func (a *app) csvWriter(header []string) (*csv.Writer, error) {
	if a.bom {
		if _, err := io.WriteString(a.stdout, utf8BOM); err != nil {
			return nil, err
		}
	}
	w := csv.NewWriter(a.stdout)
	if !a.noHeaders {
		if err := w.Write(header); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// writeJSON writes v as one indented JSON document.
func (a *app) writeJSON(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // URLs keep their '&'
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := a.stdout.Write(buf.Bytes())
	return err
}

// writeJSONLine writes v as one line of JSON (JSON Lines).
func writeJSONLine(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends the line
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Formatting shared by the views. Times are Taipei time.
const (
	humanTime = "2006-01-02 15:04"
	humanDate = "2006-01-02"
)

// jsonTS renders a bank time for JSON: RFC 3339 with the +08:00 offset,
// "2021-10-01" for dates, null for no value.
func jsonTS(ts sinopac.Timestamp) *string {
	if ts.IsZero() {
		return nil
	}
	s := ts.Time().In(sinopac.Taipei).Format(time.RFC3339)
	if ts.DateOnly() {
		s = ts.Time().In(sinopac.Taipei).Format(humanDate)
	}
	return &s
}

// dash stands in for an empty table cell.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// twd renders minor units as a plain decimal: 79900 → "799.00".
func twd(a sinopac.Amount) string {
	v := int64(a)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

func yesNo(b bool) string { return strconv.FormatBool(b) }

// payTypeLabel names a PayType for people.
func payTypeLabel(p sinopac.PayType) string {
	switch p {
	case sinopac.PayTypeATM:
		return "ATM"
	case sinopac.PayTypeCard:
		return "card"
	case sinopac.PayTypeMobile:
		return "mobile"
	case sinopac.PayTypeCardTrust:
		return "card-trust"
	case sinopac.PayTypeWallet:
		return "wallet"
	}
	return string(p)
}

// statusCell is a PayStatus with its label: "1A400 付款完成 (paid)".
func statusCell(s sinopac.PayStatus) string {
	if s == "" {
		return "-"
	}
	if l := s.Label(); l != string(s) {
		return string(s) + " " + l
	}
	return string(s)
}

// rightAlign pads cells on the left to the widest one, for amount columns
// (tableWriter aligns all columns on the left).
func rightAlign(cells []string) []string {
	w := 0
	for _, c := range cells {
		w = max(w, displayWidth(c))
	}
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.Repeat(" ", w-displayWidth(c)) + c
	}
	return out
}

// keyValues writes a two-column "name  value" table, skipping empty values.
func keyValues(w io.Writer, pairs ...[2]string) {
	for _, p := range pairs {
		if p[1] != "" {
			fmt.Fprintf(w, "%s\t%s\n", p[0], p[1])
		}
	}
}

// kv builds one pair for keyValues.
func kv(name, value string) [2]string { return [2]string{name, value} }

// plural returns "1 order" or "3 orders" ("3 queries").
func plural(n int, word string) string {
	switch {
	case n == 1:
		return "1 " + word
	case strings.HasSuffix(word, "y"):
		return strconv.Itoa(n) + " " + strings.TrimSuffix(word, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// ordersView is the result of query: the JSON document
// {"orders":[…],"count":N,"complete":true}.
type ordersView struct {
	Orders []orderJSON `json:"orders"`
	Count  int         `json:"count"`
	// Complete is false when the list may be cut: a single query returned
	// the bank's maximum of 300 orders, or --all could not split a window.
	Complete bool `json:"complete"`
}

// orderJSON is one order in qpay's stable output form.
type orderJSON struct {
	OrderNo           string       `json:"order_no"`
	TSNo              string       `json:"ts_no"`
	PayType           string       `json:"pay_type"`
	PayTypeLabel      string       `json:"pay_type_label"`
	Amount            int64        `json:"amount"`     // minor units: 79900 is NT$799.00
	AmountTWD         string       `json:"amount_twd"` // "799.00"
	PayStatus         string       `json:"pay_status"`
	PayStatusLabel    string       `json:"pay_status_label"`
	Paid              bool         `json:"paid"`
	State             string       `json:"state"` // paid, pending, expired, authorized, cancelled or unknown
	OrderedAt         *string      `json:"ordered_at"`
	ApprovedAt        *string      `json:"approved_at"`
	PaidAt            *string      `json:"paid_at"`
	ExpiresAt         *string      `json:"expires_at"`
	Refunded          bool         `json:"refunded"`
	RefundAmount      int64        `json:"refund_amount"`
	RefundAmountTWD   string       `json:"refund_amount_twd"`
	RefundStatus      string       `json:"refund_status"`
	RefundStatusLabel string       `json:"refund_status_label"`
	RefundedAt        *string      `json:"refunded_at"`
	Product           string       `json:"product"`
	Memo              string       `json:"memo"`
	Param1            string       `json:"param1"`
	Param2            string       `json:"param2"`
	Param3            string       `json:"param3"`
	ATM               *atmJSON     `json:"atm"`
	Card              *cardJSON    `json:"card"`
	Mobile            *mobileJSON  `json:"mobile"`
	Refunds           []refundJSON `json:"refunds"`
}

type atmJSON struct {
	PayNo     string `json:"pay_no"` // the virtual account the customer pays into
	BankNo    string `json:"bank_no"`
	AccountNo string `json:"account_no"`
	WebATMURL string `json:"web_atm_url"`
}

type cardJSON struct {
	PayURL      string `json:"pay_url"`
	FirstDigits string `json:"first_digits"`
	LastDigits  string `json:"last_digits"`
	AuthCode    string `json:"auth_code"`
}

type mobileJSON struct {
	PayURL      string `json:"pay_url"`
	Wallet      string `json:"wallet"` // A Apple Pay, G Google Pay, S Samsung Pay
	FirstDigits string `json:"first_digits"`
	LastDigits  string `json:"last_digits"`
	AuthCode    string `json:"auth_code"`
}

type refundJSON struct {
	RefundNo    string  `json:"refund_no"`
	RefundedAt  *string `json:"refunded_at"`
	Amount      int64   `json:"amount"`
	AmountTWD   string  `json:"amount_twd"`
	Status      string  `json:"status"`
	StatusLabel string  `json:"status_label"`
}

func newOrdersView(orders []sinopac.Order, complete bool) *ordersView {
	v := &ordersView{Orders: make([]orderJSON, 0, len(orders)), Count: len(orders), Complete: complete}
	for i := range orders {
		v.Orders = append(v.Orders, newOrderJSON(&orders[i]))
	}
	return v
}

func orderState(s sinopac.PayStatus) string {
	switch {
	case s.Paid():
		return "paid"
	case s.Pending():
		return "pending"
	case s.Expired():
		return "expired"
	case s.Authorized():
		return "authorized"
	case s.Cancelled():
		return "cancelled"
	}
	return "unknown"
}

func newOrderJSON(o *sinopac.Order) orderJSON {
	j := orderJSON{
		OrderNo:         o.OrderNo,
		TSNo:            o.TSNo,
		PayType:         string(o.PayType),
		PayTypeLabel:    payTypeLabel(o.PayType),
		Amount:          int64(o.Amount),
		AmountTWD:       twd(o.Amount),
		PayStatus:       string(o.PayStatus),
		PayStatusLabel:  o.PayStatus.Label(),
		Paid:            o.PayStatus.Paid(),
		State:           orderState(o.PayStatus),
		OrderedAt:       jsonTS(o.TSDate),
		ApprovedAt:      jsonTS(o.ApprovedDate),
		PaidAt:          jsonTS(o.PayDate),
		ExpiresAt:       jsonTS(o.ExpireDate),
		Refunded:        o.Refunded(),
		RefundAmount:    int64(o.RefundAmount),
		RefundAmountTWD: twd(o.RefundAmount),
		RefundStatus:    string(o.RefundStatus),
		RefundedAt:      jsonTS(o.RefundDate),
		Product:         o.PrdtName,
		Memo:            o.Memo,
		Param1:          o.Param1,
		Param2:          o.Param2,
		Param3:          o.Param3,
		Refunds:         []refundJSON{},
	}
	if o.RefundStatus != "" {
		j.RefundStatusLabel = o.RefundStatus.Label()
	}
	if p := o.ATMParam; p != nil {
		j.ATM = &atmJSON{PayNo: p.AtmPayNo, BankNo: p.BankNo, AccountNo: p.AcctNo, WebATMURL: p.WebAtmURL}
	}
	if p := o.CardParam; p != nil {
		j.Card = &cardJSON{PayURL: p.CardPayURL, FirstDigits: p.LeftCCNo, LastDigits: p.RightCCNo, AuthCode: p.AuthCode}
	}
	if p := o.MobileParam; p != nil {
		j.Mobile = &mobileJSON{PayURL: p.MobilePayURL, Wallet: p.Paymenthod, FirstDigits: p.LeftCCNo, LastDigits: p.RightCCNo, AuthCode: p.AuthCode}
	}
	for _, r := range o.RefundList {
		j.Refunds = append(j.Refunds, refundJSON{
			RefundNo: r.RefundNo, RefundedAt: jsonTS(r.RefundDate), Amount: int64(r.RefundAmount),
			AmountTWD: twd(r.RefundAmount), Status: string(r.RefundStatus), StatusLabel: r.RefundStatus.Label(),
		})
	}
	return j
}

func (v *ordersView) jsonLines() []any {
	out := make([]any, len(v.Orders))
	for i := range v.Orders {
		out[i] = &v.Orders[i]
	}
	return out
}

func (v *ordersView) table(w io.Writer, opt tableOpts) {
	if len(v.Orders) == 0 {
		if !opt.noHeaders {
			fmt.Fprintln(w, "No orders match.")
		}
		return
	}
	amounts := make([]string, len(v.Orders)+1)
	refunds := make([]string, len(v.Orders)+1)
	amounts[0], refunds[0] = "AMOUNT", "REFUNDED"
	var total, paid int64
	nPaid := 0
	for i, o := range v.Orders {
		amounts[i+1] = sinopac.Amount(o.Amount).String()
		refunds[i+1] = "-"
		if o.Refunded || o.RefundAmount != 0 {
			refunds[i+1] = sinopac.Amount(o.RefundAmount).String()
		}
		total += o.Amount
		if o.Paid {
			paid += o.Amount
			nPaid++
		}
	}
	amounts, refunds = rightAlign(amounts), rightAlign(refunds)
	// wide adds the transaction number and, last, the product name.
	row := func(no, tsNo, typ, amount, ordered, paidAt, expires, refunded, status, product string) {
		cells := []string{no, typ, amount, ordered, paidAt, expires, refunded, status}
		if opt.wide {
			cells = []string{no, tsNo, typ, amount, ordered, paidAt, expires, refunded, status, product}
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	if !opt.noHeaders {
		row("ORDER NO", "TSNO", "TYPE", amounts[0], "ORDERED", "PAID AT", "EXPIRES", refunds[0], "STATUS", "PRODUCT")
	}
	for i, o := range v.Orders {
		row(o.OrderNo, dash(o.TSNo), o.PayTypeLabel, amounts[i+1], dash(strPtr(o.OrderedAt, humanTime)), dash(strPtr(o.PaidAt, humanTime)),
			dash(strPtr(o.ExpiresAt, humanTime)), refunds[i+1], statusCell(sinopac.PayStatus(o.PayStatus)), dash(o.Product))
	}
	if opt.noHeaders {
		return
	}
	fmt.Fprintf(w, "\n%s, %s in total; %d paid, %s\n", plural(len(v.Orders), "order"),
		sinopac.Amount(total), nPaid, sinopac.Amount(paid))
	if !v.Complete {
		fmt.Fprintln(w, "The list may be incomplete (see the warning on stderr).")
	}
}

// strPtr re-renders an RFC 3339 time of the JSON form in layout.
func strPtr(s *string, layout string) string {
	if s == nil {
		return ""
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return *s // a date
	}
	return t.In(sinopac.Taipei).Format(layout)
}

var orderCSVHeader = []string{
	"order_no", "ts_no", "pay_type", "amount", "amount_twd", "pay_status", "pay_status_label", "paid", "state",
	"ordered_at", "approved_at", "paid_at", "expires_at", "refunded", "refund_amount", "refund_amount_twd",
	"refund_status", "refunded_at", "product", "memo", "param1", "param2", "param3", "atm_pay_no",
}

func (v *ordersView) csv() ([]string, [][]string) {
	rows := make([][]string, 0, len(v.Orders))
	for _, o := range v.Orders {
		atm := ""
		if o.ATM != nil {
			atm = o.ATM.PayNo
		}
		rows = append(rows, []string{
			o.OrderNo, o.TSNo, o.PayType, strconv.FormatInt(o.Amount, 10), o.AmountTWD, o.PayStatus, o.PayStatusLabel,
			yesNo(o.Paid), o.State, strPtr(o.OrderedAt, humanTime), strPtr(o.ApprovedAt, humanTime),
			strPtr(o.PaidAt, humanTime), strPtr(o.ExpiresAt, humanTime), yesNo(o.Refunded),
			strconv.FormatInt(o.RefundAmount, 10), o.RefundAmountTWD, o.RefundStatus, strPtr(o.RefundedAt, humanTime),
			o.Product, o.Memo, o.Param1, o.Param2, o.Param3, atm,
		})
	}
	return orderCSVHeader, rows
}

// paymentView is the result of pay-query.
type paymentView struct {
	PayToken    string  `json:"pay_token"`
	APType      string  `json:"ap_type"` // PayOut, CaptureOut, RegularOut, RegularEnd, VARefundOut, CardBindOut
	OrderNo     string  `json:"order_no"`
	TSNo        string  `json:"ts_no"`
	ShopNo      string  `json:"shop_no"`
	PayType     string  `json:"pay_type"`
	Amount      int64   `json:"amount"`
	AmountTWD   string  `json:"amount_twd"`
	Status      string  `json:"status"` // the transaction's own S or F
	Description string  `json:"description"`
	Succeeded   bool    `json:"succeeded"`
	Paid        bool    `json:"paid"` // a successful PayOut or RegularOut
	PaidAt      *string `json:"paid_at"`
	FirstDigits string  `json:"card_first_digits"`
	LastDigits  string  `json:"card_last_digits"`
	AuthCode    string  `json:"auth_code"`
	PayTypeSub  string  `json:"pay_type_sub"`
	Param1      string  `json:"param1"`
	Param2      string  `json:"param2"`
	Param3      string  `json:"param3"`
}

func newPaymentView(r *sinopac.ResponseOrderPayQuery) *paymentView {
	t := &r.TSResultContent
	return &paymentView{
		PayToken: r.PayToken, APType: t.APType, OrderNo: t.OrderNo, TSNo: t.TSNo, ShopNo: t.ShopNo,
		PayType: string(t.PayType), Amount: int64(t.Amount), AmountTWD: twd(t.Amount),
		Status: t.Status, Description: t.Description, Succeeded: r.Succeeded(), Paid: r.Paid(),
		PaidAt: jsonTS(t.PayDate), FirstDigits: t.LeftCCNo, LastDigits: t.RightCCNo, AuthCode: t.AuthCode,
		PayTypeSub: t.PayTypeSub, Param1: t.Param1, Param2: t.Param2, Param3: t.Param3,
	}
}

func (v *paymentView) table(w io.Writer, _ tableOpts) {
	result := v.Status
	switch {
	case v.Succeeded:
		result += " (succeeded)"
	case v.Status == "F":
		result += " (failed)"
	}
	if v.Description != "" {
		result += " " + v.Description
	}
	card := ""
	if v.FirstDigits != "" || v.LastDigits != "" {
		card = v.FirstDigits + "…" + v.LastDigits
	}
	keyValues(w, kv("PayToken", v.PayToken), kv("APType", v.APType), kv("Order no", v.OrderNo),
		kv("TSNo", v.TSNo), kv("Pay type", payTypeLabel(sinopac.PayType(v.PayType))),
		kv("Amount", sinopac.Amount(v.Amount).String()), kv("Result", result), kv("Paid", map[bool]string{true: "yes", false: "no"}[v.Paid]),
		kv("Paid at", strPtr(v.PaidAt, humanTime)), kv("Card", card), kv("Auth code", v.AuthCode),
		kv("Param1", v.Param1), kv("Param2", v.Param2), kv("Param3", v.Param3))
}

func (v *paymentView) csv() ([]string, [][]string) {
	return []string{"pay_token", "ap_type", "order_no", "ts_no", "pay_type", "amount", "amount_twd", "status",
			"description", "succeeded", "paid", "paid_at", "param1", "param2", "param3"},
		[][]string{{v.PayToken, v.APType, v.OrderNo, v.TSNo, v.PayType, strconv.FormatInt(v.Amount, 10), v.AmountTWD,
			v.Status, v.Description, yesNo(v.Succeeded), yesNo(v.Paid), strPtr(v.PaidAt, humanTime), v.Param1, v.Param2, v.Param3}}
}

// createdView is the result of create: where the customer pays.
type createdView struct {
	OrderNo      string `json:"order_no"`
	TSNo         string `json:"ts_no"`
	ShopNo       string `json:"shop_no"`
	PayType      string `json:"pay_type"`
	Amount       int64  `json:"amount"`
	AmountTWD    string `json:"amount_twd"`
	Status       string `json:"status"`
	Description  string `json:"description"`
	ATMPayNo     string `json:"atm_pay_no"` // the virtual account to pay into
	WebATMURL    string `json:"web_atm_url"`
	CardPayURL   string `json:"card_pay_url"`
	MobilePayURL string `json:"mobile_pay_url"`
	WalletPayURL string `json:"wallet_pay_url"`
	QRCodeURL    string `json:"qr_code_url"`
	// Resolved: the bank already held the order (a lost reply, or an E0302
	// for the same create sent before), found by OrderQuery.
	Resolved bool `json:"resolved"`
}

func newCreatedView(r *sinopac.ResponseOrderCreate) *createdView {
	v := &createdView{OrderNo: r.OrderNo, TSNo: r.TSNo, ShopNo: r.ShopNo, PayType: string(r.PayType),
		Amount: int64(r.Amount), AmountTWD: twd(r.Amount), Status: r.Status, Description: r.Description,
		QRCodeURL: r.QRCodeURL, Resolved: r.Resolved}
	if p := r.ATMParam; p != nil {
		v.ATMPayNo, v.WebATMURL = p.AtmPayNo, p.WebAtmURL
	}
	if p := r.CardParam; p != nil {
		v.CardPayURL = p.CardPayURL
	}
	if p := r.MobileParam; p != nil {
		v.MobilePayURL = p.MobilePayURL
	}
	if p := r.WalletParam; p != nil {
		v.WalletPayURL = p.WalletPayURL
	}
	return v
}

func (v *createdView) table(w io.Writer, _ tableOpts) {
	note := ""
	if v.Resolved {
		note = "yes: the bank already holds this order (its reply was lost, or the same create was sent before): found with OrderQuery"
	}
	keyValues(w, kv("Order no", v.OrderNo), kv("TSNo", v.TSNo), kv("Pay type", payTypeLabel(sinopac.PayType(v.PayType))),
		kv("Amount", sinopac.Amount(v.Amount).String()), kv("Result", strings.TrimSpace(v.Status+" "+v.Description)),
		kv("Virtual account", v.ATMPayNo), kv("Web ATM", v.WebATMURL), kv("Card payment page", v.CardPayURL),
		kv("Mobile payment page", v.MobilePayURL), kv("Wallet payment page", v.WalletPayURL),
		kv("QR code", v.QRCodeURL), kv("Resolved", note))
}

func (v *createdView) csv() ([]string, [][]string) {
	return []string{"order_no", "ts_no", "pay_type", "amount", "amount_twd", "status", "description", "atm_pay_no",
			"web_atm_url", "card_pay_url", "mobile_pay_url", "wallet_pay_url", "qr_code_url", "resolved"},
		[][]string{{v.OrderNo, v.TSNo, v.PayType, strconv.FormatInt(v.Amount, 10), v.AmountTWD, v.Status, v.Description,
			v.ATMPayNo, v.WebATMURL, v.CardPayURL, v.MobilePayURL, v.WalletPayURL, v.QRCodeURL, yesNo(v.Resolved)}}
}

// maintainedView is the result of a maintain subcommand.
type maintainedView struct {
	OrderNo      string  `json:"order_no"`
	TSNo         string  `json:"ts_no"`
	Command      string  `json:"command"` // P, C, R, E or M
	CommandLabel string  `json:"command_label"`
	Amount       int64   `json:"amount"`
	AmountTWD    string  `json:"amount_twd"`
	Date         *string `json:"date"`
	Status       string  `json:"status"`
	Description  string  `json:"description"`
	// Resolved: the reply was lost and the refund was found in the order's RefundList.
	Resolved bool `json:"resolved"`
}

func newMaintainedView(r *sinopac.ResponseOrderMaintain) *maintainedView {
	return &maintainedView{OrderNo: r.OrderNo, TSNo: r.TSNo, Command: string(r.Command),
		CommandLabel: maintainLabel(r.Command), Amount: int64(r.Amount), AmountTWD: twd(r.Amount),
		Date: jsonTS(r.Date), Status: r.Status, Description: r.Description, Resolved: r.Resolved}
}

func (v *maintainedView) table(w io.Writer, _ tableOpts) {
	amount := ""
	if v.Amount != 0 {
		amount = sinopac.Amount(v.Amount).String()
	}
	note := ""
	if v.Resolved {
		note = "yes: the reply was lost; the refund was found in the order's RefundList (OrderQuery), new since the call began"
	}
	keyValues(w, kv("Order no", v.OrderNo), kv("TSNo", v.TSNo), kv("Command", v.CommandLabel+" ("+v.Command+")"),
		kv("Amount", amount), kv("Date", strPtr(v.Date, humanTime)),
		kv("Result", strings.TrimSpace(v.Status+" "+v.Description)), kv("Resolved", note))
}

func (v *maintainedView) csv() ([]string, [][]string) {
	return []string{"order_no", "ts_no", "command", "command_label", "amount", "amount_twd", "date", "status", "description", "resolved"},
		[][]string{{v.OrderNo, v.TSNo, v.Command, v.CommandLabel, strconv.FormatInt(v.Amount, 10), v.AmountTWD,
			strPtr(v.Date, humanTime), v.Status, v.Description, yesNo(v.Resolved)}}
}

// billView is the result of bill.
type billView struct {
	BillDate         string         `json:"bill_date"` // 2026-10-05
	Items            []billItemJSON `json:"items"`
	Count            int            `json:"count"`
	TotalPaid        int64          `json:"total_paid"`
	TotalPaidTWD     string         `json:"total_paid_twd"`
	TotalRefunded    int64          `json:"total_refunded"`
	TotalRefundedTWD string         `json:"total_refunded_twd"`
}

type billItemJSON struct {
	TSNo      string  `json:"ts_no"`
	OrderNo   string  `json:"order_no"`
	TSType    string  `json:"ts_type"` // P payment, R refund
	Kind      string  `json:"kind"`    // payment or refund
	TSAt      *string `json:"ts_at"`
	PaidAt    *string `json:"paid_at"`
	PayType   string  `json:"pay_type"`
	Amount    int64   `json:"amount"`
	AmountTWD string  `json:"amount_twd"`
	Param1    string  `json:"param1"`
	Param2    string  `json:"param2"`
	Param3    string  `json:"param3"`
}

func tsKind(t string) string {
	switch t {
	case "P":
		return "payment"
	case "R":
		return "refund"
	}
	return t
}

func newBillView(day time.Time, r *sinopac.ResponseBillQuery) *billView {
	v := &billView{BillDate: day.In(sinopac.Taipei).Format(humanDate), Items: []billItemJSON{}, Count: len(r.OrderList)}
	if !r.BillDate.IsZero() {
		v.BillDate = r.BillDate.Time().In(sinopac.Taipei).Format(humanDate)
	}
	for _, it := range r.OrderList {
		v.Items = append(v.Items, billItemJSON{TSNo: it.TSNo, OrderNo: it.OrderNo, TSType: it.TSType, Kind: tsKind(it.TSType),
			TSAt: jsonTS(it.TSDate), PaidAt: jsonTS(it.PayDate), PayType: string(it.PayType), Amount: int64(it.Amount),
			AmountTWD: twd(it.Amount), Param1: it.Param1, Param2: it.Param2, Param3: it.Param3})
		switch it.TSType {
		case "P":
			v.TotalPaid += int64(it.Amount)
		case "R":
			v.TotalRefunded += int64(it.Amount)
		}
	}
	v.TotalPaidTWD, v.TotalRefundedTWD = twd(sinopac.Amount(v.TotalPaid)), twd(sinopac.Amount(v.TotalRefunded))
	return v
}

func (v *billView) jsonLines() []any {
	type line struct {
		BillDate string `json:"bill_date"`
		billItemJSON
	}
	out := make([]any, len(v.Items))
	for i, it := range v.Items {
		out[i] = line{v.BillDate, it}
	}
	return out
}

func (v *billView) table(w io.Writer, opt tableOpts) {
	if len(v.Items) == 0 {
		if !opt.noHeaders {
			fmt.Fprintf(w, "No transactions on the statement of %s.\n", v.BillDate)
		}
		return
	}
	amounts := []string{"AMOUNT"}
	for _, it := range v.Items {
		amounts = append(amounts, sinopac.Amount(it.Amount).String())
	}
	amounts = rightAlign(amounts)
	if !opt.noHeaders {
		fmt.Fprintf(w, "ORDER NO\tTSNO\tKIND\tTYPE\t%s\tTS AT\tPAID AT\n", amounts[0])
	}
	for i, it := range v.Items {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.OrderNo, it.TSNo, it.Kind, payTypeLabel(sinopac.PayType(it.PayType)),
			amounts[i+1], dash(strPtr(it.TSAt, humanTime)), dash(strPtr(it.PaidAt, humanTime)))
	}
	if !opt.noHeaders {
		fmt.Fprintf(w, "\nStatement of %s: %s; payments %s, refunds %s\n", v.BillDate, plural(v.Count, "transaction"),
			sinopac.Amount(v.TotalPaid), sinopac.Amount(v.TotalRefunded))
	}
}

func (v *billView) csv() ([]string, [][]string) {
	rows := [][]string{}
	for _, it := range v.Items {
		rows = append(rows, []string{v.BillDate, it.OrderNo, it.TSNo, it.TSType, it.Kind, it.PayType,
			strconv.FormatInt(it.Amount, 10), it.AmountTWD, strPtr(it.TSAt, humanTime), strPtr(it.PaidAt, humanTime),
			it.Param1, it.Param2, it.Param3})
	}
	return []string{"bill_date", "order_no", "ts_no", "ts_type", "kind", "pay_type", "amount", "amount_twd",
		"ts_at", "paid_at", "param1", "param2", "param3"}, rows
}

// allotView is the result of allot.
type allotView struct {
	Allots []allotJSON `json:"allots"`
	Count  int         `json:"count"`
}

type allotJSON struct {
	AllotNo        string          `json:"allot_no"`
	AllotDate      *string         `json:"allot_date"`
	PayType        string          `json:"pay_type"`
	PayAmount      int64           `json:"pay_amount"`
	RefundAmount   int64           `json:"refund_amount"`
	FeeAmount      int64           `json:"fee_amount"`
	ExtAllotAmount int64           `json:"ext_allot_amount"`
	AllotAmount    int64           `json:"allot_amount"` // what reached the shop's account
	AllotAmountTWD string          `json:"allot_amount_twd"`
	Account        string          `json:"account"`
	Items          []allotItemJSON `json:"items"`
}

type allotItemJSON struct {
	TSNo    string  `json:"ts_no"`
	OrderNo string  `json:"order_no"`
	PaidAt  *string `json:"paid_at"`
	Amount  int64   `json:"amount"`
	Fee     int64   `json:"fee"`
	TSType  string  `json:"ts_type"` // P payment, R refund
}

func newAllotView(allots []sinopac.Allot) *allotView {
	v := &allotView{Allots: []allotJSON{}, Count: len(allots)}
	for _, al := range allots {
		j := allotJSON{AllotNo: al.AllotNo, AllotDate: jsonTS(al.AllotDate), PayType: string(al.PayType),
			PayAmount: int64(al.PayAmount), RefundAmount: int64(al.RefundAmount), FeeAmount: int64(al.FeeAmount),
			ExtAllotAmount: int64(al.ExtAllotAmount), AllotAmount: int64(al.AllotAmount), AllotAmountTWD: twd(al.AllotAmount),
			Account: al.Account, Items: []allotItemJSON{}}
		for _, it := range al.List {
			j.Items = append(j.Items, allotItemJSON{TSNo: it.TSNo, OrderNo: it.OrderNo, PaidAt: jsonTS(it.PayDate),
				Amount: int64(it.Amount), Fee: int64(it.Fee), TSType: it.TSType})
		}
		v.Allots = append(v.Allots, j)
	}
	return v
}

func (v *allotView) jsonLines() []any {
	out := make([]any, len(v.Allots))
	for i := range v.Allots {
		out[i] = &v.Allots[i]
	}
	return out
}

func (v *allotView) table(w io.Writer, opt tableOpts) {
	if len(v.Allots) == 0 {
		if !opt.noHeaders {
			fmt.Fprintln(w, "No payouts in this period.")
		}
		return
	}
	cols := [5][]string{{"PAID"}, {"REFUNDED"}, {"FEE"}, {"EXTRA"}, {"PAID OUT"}}
	var total int64
	for _, al := range v.Allots {
		for i, a := range []int64{al.PayAmount, al.RefundAmount, al.FeeAmount, al.ExtAllotAmount, al.AllotAmount} {
			cols[i] = append(cols[i], sinopac.Amount(a).String())
		}
		total += al.AllotAmount
	}
	for i := range cols {
		cols[i] = rightAlign(cols[i])
	}
	for r := range len(v.Allots) + 1 {
		switch {
		case r == 0 && opt.noHeaders:
			continue
		case r == 0:
			fmt.Fprint(w, "ALLOT NO\tDATE\tTYPE\tTRANSACTIONS")
		default:
			al := v.Allots[r-1]
			fmt.Fprintf(w, "%s\t%s\t%s\t%d", al.AllotNo, dash(strPtr(al.AllotDate, humanTime)), payTypeLabel(sinopac.PayType(al.PayType)), len(al.Items))
		}
		for i := range cols {
			fmt.Fprint(w, "\t"+cols[i][r])
		}
		if opt.wide {
			account := "ACCOUNT"
			if r > 0 {
				account = dash(v.Allots[r-1].Account)
			}
			fmt.Fprint(w, "\t"+account)
		}
		fmt.Fprintln(w)
	}
	if !opt.noHeaders {
		fmt.Fprintf(w, "\n%s, %s paid out in total\n", plural(len(v.Allots), "payout"), sinopac.Amount(total))
	}
}

func (v *allotView) csv() ([]string, [][]string) {
	rows := [][]string{}
	for _, al := range v.Allots {
		rows = append(rows, []string{al.AllotNo, strPtr(al.AllotDate, humanTime), al.PayType, strconv.Itoa(len(al.Items)),
			strconv.FormatInt(al.PayAmount, 10), strconv.FormatInt(al.RefundAmount, 10), strconv.FormatInt(al.FeeAmount, 10),
			strconv.FormatInt(al.ExtAllotAmount, 10), strconv.FormatInt(al.AllotAmount, 10), al.AllotAmountTWD, al.Account})
	}
	return []string{"allot_no", "allot_date", "pay_type", "transactions", "pay_amount", "refund_amount", "fee_amount",
		"ext_allot_amount", "allot_amount", "allot_amount_twd", "account"}, rows
}
