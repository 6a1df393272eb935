package qpaytest

import (
	"fmt"
	"slices"
	"time"

	"github.com/funbiz-go/sinopac"
)

// SeedOrderNo is the order of the seed document's OrderQuery reply, in
// the book of WithDemoData with exactly the fields the bank's sandbox sent.
const SeedOrderNo = "A202110507397"

// DemoMonthOrders is how many generated orders WithDemoData adds in
// October 2026 (Taipei time).
const DemoMonthOrders = 200

// DemoOrders returns the book of WithDemoData: the seed order and a
// generated month. It is deterministic (a fixed seed and generator), so
// outputs built on it can be compared with golden files.
func DemoOrders() []sinopac.Order {
	return append([]sinopac.Order{seedOrder()}, demoMonth()...)
}

func mustTS(v string) sinopac.Timestamp {
	ts, err := sinopac.ParseTimestamp(v)
	if err != nil {
		panic(err)
	}
	return ts
}

// seedOrder is the OrderList entry of the seed's sandbox reply.
func seedOrder() sinopac.Order {
	return sinopac.Order{
		OrderNo:    SeedOrderNo,
		TSNo:       "NA024900000369",
		TSDate:     mustTS("202110012243"),
		PayDate:    mustTS("202110012245"),
		Amount:     79900,
		PayType:    sinopac.PayTypeATM,
		PayStatus:  "1A400",
		ExpireDate: mustTS("202110112359"),
		RefundFlag: "N",
		PrdtName:   "虛擬帳號訂單",
		ATMParam: &sinopac.ATMParam{
			AtmPayNo:  "99922530175613",
			WebAtmURL: "https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayWebATM?TD=NA024900000369&TK=3a83b2d6-76d0-4e66-a32b-66d55ceb74f3",
			OtpURL:    "https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayOTP?TD=NA024900000369&TK=3a83b2d6-76d0-4e66-a32b-66d55ceb74f3",
			BankNo:    "807",
			AcctNo:    "01700100003411",
		},
	}
}

// splitmix64 is a tiny generator whose output never changes between Go
// releases (math/rand's helpers may), so the demo month stays stable.
type splitmix64 uint64

