package sinopac_test

import (
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statementDay is a day whose statement the bank (and qpaytest, on the real
// clock) serves: three days ago in Taipei, at midnight.
func statementDay() time.Time {
	y, m, d := time.Now().In(sinopac.Taipei).AddDate(0, 0, -3).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, sinopac.Taipei)
}

// billBank books the orders of one statement day: five paid that day (one
// of them refunded twice the same day) and one paid two days earlier and
// refunded that day.
func billBank(t *testing.T, day time.Time) *qpaytest.Server {
	t.Helper()
	sim := qpaytest.NewServer()
	t.Cleanup(sim.Close)
	at := func(h, m int) sinopac.Timestamp {
		return sinopac.At(day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute))
	}
	paid := func(no, ts string, twd int64, pt sinopac.PayType, h int) sinopac.Order {
		st := sinopac.PayStatus("1A400")
		if pt == sinopac.PayTypeCard {
			st = "1C400"
		}
		return sinopac.Order{OrderNo: no, TSNo: ts, TSDate: at(h-1, 0), PayDate: at(h, 15), Amount: sinopac.TWD(twd),
			PayType: pt, PayStatus: st, RefundFlag: "N"}
	}
	refundedTwice := paid("D-REFUND", "TS0005", 1000, sinopac.PayTypeCard, 13)
	refundedTwice.RefundFlag, refundedTwice.RefundAmount, refundedTwice.RefundStatus = "Y", sinopac.TWD(300), "2C900"
	refundedTwice.RefundList = []sinopac.Refund{
		{RefundNo: "R1", RefundDate: at(15, 0), RefundAmount: sinopac.TWD(100), RefundStatus: "2C900"},
		{RefundNo: "R2", RefundDate: at(16, 0), RefundAmount: sinopac.TWD(200), RefundStatus: "2C900"},
	}
	earlier := sinopac.Order{OrderNo: "E-OLD", TSNo: "TS0006", TSDate: sinopac.At(day.AddDate(0, 0, -2)), PayDate: sinopac.At(day.AddDate(0, 0, -2).Add(time.Hour)),
		Amount: sinopac.TWD(700), PayType: sinopac.PayTypeCard, PayStatus: "1C400", RefundFlag: "Y", RefundAmount: sinopac.TWD(700), RefundStatus: "2C900",
		RefundList: []sinopac.Refund{{RefundNo: "R3", RefundDate: at(11, 0), RefundAmount: sinopac.TWD(700), RefundStatus: "2C900"}}}
	unpaid := sinopac.Order{OrderNo: "F-UNPAID", TSNo: "TS0007", TSDate: at(9, 0), Amount: sinopac.TWD(50), PayType: sinopac.PayTypeATM, PayStatus: "1A200"}
	sim.AddOrders(
		paid("A-MATCH", "TS0001", 1500, sinopac.PayTypeATM, 10),
		paid("B-LOST", "TS0002", 800, sinopac.PayTypeATM, 11),
		paid("C-AMOUNT", "TS0003", 1200, sinopac.PayTypeCard, 12),
		paid("G-TSNO", "TS0004", 400, sinopac.PayTypeATM, 14),
		refundedTwice, earlier, unpaid,
	)
	return sim
}

func entry(no string, kind sinopac.LedgerKind, twd int64) sinopac.LedgerEntry {
	return sinopac.LedgerEntry{OrderNo: no, Kind: kind, Amount: sinopac.TWD(twd)}
}

// goodLedger agrees with billBank's statement.
func goodLedger() []sinopac.LedgerEntry {
	tsno := entry("G-TSNO", sinopac.LedgerPayment, 400)
	tsno.TSNo = "TS0004"
	return []sinopac.LedgerEntry{
		entry("A-MATCH", sinopac.LedgerPayment, 1500),
		entry("B-LOST", sinopac.LedgerPayment, 800),
		entry("C-AMOUNT", sinopac.LedgerPayment, 1200),
		tsno,
		entry("D-REFUND", sinopac.LedgerPayment, 1000),
		entry("D-REFUND", sinopac.LedgerRefund, 300), // two refunds at the bank, one entry here
		entry("E-OLD", sinopac.LedgerRefund, 300),    // a refund paid in two entries
		entry("E-OLD", sinopac.LedgerRefund, 400),
	}
}

