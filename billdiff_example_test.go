package sinopac_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/funbiz-go/sinopac/qpaytest"
)

// Compare yesterday's statement with the shop's ledger: one BillQuery call
// finds the payments the shop never heard of (lost orders), the ones the
// bank never booked and the amounts that disagree.
func ExampleClient_DiffBill() {
	sim := qpaytest.NewServer()
	defer sim.Close()
	y, m, d := time.Now().In(sinopac.Taipei).AddDate(0, 0, -1).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, sinopac.Taipei)
	paid := func(no string, twd int64) sinopac.Order {
		return sinopac.Order{OrderNo: no, TSNo: "TS-" + no, TSDate: sinopac.At(day.Add(9 * time.Hour)),
			PayDate: sinopac.At(day.Add(10 * time.Hour)), Amount: sinopac.TWD(twd), PayType: sinopac.PayTypeATM, PayStatus: "1A400"}
	}
	sim.AddOrders(paid("A1", 799), paid("A2", 1200), paid("A3", 500))
	c, _ := sim.NewClient()

	ledger := []sinopac.LedgerEntry{
		{OrderNo: "A1", Kind: sinopac.LedgerPayment, Amount: sinopac.TWD(799)},
		{OrderNo: "A3", Kind: sinopac.LedgerPayment, Amount: sinopac.TWD(50)},
		{OrderNo: "A4", Kind: sinopac.LedgerPayment, Amount: sinopac.TWD(300)},
	}
	diff, err := c.DiffBill(context.Background(), day, slices.Values(ledger))
	if err != nil {
		panic(err)
	}
	for _, e := range diff.MissingInLedger {
		fmt.Println("lost order:", e.OrderNo, e.TSNo, e.Amount, e.PayType)
	}
	for _, e := range diff.MissingAtBank {
		fmt.Println("not at the bank:", e.OrderNo, e.Amount)
	}
	for _, mm := range diff.AmountMismatch {
		fmt.Println("amount:", mm.Bank.OrderNo, "bank", mm.Bank.Amount, "ledger", mm.Ledger.Amount)
	}
	fmt.Println(diff.Discrepancies(), "discrepancies;", diff.Matched, "matched; bank net", diff.Bank.Net())
	// Output:
	// lost order: A2 TS-A2 NT$1200.00 A
	// not at the bank: A4 NT$300.00
	// amount: A3 bank NT$500.00 ledger NT$50.00
	// 3 discrepancies; 1 matched; bank net NT$2499.00
}
