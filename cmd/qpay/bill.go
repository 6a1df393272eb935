package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/funbiz-go/sinopac"
	"github.com/spf13/cobra"
)

func (a *app) billCommand() *cobra.Command {
	var date, diff string
	cmd := &cobra.Command{
		Use:   "bill",
		Short: "Show one day's statement (BillQuery, 對帳), or compare it with your ledger (--diff)",
		Long: `Show one day's statement (APIService BillQuery): the payments and refunds the
bank booked that day. The bank keeps statements for 30 days and today's is not
closed yet: --date must be 1 to 30 days ago (Taipei). Default: yesterday.

--diff FILE compares the statement with your ledger of that day, a CSV file
('-' reads stdin), and lists what the two disagree on:
  missing in ledger  paid (or refunded) at the bank, unknown to the ledger:
                     a payment here is a lost order
  missing at bank    in the ledger, not on the statement
  amount mismatch    on both, with different amounts
  TSNo mismatch      the ledger's TSNo is not the bank's
Entries are matched by order number and kind, amounts summed on each side. The
exit code is 5 when there is any discrepancy, 0 when the two agree.

The ledger CSV: UTF-8 (a BOM, as Excel writes it, is fine), a header row, one
entry a row. Columns, in any order (case, spaces and underscores in the header
do not matter; other columns are ignored):
  order_no  the order number                    (required)
  kind      payment or refund (or P / R)        (required)
  amount    whole NT$, like --amount: 799, 1,200 or 1200.00   (required)
  ts_no     the bank's transaction number       (optional)
Rows whose cells are all empty are skipped; any other malformed row stops the
command with its line number before anything is sent.`,
		Example: `  qpay bill --date 2026-10-05 -o csv > bill-2026-10-05.csv
  qpay bill --date 2026-10-05 --diff ledger-2026-10-05.csv
  shop-export --day 2026-10-05 | qpay bill --date 2026-10-05 --diff - -o json`,
		Args: cobra.NoArgs,
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
			var ledger []sinopac.LedgerEntry
			if diff != "" {
				var err error
				if ledger, err = a.readLedgerFile(diff); err != nil {
					return err
				}
			}
			c, done, err := a.connect()
			if err != nil {
				return err
			}
			defer done()
			if diff == "" {
				r, err := c.QueryBill(cmd.Context(), q)
				if err != nil {
					return err
				}
				return a.emit(newBillView(day, r))
			}
			d, err := c.DiffBill(cmd.Context(), day, slices.Values(ledger))
			if err != nil {
				return err
			}
			v := newBillDiffView(d, diff)
			if err := a.emit(v); err != nil {
				return err
			}
			if n := d.Discrepancies(); n > 0 {
				return &discrepancyError{fmt.Sprintf("%s between the statement of %s and %s", plural(n, "discrepancy"), v.BillDate, v.LedgerFile)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "the statement's day, e.g. 2026-10-05 (1 to 30 days ago; default yesterday)")
	cmd.Flags().StringVar(&diff, "diff", "", "compare the statement with this ledger CSV ('-' for stdin); exit 6 on any discrepancy")
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

// discrepancyError: the comparison worked and found differences (exit 6).
type discrepancyError struct{ msg string }

func (e *discrepancyError) Error() string { return e.msg }

// maxLedgerBytes bounds a ledger file: a million entries fit.
const maxLedgerBytes = 64 << 20

// readLedgerFile reads the ledger CSV at path, or stdin for "-".
func (a *app) readLedgerFile(path string) ([]sinopac.LedgerEntry, error) {
	var r io.Reader = a.stdin
	name := "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, usagef("--diff: %v", err)
		}
		defer f.Close()
		r, name = f, path
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxLedgerBytes+1))
	if err != nil {
		return nil, usagef("--diff: reading %s: %v", name, err)
	}
	if len(raw) > maxLedgerBytes {
		return nil, usagef("--diff: %s is larger than %d MiB", name, maxLedgerBytes>>20)
	}
	return parseLedger(name, raw)
}

// ledgerColumns are the ledger CSV's columns, by normalised header name.
var ledgerColumns = []struct {
	name     string // as documented
	key      string // normalised
	required bool
}{
	{"order_no", "orderno", true}, {"kind", "kind", true}, {"amount", "amount", true}, {"ts_no", "tsno", false},
}