func (g *splitmix64) next() uint64 {
	*g += 0x9E3779B97F4A7C15
	z := uint64(*g)
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (g *splitmix64) intn(n int) int { return int(g.next() % uint64(n)) }

func (g *splitmix64) token() string {
	a, b := g.next(), g.next()
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

var demoProducts = map[sinopac.PayType][]string{
	sinopac.PayTypeATM:    {"虛擬帳號訂單", "年度會員", "教材一套", "團購禮盒"},
	sinopac.PayTypeCard:   {"信用卡訂單", "線上課程", "咖啡豆 1kg", "藍牙耳機"},
	sinopac.PayTypeMobile: {"行動支付訂單", "電子票券", "手搖飲兌換券"},
}

// demoMonth generates DemoMonthOrders orders in October 2026: about half
// virtual account, a third card, the rest mobile; about 65 % paid, 20 %
// pending and 15 % expired; two card orders refunded (one in part).
func demoMonth() []sinopac.Order {
	g := splitmix64(20261001)
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, sinopac.Taipei)
	const minutes = 31 * 24 * 60
	at := make([]time.Time, DemoMonthOrders)
	for i := range at {
		at[i] = start.Add(time.Duration(g.intn(minutes)) * time.Minute)
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })

	orders := make([]sinopac.Order, 0, DemoMonthOrders)
	refunds := 0
	for i, t := range at {
		tsNo := fmt.Sprintf("NA0249%08d", 20000+i)
		o := sinopac.Order{
			OrderNo:    fmt.Sprintf("QP%s%04d", t.Format("20060102"), i+1),
			TSNo:       tsNo,
			TSDate:     sinopac.At(t),
			Amount:     sinopac.TWD(int64(100 + 50*g.intn(400))),
			RefundFlag: "N",
		}
		switch r := g.intn(100); {
		case r < 50:
			o.PayType = sinopac.PayTypeATM
		case r < 85:
			o.PayType = sinopac.PayTypeCard
		default:
			o.PayType = sinopac.PayTypeMobile
		}
		names := demoProducts[o.PayType]
		o.PrdtName = names[g.intn(len(names))]
		if g.intn(3) == 0 {
			o.Param1 = fmt.Sprintf("member-%05d", g.intn(100000))
		}
		state := g.intn(100)
		paid := t.Add(time.Duration(1+g.intn(180)) * time.Minute)
		p := string(o.PayType)
		tk := g.token()
		switch o.PayType {
		case sinopac.PayTypeATM:
			o.ExpireDate = sinopac.At(time.Date(t.Year(), t.Month(), t.Day()+7, 23, 59, 0, 0, sinopac.Taipei))
			o.ATMParam = &sinopac.ATMParam{
				AtmPayNo:  fmt.Sprintf("99922530%06d", 200000+i),
				WebAtmURL: "https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayWebATM?TD=" + tsNo + "&TK=" + tk,
			}
		case sinopac.PayTypeCard:
			o.ExpireDate = sinopac.At(t.Add(30 * time.Minute))
			o.CardParam = &sinopac.CardParam{CardPayURL: "https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayCard?TD=" + tsNo + "&TK=" + tk}
		case sinopac.PayTypeMobile:
			o.ExpireDate = sinopac.At(t.Add(10 * time.Minute))
			o.MobileParam = &sinopac.MobileParam{MobilePayURL: "https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayMobile?TD=" + tsNo + "&TK=" + tk}
		}
		switch {
		case state < 65: // paid
			o.PayDate = sinopac.At(paid)
			o.PayStatus = sinopac.PayStatus("1" + p + "400")
			if t.Day() <= 10 && o.PayType != sinopac.PayTypeMobile {
				o.PayStatus = sinopac.PayStatus("1" + p + "900") // already paid out to the shop
			}
			auth := fmt.Sprintf("%06d", g.intn(1000000))
			switch o.PayType {
			case sinopac.PayTypeATM:
				o.ATMParam.BankNo = []string{"807", "812", "822", "700"}[g.intn(4)]
				o.ATMParam.AcctNo = fmt.Sprintf("%014d", g.next()%100000000000000)
			case sinopac.PayTypeCard:
				o.ApprovedDate = o.PayDate
				o.CardParam.LeftCCNo, o.CardParam.RightCCNo = "414352", "0127"
				o.CardParam.AuthCode, o.CardParam.CCExpDate = auth, "1235"
				if g.intn(8) == 0 {
					o.PayStatus = "1C300" // authorised, not captured yet
				} else if refunds < 2 && t.Day() > 15 {
					refunds++
					amt := o.Amount
					if refunds == 2 {
						amt = o.Amount / 200 * 100 // about half, whole dollars
					}
					rd := sinopac.At(paid.Add(48 * time.Hour))
					o.RefundFlag, o.RefundStatus, o.RefundDate, o.RefundAmount = "Y", "2C900", rd, amt
					o.RefundList = []sinopac.Refund{{RefundNo: "R" + tsNo, RefundDate: rd, RefundAmount: amt, RefundStatus: "2C900"}}
				}
			case sinopac.PayTypeMobile:
				o.ApprovedDate = o.PayDate
				o.MobileParam.LeftCCNo, o.MobileParam.RightCCNo, o.MobileParam.AuthCode = "414352", "0127", auth
				o.MobileParam.Paymenthod = []string{"A", "G", "S"}[g.intn(3)]
			}
		case state < 85:
			o.PayStatus = sinopac.PayStatus("1" + p + "200")
		default:
			o.PayStatus = sinopac.PayStatus("1" + p + "250")
		}
		orders = append(orders, o)
	}
	return orders
}