func TestDiffBillAgrees(t *testing.T) {
	t.Parallel()
	day := statementDay()
	sim := billBank(t, day)
	c, err := sim.NewClient()
	require.NoError(t, err)

	d, err := c.DiffBill(t.Context(), day.Add(15*time.Hour), slices.Values(goodLedger()))
	require.NoError(t, err)
	assert.Equal(t, 0, d.Discrepancies(), "%+v", d)
	assert.Equal(t, 7, d.Matched, "A, B, C, G, D payment, D refund, E refund")
	assert.True(t, d.Date.Equal(day), "the day at midnight Taipei: %v", d.Date)
	assert.Equal(t, sim.ShopNo(), d.ShopNo)
	want := sinopac.BillTotals{Payments: sinopac.TWD(1500 + 800 + 1200 + 400 + 1000), Refunds: sinopac.TWD(100 + 200 + 700), PaymentLines: 5, RefundLines: 3}
	assert.Equal(t, want, d.Bank, "the unpaid order is not on the statement")
	assert.Equal(t, sinopac.BillTotals{Payments: want.Payments, Refunds: want.Refunds, PaymentLines: 5, RefundLines: 3}, d.Ledger)
	assert.Equal(t, sinopac.TWD(4900-1000), d.Bank.Net())
	assert.Equal(t, 1, sim.Stats().Requests["BillQuery"], "one call for the whole day")
}

func TestDiffBillFindsDiscrepancies(t *testing.T) {
	t.Parallel()
	day := statementDay()
	sim := billBank(t, day)
	c, err := sim.NewClient()
	require.NoError(t, err)

	ledger := slices.DeleteFunc(goodLedger(), func(e sinopac.LedgerEntry) bool { return e.OrderNo == "B-LOST" })
	for i := range ledger {
		switch ledger[i].OrderNo {
		case "C-AMOUNT":
			ledger[i].Amount = sinopac.TWD(1000)
		case "G-TSNO":
			ledger[i].TSNo = "TS9999"
		}
	}
	ledger = append(ledger, entry("X-GHOST", sinopac.LedgerPayment, 500),
		entry("A-MATCH", sinopac.LedgerRefund, 1500)) // a refund the bank never made
	d, err := c.DiffBill(t.Context(), day, slices.Values(ledger))
	require.NoError(t, err)

	require.Len(t, d.MissingInLedger, 1)
	lost := d.MissingInLedger[0]
	// What a reconciler's PendingOrder needs, straight from the statement.
	assert.Equal(t, sim.ShopNo(), lost.ShopNo)
	assert.Equal(t, "B-LOST", lost.OrderNo)
	assert.Equal(t, sinopac.LedgerPayment, lost.Kind)
	assert.Equal(t, "TS0002", lost.TSNo)
	assert.Equal(t, sinopac.TWD(800), lost.Amount)
	assert.Equal(t, sinopac.PayTypeATM, lost.PayType)
	assert.True(t, lost.PayDate.Time().Equal(day.Add(11*time.Hour+15*time.Minute)), "PayDate %v", lost.PayDate)
	assert.True(t, lost.TSDate.Time().Equal(day.Add(10*time.Hour)), "TSDate %v", lost.TSDate)
	require.Len(t, lost.Lines, 1)
	assert.Equal(t, "P", lost.Lines[0].TSType)

	assert.Equal(t, []sinopac.LedgerEntry{entry("A-MATCH", sinopac.LedgerRefund, 1500), entry("X-GHOST", sinopac.LedgerPayment, 500)},
		d.MissingAtBank, "sorted by OrderNo")

	require.Len(t, d.AmountMismatch, 1)
	assert.Equal(t, "C-AMOUNT", d.AmountMismatch[0].Bank.OrderNo)
	assert.Equal(t, sinopac.TWD(1200), d.AmountMismatch[0].Bank.Amount)
	assert.Equal(t, sinopac.TWD(1000), d.AmountMismatch[0].Ledger.Amount)

	require.Len(t, d.TSNoMismatch, 1)
	assert.Equal(t, "TS0004", d.TSNoMismatch[0].Bank.TSNo)
	assert.Equal(t, "TS9999", d.TSNoMismatch[0].Ledger.TSNo)
	assert.Equal(t, sinopac.TWD(400), d.TSNoMismatch[0].Ledger.Amount, "the amount agrees: only the TSNo is wrong")

	assert.Equal(t, 5, d.Discrepancies())
	assert.Equal(t, 4, d.Matched, "A payment, D payment, D refund, E refund")
	assert.Equal(t, sinopac.TWD(1500+1000+400+1000+500), d.Ledger.Payments)
	assert.Equal(t, sinopac.TWD(300+700+1500), d.Ledger.Refunds)
}

