package sinopac

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// LedgerKind is what a ledger entry records: a payment or a refund, the
// two kinds of line on a bank statement (BillItem.TSType P and R).
type LedgerKind string

// The ledger kinds.
const (
	LedgerPayment LedgerKind = "payment" // a statement's TSType P
	LedgerRefund  LedgerKind = "refund"  // a statement's TSType R
)

// LedgerEntry is what the merchant believes happened on the statement's
// day: an order was paid, or (part of) it was refunded.
type LedgerEntry struct {
	OrderNo string
	Kind    LedgerKind
	Amount  Amount // more than 0, in minor units like every Amount
	TSNo    string // optional: the bank's transaction number, if the ledger keeps it
}

// BankEntry is the bank's side of one OrderNo and kind on a statement: the
// day's lines of that order and kind, their amounts summed. A payment that
// is MissingInLedger carries what a reconciler needs to track the order.
type BankEntry struct {
	ShopNo  string
	OrderNo string
	Kind    LedgerKind
	TSNo    string    // the bank's transaction number (of the first line)
	Amount  Amount    // the lines' amounts summed
	PayType PayType   // of the first line
	TSDate  Timestamp // when the order was created (first line)
	PayDate Timestamp // when it was paid or refunded (the earliest line)
	Lines   []BillItem
}

// BillMismatch is an OrderNo and kind that both sides have, but on which
// they disagree.
type BillMismatch struct {
	Bank   BankEntry
	Ledger LedgerEntry // the ledger's entries of the same OrderNo and kind, amounts summed
}

// BillTotals are the sums of one side of a comparison.
type BillTotals struct {
	Payments Amount
	Refunds  Amount
	// PaymentLines and RefundLines count statement lines (bank side) or
	// ledger entries (ledger side).
	PaymentLines, RefundLines int
}

// Net is what the day brought in: payments less refunds.
func (t BillTotals) Net() Amount { return t.Payments - t.Refunds }

// BillDiff compares a day's statement (BillQuery) with the merchant's
// ledger of that day. Every list is sorted by OrderNo, payments before
// refunds.
type BillDiff struct {
	ShopNo string
	Date   time.Time // the statement's day: midnight, Taipei

	// MissingInLedger are at the bank but not in the ledger. A payment
	// here is a lost order (掉單): the customer paid and the shop does
	// not know.
	MissingInLedger []BankEntry
	// MissingAtBank are in the ledger but not on the statement: booked by
	// the shop, not by the bank (on that day).
	MissingAtBank []LedgerEntry
	// AmountMismatch are on both sides with different sums.
	AmountMismatch []BillMismatch
	// TSNoMismatch are ledger entries whose TSNo is not the bank's TSNo
	// for that order and kind (only where the ledger gives a TSNo).
	TSNoMismatch []BillMismatch

	Matched int        // OrderNo and kind pairs on which both sides agree
	Bank    BillTotals // the statement's totals
	Ledger  BillTotals // the ledger's totals
}

// Discrepancies counts the entries of the four lists: 0 means the ledger
// and the statement agree. An order whose amount and TSNo are both wrong
// counts twice.
func (d *BillDiff) Discrepancies() int {
	return len(d.MissingInLedger) + len(d.MissingAtBank) + len(d.AmountMismatch) + len(d.TSNoMismatch)
}

// DiffBill compares the statement of day (a Taipei calendar day, 1 to 30
// days ago; see BillQuery) with the merchant's ledger entries of that day.
// It costs one BillQuery call, however many transactions the day holds:
// the cheapest way to find lost orders.
//
// Entries are matched by OrderNo and kind, amounts summed on each side: an
// order may be paid and refunded on the same day, and refunded more than
// once, and a statement's refund lines carry the order's TSNo, not one of
// their own, so a refund line cannot be told from another of the same
// order except by its amount. Summing compares what matters, the money:
// two partial refunds of NT$100 and NT$200 match one ledger entry of
// NT$300, and a payment booked twice in the ledger shows as an amount
// mismatch. Where a ledger entry gives a TSNo, it must be the bank's.
//
// The ledger is read completely and checked before the bank is called: a
// bad entry is a *ValidationError naming it (Field "Ledger[3].Amount",
// counting from 0), and nothing is sent. A statement line whose TSType is
// neither P nor R is a *MessageError: a line the comparison cannot account
// for is never dropped silently.
//
// The statement books a transaction on the bank's day: a payment made
// seconds before midnight that the shop booked after it shows as
// MissingAtBank on one day and MissingInLedger on the next. Choose ledger
// entries by the bank's payment time where the ledger has it.
func (c *Client) DiffBill(ctx context.Context, day time.Time, ledger iter.Seq[LedgerEntry]) (*BillDiff, error) {
	q := BillQuery{BillDate: day}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if ledger == nil {
		return nil, &ValidationError{Field: "Ledger", Reason: "is nil (pass an empty sequence for an empty ledger)"}
	}
	led, ledTotals, err := sumLedger(ledger)
	if err != nil {
		return nil, err
	}
	r, err := c.QueryBill(ctx, q)
	if err != nil {
		return nil, err
	}
	bank, bankTotals, err := sumStatement(c.ShopNo(), r.OrderList)
	if err != nil {
		return nil, err
	}
	y, m, d := day.In(Taipei).Date()
	diff := &BillDiff{ShopNo: c.ShopNo(), Date: time.Date(y, m, d, 0, 0, 0, 0, Taipei), Bank: bankTotals, Ledger: ledTotals}
	compareBill(diff, bank, led)
	return diff, nil
}

// billKey is what entries are matched by.
type billKey struct {
	orderNo string
	kind    LedgerKind
}