// headerKey normalises a header cell: "OrderNo", "order_no" and "Order No"
// name the same column.
func headerKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// parseLedger reads the ledger CSV (see the bill command's help). Every
// problem is a usage error naming the file and line.
func parseLedger(name string, raw []byte) ([]sinopac.LedgerEntry, error) {
	raw = bytes.TrimPrefix(raw, []byte("\uFEFF"))
	if !utf8.Valid(raw) {
		line := 1 + bytes.Count(raw[:firstInvalidUTF8(raw)], []byte("\n"))
		return nil, usagef("%s:%d: not UTF-8 text: save the ledger as \"CSV UTF-8\" (Big5 is not read)", name, line)
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, usagef("%s is empty: it needs a header row (order_no,kind,amount[,ts_no])", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		k := headerKey(h)
		if _, dup := col[k]; dup && k != "" {
			return nil, usagef("%s:1: column %q appears twice", name, strings.TrimSpace(h))
		}
		col[k] = i
	}
	for _, c := range ledgerColumns {
		if _, ok := col[c.key]; !ok && c.required {
			return nil, usagef("%s:1: the header lacks the %s column (order_no,kind,amount[,ts_no]; got %s)", name, c.name, strings.Join(header, ","))
		}
	}
	cell := func(rec []string, key string) string {
		if i, ok := col[key]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	entries := []sinopac.LedgerEntry{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return entries, nil
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue // Excel's trailing ",,," rows
		}
		line, _ := cr.FieldPos(0)
		at := fmt.Sprintf("%s:%d", name, line)
		e := sinopac.LedgerEntry{OrderNo: cell(rec, "orderno"), TSNo: cell(rec, "tsno")}
		if e.OrderNo == "" {
			return nil, usagef("%s: order_no is empty", at)
		}
		switch k := strings.ToLower(cell(rec, "kind")); k {
		case "payment", "p":
			e.Kind = sinopac.LedgerPayment
		case "refund", "r":
			e.Kind = sinopac.LedgerRefund
		default:
			return nil, usagef("%s: kind %q must be payment or refund (or P / R)", at, cell(rec, "kind"))
		}
		if e.Amount, err = parseAmount(at+": amount", cell(rec, "amount")); err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
}

// firstInvalidUTF8 is the offset of the first byte that is not UTF-8.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// csvError words a CSV syntax error with the file and line.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return usagef("%s:%d: this row has a different number of cells than the header", name, pe.Line)
		}
		return usagef("%s:%d: %v", name, pe.Line, pe.Err)
	}
	return usagef("%s: %v", name, err)
}

// billDiffView is the result of bill --diff.
type billDiffView struct {
	BillDate      string            `json:"bill_date"` // 2026-10-05
	ShopNo        string            `json:"shop_no"`
	LedgerFile    string            `json:"ledger_file"`
	Agrees        bool              `json:"agrees"` // no discrepancy
	Count         int               `json:"discrepancy_count"`
	Matched       int               `json:"matched"` // order-and-kind pairs both sides agree on
	Discrepancies []discrepancyJSON `json:"discrepancies"`
	Totals        struct {
		Bank   billTotalsJSON `json:"bank"`
		Ledger billTotalsJSON `json:"ledger"`
	} `json:"totals"`
}

// The discrepancy types, in the order they are listed.
const (
	missingInLedger = "missing_in_ledger"
	missingAtBank   = "missing_at_bank"
	amountMismatch  = "amount_mismatch"
	tsNoMismatch    = "tsno_mismatch"
)

// discrepancyJSON is one discrepancy; a side that has no entry is null.
type discrepancyJSON struct {
	Type            string  `json:"type"` // missing_in_ledger, missing_at_bank, amount_mismatch, tsno_mismatch
	OrderNo         string  `json:"order_no"`
	Kind            string  `json:"kind"` // payment or refund
	BankTSNo        string  `json:"bank_ts_no"`
	LedgerTSNo      string  `json:"ledger_ts_no"`
	PayType         string  `json:"pay_type"`
	BankAmount      *int64  `json:"bank_amount"` // minor units
	BankAmountTWD   *string `json:"bank_amount_twd"`
	LedgerAmount    *int64  `json:"ledger_amount"`
	LedgerAmountTWD *string `json:"ledger_amount_twd"`
	OrderedAt       *string `json:"ordered_at"`
	PaidAt          *string `json:"paid_at"` // the bank's (earliest) time of the payment or refund
}