func TestDiffBillSumsPerOrderAndKind(t *testing.T) {
	t.Parallel()
	day := statementDay()
	sim := billBank(t, day)
	c, err := sim.NewClient()
	require.NoError(t, err)

	// The payment of A booked twice, and D's refunds booked as 100 only.
	ledger := append(goodLedger(), entry("A-MATCH", sinopac.LedgerPayment, 1500))
	for i := range ledger {
		if ledger[i].OrderNo == "D-REFUND" && ledger[i].Kind == sinopac.LedgerRefund {
			ledger[i].Amount = sinopac.TWD(100)
		}
	}
	d, err := c.DiffBill(t.Context(), day, slices.Values(ledger))
	require.NoError(t, err)
	require.Len(t, d.AmountMismatch, 2, "%+v", d.AmountMismatch)
	double, refund := d.AmountMismatch[0], d.AmountMismatch[1]
	assert.Equal(t, "A-MATCH", double.Bank.OrderNo)
	assert.Equal(t, sinopac.TWD(3000), double.Ledger.Amount, "a double booking shows as twice the amount")
	assert.Equal(t, "D-REFUND", refund.Bank.OrderNo)
	assert.Equal(t, sinopac.LedgerRefund, refund.Bank.Kind)
	assert.Equal(t, sinopac.TWD(300), refund.Bank.Amount, "the two refund lines of the day, summed")
	require.Len(t, refund.Bank.Lines, 2)
	assert.True(t, refund.Bank.PayDate.Time().Equal(day.Add(15*time.Hour)), "the earliest line's time: %v", refund.Bank.PayDate)
	assert.Empty(t, d.MissingInLedger)
	assert.Empty(t, d.MissingAtBank)
}

func TestDiffBillEmptyStatement(t *testing.T) {
	t.Parallel()
	sim := qpaytest.NewServer()
	defer sim.Close()
	c, err := sim.NewClient()
	require.NoError(t, err)

	d, err := c.DiffBill(t.Context(), statementDay(), slices.Values([]sinopac.LedgerEntry(nil)))
	require.NoError(t, err)
	assert.Equal(t, 0, d.Discrepancies())
	assert.Equal(t, 0, d.Matched)

	d, err = c.DiffBill(t.Context(), statementDay(), slices.Values([]sinopac.LedgerEntry{entry("A1", sinopac.LedgerPayment, 10)}))
	require.NoError(t, err)
	assert.Equal(t, []sinopac.LedgerEntry{entry("A1", sinopac.LedgerPayment, 10)}, d.MissingAtBank, "S0001: nothing at the bank")
}