func (k billKey) compare(o billKey) int {
	return cmp.Or(strings.Compare(k.orderNo, o.orderNo), strings.Compare(string(k.kind), string(o.kind)))
}

// ledgerSum is the ledger's entries of one key.
type ledgerSum struct {
	entry LedgerEntry // amounts summed, TSNo the first given
	tsNos []string    // every TSNo given
}

func sumLedger(ledger iter.Seq[LedgerEntry]) (map[billKey]*ledgerSum, BillTotals, error) {
	sums := map[billKey]*ledgerSum{}
	var t BillTotals
	i := 0
	for e := range ledger {
		if err := checkLedgerEntry(i, e); err != nil {
			return nil, BillTotals{}, err
		}
		i++
		k := billKey{e.OrderNo, e.Kind}
		s := sums[k]
		if s == nil {
			s = &ledgerSum{entry: LedgerEntry{OrderNo: e.OrderNo, Kind: e.Kind}}
			sums[k] = s
		}
		s.entry.Amount += e.Amount
		if e.TSNo != "" {
			if s.entry.TSNo == "" {
				s.entry.TSNo = e.TSNo
			}
			s.tsNos = append(s.tsNos, e.TSNo)
		}
		if e.Kind == LedgerPayment {
			t.Payments += e.Amount
			t.PaymentLines++
		} else {
			t.Refunds += e.Amount
			t.RefundLines++
		}
	}
	return sums, t, nil
}

// maxLedgerAmount keeps sums far from overflow: NT$10 billion per entry.
const maxLedgerAmount = Amount(1_000_000_000_000)

func checkLedgerEntry(i int, e LedgerEntry) error {
	field := func(name string) string { return fmt.Sprintf("Ledger[%d].%s", i, name) }
	switch {
	case e.OrderNo == "":
		return &ValidationError{Field: field("OrderNo"), Reason: "is required"}
	case strings.TrimSpace(e.OrderNo) != e.OrderNo:
		return &ValidationError{Field: field("OrderNo"), Reason: "must not start or end with spaces"}
	case e.Kind != LedgerPayment && e.Kind != LedgerRefund:
		return &ValidationError{Field: field("Kind"), Reason: fmt.Sprintf("must be %q or %q, is %q", LedgerPayment, LedgerRefund, e.Kind)}
	case e.Amount <= 0:
		return &ValidationError{Field: field("Amount"), Reason: "must be more than 0"}
	case e.Amount > maxLedgerAmount:
		return &ValidationError{Field: field("Amount"), Reason: "is larger than any payment"}
	case strings.TrimSpace(e.TSNo) != e.TSNo:
		return &ValidationError{Field: field("TSNo"), Reason: "must not start or end with spaces"}
	}
	return nil
}

// sumStatement groups the statement's lines by key.
func sumStatement(shopNo string, lines []BillItem) (map[billKey]*BankEntry, BillTotals, error) {
	sums := map[billKey]*BankEntry{}
	var t BillTotals
	for i, it := range lines {
		var kind LedgerKind
		switch it.TSType {
		case "P":
			kind = LedgerPayment
			t.Payments += it.Amount
			t.PaymentLines++
		case "R":
			kind = LedgerRefund
			t.Refunds += it.Amount
			t.RefundLines++
		default:
			return nil, BillTotals{}, &MessageError{Service: "BillQuery",
				Reason: fmt.Sprintf("OrderList[%d] has TSType %q, neither P (payment) nor R (refund)", i, it.TSType)}
		}
		k := billKey{it.OrderNo, kind}
		e := sums[k]
		if e == nil {
			e = &BankEntry{ShopNo: shopNo, OrderNo: it.OrderNo, Kind: kind, TSNo: it.TSNo, PayType: it.PayType,
				TSDate: it.TSDate, PayDate: it.PayDate}
			sums[k] = e
		}
		e.Amount += it.Amount
		if !it.PayDate.IsZero() && (e.PayDate.IsZero() || it.PayDate.Time().Before(e.PayDate.Time())) {
			e.PayDate = it.PayDate
		}
		e.Lines = append(e.Lines, it)
	}
	return sums, t, nil
}

// compareBill fills diff's lists from the two sides.
func compareBill(diff *BillDiff, bank map[billKey]*BankEntry, led map[billKey]*ledgerSum) {
	for _, k := range sortedKeys(bank) {
		b := bank[k]
		l, ok := led[k]
		if !ok {
			diff.MissingInLedger = append(diff.MissingInLedger, *b)
			continue
		}
		agree := true
		if l.entry.Amount != b.Amount {
			diff.AmountMismatch = append(diff.AmountMismatch, BillMismatch{Bank: *b, Ledger: l.entry})
			agree = false
		}
		if ts, ok := foreignTSNo(l.tsNos, b.Lines); ok {
			m := BillMismatch{Bank: *b, Ledger: l.entry}
			m.Ledger.TSNo = ts
			diff.TSNoMismatch = append(diff.TSNoMismatch, m)
			agree = false
		}
		if agree {
			diff.Matched++
		}
	}
	for _, k := range sortedKeys(led) {
		if _, ok := bank[k]; !ok {
			diff.MissingAtBank = append(diff.MissingAtBank, led[k].entry)
		}
	}
}

// foreignTSNo finds a ledger TSNo that no statement line of the key has.
func foreignTSNo(tsNos []string, lines []BillItem) (string, bool) {
	for _, ts := range tsNos {
		if !slices.ContainsFunc(lines, func(it BillItem) bool { return it.TSNo == ts }) {
			return ts, true
		}
	}
	return "", false
}

func sortedKeys[V any](m map[billKey]V) []billKey {
	keys := make([]billKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, billKey.compare)
	return keys
}