type billTotalsJSON struct {
	Payments     int64  `json:"payments"`
	PaymentsTWD  string `json:"payments_twd"`
	PaymentLines int    `json:"payment_lines"`
	Refunds      int64  `json:"refunds"`
	RefundsTWD   string `json:"refunds_twd"`
	RefundLines  int    `json:"refund_lines"`
	Net          int64  `json:"net"`
	NetTWD       string `json:"net_twd"`
}

func newTotalsJSON(t sinopac.BillTotals) billTotalsJSON {
	return billTotalsJSON{Payments: int64(t.Payments), PaymentsTWD: twd(t.Payments), PaymentLines: t.PaymentLines,
		Refunds: int64(t.Refunds), RefundsTWD: twd(t.Refunds), RefundLines: t.RefundLines, Net: int64(t.Net()), NetTWD: twd(t.Net())}
}

func amountPtrs(a sinopac.Amount) (*int64, *string) {
	v, s := int64(a), twd(a)
	return &v, &s
}

func (d *discrepancyJSON) setBank(b sinopac.BankEntry) {
	d.BankTSNo, d.PayType = b.TSNo, string(b.PayType)
	d.BankAmount, d.BankAmountTWD = amountPtrs(b.Amount)
	d.OrderedAt, d.PaidAt = jsonTS(b.TSDate), jsonTS(b.PayDate)
}

func (d *discrepancyJSON) setLedger(l sinopac.LedgerEntry) {
	d.LedgerTSNo = l.TSNo
	d.LedgerAmount, d.LedgerAmountTWD = amountPtrs(l.Amount)
}

func newBillDiffView(d *sinopac.BillDiff, ledgerFile string) *billDiffView {
	if ledgerFile == "-" {
		ledgerFile = "stdin"
	}
	v := &billDiffView{BillDate: d.Date.In(sinopac.Taipei).Format(humanDate), ShopNo: d.ShopNo, LedgerFile: ledgerFile,
		Agrees: d.Discrepancies() == 0, Count: d.Discrepancies(), Matched: d.Matched, Discrepancies: []discrepancyJSON{}}
	v.Totals.Bank, v.Totals.Ledger = newTotalsJSON(d.Bank), newTotalsJSON(d.Ledger)
	for _, b := range d.MissingInLedger {
		j := discrepancyJSON{Type: missingInLedger, OrderNo: b.OrderNo, Kind: string(b.Kind)}
		j.setBank(b)
		v.Discrepancies = append(v.Discrepancies, j)
	}
	for _, l := range d.MissingAtBank {
		j := discrepancyJSON{Type: missingAtBank, OrderNo: l.OrderNo, Kind: string(l.Kind)}
		j.setLedger(l)
		v.Discrepancies = append(v.Discrepancies, j)
	}
	mismatches := func(typ string, list []sinopac.BillMismatch) {
		for _, m := range list {
			j := discrepancyJSON{Type: typ, OrderNo: m.Bank.OrderNo, Kind: string(m.Bank.Kind)}
			j.setBank(m.Bank)
			j.setLedger(m.Ledger)
			v.Discrepancies = append(v.Discrepancies, j)
		}
	}
	mismatches(amountMismatch, d.AmountMismatch)
	mismatches(tsNoMismatch, d.TSNoMismatch)
	return v
}

// discrepancyLabels name the types in the table.
var discrepancyLabels = map[string]string{
	missingInLedger: "missing in ledger", missingAtBank: "missing at bank",
	amountMismatch: "amount mismatch", tsNoMismatch: "TSNo mismatch",
}

func amountCell(a *int64) string {
	if a == nil {
		return "-"
	}
	return sinopac.Amount(*a).String()
}