func TestDiffBillRefusesBadInputBeforeCalling(t *testing.T) {
	t.Parallel()
	sim := qpaytest.NewServer()
	defer sim.Close()
	c, err := sim.NewClient()
	require.NoError(t, err)

	good := entry("A1", sinopac.LedgerPayment, 10)
	cases := []struct {
		name  string
		day   time.Time
		bad   sinopac.LedgerEntry
		field string
	}{
		{"no OrderNo", statementDay(), sinopac.LedgerEntry{Kind: sinopac.LedgerPayment, Amount: 100}, "Ledger[1].OrderNo"},
		{"spaces", statementDay(), sinopac.LedgerEntry{OrderNo: "A2 ", Kind: sinopac.LedgerPayment, Amount: 100}, "Ledger[1].OrderNo"},
		{"kind", statementDay(), sinopac.LedgerEntry{OrderNo: "A2", Kind: "P", Amount: 100}, "Ledger[1].Kind"},
		{"zero", statementDay(), sinopac.LedgerEntry{OrderNo: "A2", Kind: sinopac.LedgerRefund}, "Ledger[1].Amount"},
		{"negative", statementDay(), sinopac.LedgerEntry{OrderNo: "A2", Kind: sinopac.LedgerRefund, Amount: -100}, "Ledger[1].Amount"},
		{"huge", statementDay(), sinopac.LedgerEntry{OrderNo: "A2", Kind: sinopac.LedgerRefund, Amount: 1 << 60}, "Ledger[1].Amount"},
		{"TSNo spaces", statementDay(), sinopac.LedgerEntry{OrderNo: "A2", Kind: sinopac.LedgerRefund, Amount: 100, TSNo: " T"}, "Ledger[1].TSNo"},
		{"today", time.Now(), good, "BillDate"},
		{"31 days ago", time.Now().AddDate(0, 0, -31), good, "BillDate"},
	}
	for _, tc := range cases {
		d, err := c.DiffBill(t.Context(), tc.day, slices.Values([]sinopac.LedgerEntry{good, tc.bad}))
		assert.Nil(t, d, tc.name)
		var ve *sinopac.ValidationError
		if assert.ErrorAs(t, err, &ve, tc.name) {
			assert.Equal(t, tc.field, ve.Field, tc.name)
		}
	}
	_, err = c.DiffBill(t.Context(), statementDay(), nil)
	var ve *sinopac.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Ledger", ve.Field)
	assert.Zero(t, sim.Stats().Requests["BillQuery"], "nothing sent for bad input")
}

// The ledger is read before the bank is asked, and only once.
func TestDiffBillReadsLedgerOnceBeforeCalling(t *testing.T) {
	t.Parallel()
	sim := qpaytest.NewServer()
	defer sim.Close()
	c, err := sim.NewClient()
	require.NoError(t, err)
	reads := 0
	var ledger iter.Seq[sinopac.LedgerEntry] = func(yield func(sinopac.LedgerEntry) bool) {
		reads++
		assert.Zero(t, sim.Stats().Requests["BillQuery"], "the ledger is read before the call")
		yield(entry("A1", sinopac.LedgerPayment, 10))
	}
	_, err = c.DiffBill(t.Context(), statementDay(), ledger)
	require.NoError(t, err)
	assert.Equal(t, 1, reads)
}

func TestDiffBillBankError(t *testing.T) {
	t.Parallel()
	sim := qpaytest.NewServer()
	defer sim.Close()
	sim.InjectFault(qpaytest.Fault{Service: "BillQuery", Code: sinopac.CodeSystem})
	c, err := sim.NewClient(sinopac.WithRetryPolicy(sinopac.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	d, err := c.DiffBill(t.Context(), statementDay(), slices.Values(goodLedger()))
	assert.Nil(t, d, "no partial diff")
	var ae *sinopac.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, sinopac.CodeSystem, ae.Code)
}