// jsonLines: -o jsonl writes one discrepancy per line.
func (v *billDiffView) jsonLines() []any {
	out := make([]any, len(v.Discrepancies))
	for i := range v.Discrepancies {
		out[i] = v.Discrepancies[i]
	}
	return out
}

func (v *billDiffView) table(w io.Writer, opt tableOpts) {
	if opt.noHeaders {
		// Rows only: one per discrepancy, no headline, no totals.
		for _, d := range v.Discrepancies {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", discrepancyLabels[d.Type], d.OrderNo, d.Kind,
				dash(d.BankTSNo), amountCell(d.BankAmount), amountCell(d.LedgerAmount))
		}
		return
	}
	if v.Agrees {
		fmt.Fprintf(w, "Statement of %s (shop %s) and %s agree: %s matched.\n", v.BillDate, v.ShopNo, v.LedgerFile, plural(v.Matched, "entry"))
	} else {
		fmt.Fprintf(w, "Statement of %s (shop %s) against %s: %s, %s matched.\n\n", v.BillDate, v.ShopNo, v.LedgerFile,
			plural(v.Count, "discrepancy"), plural(v.Matched, "entry"))
		bank, ledger := []string{"BANK"}, []string{"LEDGER"}
		for _, d := range v.Discrepancies {
			bank, ledger = append(bank, amountCell(d.BankAmount)), append(ledger, amountCell(d.LedgerAmount))
		}
		bank, ledger = rightAlign(bank), rightAlign(ledger)
		fmt.Fprintf(w, "DISCREPANCY\tORDER NO\tKIND\tTSNO\tTYPE\t%s\t%s\tPAID AT\n", bank[0], ledger[0])
		for i, d := range v.Discrepancies {
			tsno := d.BankTSNo
			switch {
			case d.Type == tsNoMismatch:
				tsno += " (ledger: " + d.LedgerTSNo + ")"
			case d.Type == missingAtBank:
				tsno = d.LedgerTSNo
			}
			pt := "-"
			if d.PayType != "" {
				pt = payTypeLabel(sinopac.PayType(d.PayType))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", discrepancyLabels[d.Type], d.OrderNo, d.Kind, dash(tsno), pt,
				bank[i+1], ledger[i+1], dash(strPtr(d.PaidAt, humanTime)))
		}
	}
	fmt.Fprintln(w)
	b, l := v.Totals.Bank, v.Totals.Ledger
	cols := [2][]string{{"BANK"}, {"LEDGER"}}
	for i, t := range []billTotalsJSON{b, l} {
		cols[i] = append(cols[i],
			sinopac.Amount(t.Payments).String()+" ("+strconv.Itoa(t.PaymentLines)+")",
			sinopac.Amount(t.Refunds).String()+" ("+strconv.Itoa(t.RefundLines)+")",
			sinopac.Amount(t.Net).String())
		cols[i] = rightAlign(cols[i])
	}
	for r, label := range []string{"TOTALS", "payments", "refunds", "net"} {
		fmt.Fprintf(w, "%s\t%s\t%s\n", label, cols[0][r], cols[1][r])
	}
	for _, d := range v.Discrepancies {
		if d.Type == missingInLedger && d.Kind == string(sinopac.LedgerPayment) {
			fmt.Fprintf(w, "\nPayments missing in the ledger are lost orders: look each up and book it, e.g. 'qpay query --order-no %s'.\n", d.OrderNo)
			break
		}
	}
}

func (v *billDiffView) csv() ([]string, [][]string) {
	ptr := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	num := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	rows := [][]string{}
	for _, d := range v.Discrepancies {
		rows = append(rows, []string{v.BillDate, d.Type, d.OrderNo, d.Kind, d.BankTSNo, d.LedgerTSNo, d.PayType,
			num(d.BankAmount), ptr(d.BankAmountTWD), num(d.LedgerAmount), ptr(d.LedgerAmountTWD),
			strPtr(d.OrderedAt, humanTime), strPtr(d.PaidAt, humanTime)})
	}
	return []string{"bill_date", "type", "order_no", "kind", "bank_ts_no", "ledger_ts_no", "pay_type",
		"bank_amount", "bank_amount_twd", "ledger_amount", "ledger_amount_twd", "ordered_at", "paid_at"}, rows
}
