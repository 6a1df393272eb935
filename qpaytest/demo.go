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
		g.demoKind(&o, 50)
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

// RecentDemoDays is how many days before today WithRecentDemoData fills:
// the days BillQuery keeps statements for.
const RecentDemoDays = 30

// WithRecentDemoData adds demo orders relative to now (Taipei), for a
// simulator people use today, such as `qpay simulator`: orders on each of
// the RecentDemoDays days before now, paid, authorised, expired, cancelled
// and refunded, so that BillQuery has a statement for every day it keeps
// and AllotQuery payouts, and a few orders waiting for payment whose
// payment pages work (a card and a mobile order that expire 30 minutes
// after now, and virtual accounts due in three days). Every paid order has
// a PayToken registered for OrderPayQuery (RecentPayTokens lists them).
// The data is a function of now's minute alone, and consistent: nothing is
// paid after its deadline, after now, or refunded before it was paid. It
// is apart from WithDemoData's October 2026, which stays as it is.
func WithRecentDemoData(now time.Time) Option {
	return func(c *config) { c.recentDemo = now }
}

// RecentPayTokens lists the PayTokens of the paid orders WithRecentDemoData
// added, in the order the orders were created.
func (s *Server) RecentPayTokens() []RecentPayToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recentTokens)
}

// RecentPayToken is a PayToken of a paid recent demo order.
type RecentPayToken struct {
	OrderNo, PayToken string
}

// recentDemo is one generated order and its PayToken if it was paid.
type recentDemo struct {
	order    sinopac.Order
	payToken string
}

// recentDemoOrders generates the orders of WithRecentDemoData for now.
// Page URLs are filled in by addRecentDemo.
func recentDemoOrders(now time.Time) []recentDemo {
	now = now.In(sinopac.Taipei).Truncate(time.Minute)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, sinopac.Taipei)
	g := splitmix64(uint64(now.Unix() / 60))
	var out []recentDemo
	seq := 0
	add := func(o sinopac.Order) {
		seq++
		o.TSNo = fmt.Sprintf("NA0249%08d", 30000000+seq)
		if o.OrderNo == "" {
			o.OrderNo = fmt.Sprintf("RD%s%03d", o.TSDate.Time().Format("20060102"), seq)
		}
		d := recentDemo{order: o}
		if o.PayStatus.Paid() || o.PayStatus.Authorized() || o.Refunded() {
			d.payToken = fmt.Sprintf("PTRD%s%016X", o.TSNo[6:], g.next())
		}
		out = append(out, d)
	}
	for day := RecentDemoDays; day >= 1; day-- {
		date := today.AddDate(0, 0, -day)
		n := 6 + g.intn(5)
		at := make([]time.Time, n)
		for i := range at {
			at[i] = date.Add(time.Duration(8*60+g.intn(14*60)) * time.Minute)
		}
		slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
		for _, t := range at {
			add(recentOrder(&g, t, now, day))
		}
	}
	// One of each state the random days may lack: yesterday's, and paid
	// out or expired five days ago.
	for i, f := range []struct {
		daysAgo int
		st      sinopac.PayStatus
	}{{1, "1A400"}, {1, "1C300"}, {1, "1C351"}, {1, "1C250"}, {1, "1M250"}, {1, "1C400"}, {1, "1M400"},
		{5, "1A900"}, {5, "1C900"}, {5, "1M900"}, {5, "1A250"}} {
		st := f.st
		t := today.AddDate(0, 0, -f.daysAgo).Add(10*time.Hour + time.Duration(i*7)*time.Minute)
		o := sinopac.Order{TSDate: sinopac.At(t), Amount: sinopac.TWD(int64(500 + 100*i)), PayType: sinopac.PayType(st[1:2]),
			PayStatus: st, RefundFlag: "N"}
		o.PrdtName = demoProducts[o.PayType][0]
		paid := sinopac.At(t.Add(3 * time.Minute))
		if st.Paid() || st.Authorized() {
			o.PayDate = paid
		}
		auth := fmt.Sprintf("%06d", g.intn(1000000))
		switch o.PayType {
		case sinopac.PayTypeATM:
			o.ExpireDate = sinopac.At(time.Date(t.Year(), t.Month(), t.Day()+3, 23, 59, 0, 0, sinopac.Taipei))
			o.ATMParam = &sinopac.ATMParam{}
			if st.Paid() {
				o.ATMParam.BankNo, o.ATMParam.AcctNo = "812", "00012345678901"
			}
		case sinopac.PayTypeCard:
			o.ExpireDate = sinopac.At(t.Add(30 * time.Minute))
			o.CardParam = &sinopac.CardParam{}
			if st != "1C250" {
				o.ApprovedDate = paid
				o.CardParam.LeftCCNo, o.CardParam.RightCCNo, o.CardParam.AuthCode, o.CardParam.CCExpDate = "414352", "0127", auth, "1235"
			}
			if st == "1C400" { // refunded in part an hour later
				rd := sinopac.At(t.Add(time.Hour))
				amt := o.Amount / 200 * 100
				o.RefundFlag, o.RefundStatus, o.RefundDate, o.RefundAmount = "Y", "2C200", rd, amt
				o.RefundList = []sinopac.Refund{{RefundNo: "RRD" + t.Format("0102150405"), RefundDate: rd, RefundAmount: amt, RefundStatus: "2C200"}}
			}
		case sinopac.PayTypeMobile:
			o.ExpireDate = sinopac.At(t.Add(10 * time.Minute))
			o.MobileParam = &sinopac.MobileParam{}
			if st.Paid() {
				o.ApprovedDate = paid
				o.MobileParam.LeftCCNo, o.MobileParam.RightCCNo, o.MobileParam.AuthCode, o.MobileParam.Paymenthod = "414352", "0127", auth, "G"
			}
		}
		add(o)
	}
	// Waiting for payment now, payable on the pages.
	for i, pt := range []sinopac.PayType{sinopac.PayTypeCard, sinopac.PayTypeMobile, sinopac.PayTypeATM, sinopac.PayTypeATM} {
		t := now.Add(-time.Duration(i+1) * time.Minute)
		o := sinopac.Order{TSDate: sinopac.At(t), Amount: sinopac.TWD(int64(300 + 100*g.intn(50))), PayType: pt,
			PayStatus: sinopac.PayStatus("1" + string(pt) + "200"), RefundFlag: "N"}
		o.PrdtName = demoProducts[pt][g.intn(len(demoProducts[pt]))]
		switch pt {
		case sinopac.PayTypeATM:
			o.ExpireDate = sinopac.At(time.Date(today.Year(), today.Month(), today.Day()+3, 23, 59, 0, 0, sinopac.Taipei))
			o.ATMParam = &sinopac.ATMParam{}
		case sinopac.PayTypeCard:
			o.ExpireDate = sinopac.At(now.Add(30 * time.Minute))
			o.CardParam = &sinopac.CardParam{}
		case sinopac.PayTypeMobile:
			o.ExpireDate = sinopac.At(now.Add(30 * time.Minute))
			o.MobileParam = &sinopac.MobileParam{}
		}
		add(o)
	}
	return out
}

// demoKind draws an order's PayType (atmPct percent ATM, card up to 85,
// mobile the rest), product and, one time in three, a member Param1:
// the draws both demo generators make, in the same order.
func (g *splitmix64) demoKind(o *sinopac.Order, atmPct int) {
	switch r := g.intn(100); {
	case r < atmPct:
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
}

// recentOrder is one order created at t, day days before today, in the
// state it has by now.
func recentOrder(g *splitmix64, t, now time.Time, day int) sinopac.Order {
	o := sinopac.Order{TSDate: sinopac.At(t), Amount: sinopac.TWD(int64(100 + 50*g.intn(400))), RefundFlag: "N"}
	g.demoKind(&o, 45)
	p := string(o.PayType)
	var window time.Duration
	switch o.PayType {
	case sinopac.PayTypeATM:
		deadline := time.Date(t.Year(), t.Month(), t.Day()+3, 23, 59, 0, 0, sinopac.Taipei)
		window = deadline.Sub(t)
		o.ATMParam = &sinopac.ATMParam{}
	case sinopac.PayTypeCard:
		window = 30 * time.Minute
		o.CardParam = &sinopac.CardParam{}
	case sinopac.PayTypeMobile:
		window = 10 * time.Minute
		o.MobileParam = &sinopac.MobileParam{}
	}
	deadline := t.Add(window)
	o.ExpireDate = sinopac.At(deadline)
	// Paid within the window, and before now.
	paidIn := time.Duration(1+g.intn(int(min(window, 180*time.Minute)/time.Minute)-1)) * time.Minute
	paid := t.Add(paidIn)
	switch {
	case g.intn(100) < 80 && paid.Before(now):
		o.PayDate = sinopac.At(paid)
		o.PayStatus = sinopac.PayStatus("1" + p + "400")
		if day > 3 {
			o.PayStatus = sinopac.PayStatus("1" + p + "900") // paid out to the shop
		}
		auth := fmt.Sprintf("%06d", g.intn(1000000))
		switch o.PayType {
		case sinopac.PayTypeATM:
			o.ATMParam.BankNo = []string{"807", "812", "822", "700"}[g.intn(4)]
			o.ATMParam.AcctNo = fmt.Sprintf("%014d", g.next()%100000000000000)
		case sinopac.PayTypeCard:
			o.ApprovedDate = o.PayDate
			o.CardParam.LeftCCNo, o.CardParam.RightCCNo, o.CardParam.AuthCode, o.CardParam.CCExpDate = "414352", "0127", auth, "1235"
			switch k := g.intn(10); {
			case k == 0 && day <= 7:
				o.PayStatus = "1C300" // authorised, to be captured
			case k == 1 && day <= 7:
				o.PayStatus = "1C351" // authorisation cancelled
				o.PayDate = sinopac.Timestamp{}
			case k == 2 && day > 2:
				refund := paid.Add(time.Duration(24+g.intn(24)) * time.Hour)
				if refund.Before(now) {
					amt := o.Amount
					if g.intn(2) == 0 {
						amt = o.Amount / 200 * 100
					}
					rd := sinopac.At(refund)
					o.RefundFlag, o.RefundStatus, o.RefundDate, o.RefundAmount = "Y", "2C900", rd, amt
					o.RefundList = []sinopac.Refund{{RefundNo: "RRD" + t.Format("0102150405"), RefundDate: rd, RefundAmount: amt, RefundStatus: "2C900"}}
				}
			}
		case sinopac.PayTypeMobile:
			o.ApprovedDate = o.PayDate
			o.MobileParam.LeftCCNo, o.MobileParam.RightCCNo, o.MobileParam.AuthCode = "414352", "0127", auth
			o.MobileParam.Paymenthod = []string{"A", "G", "S"}[g.intn(3)]
		}
	case deadline.Before(now):
		o.PayStatus = sinopac.PayStatus("1" + p + "250") // never paid
	default:
		o.PayStatus = sinopac.PayStatus("1" + p + "200") // still waiting
	}
	return o
}

// addRecentDemo books the orders of WithRecentDemoData with working
// payment pages and registers their PayTokens.
func (s *Server) addRecentDemo(now time.Time) {
	demos := recentDemoOrders(now)
	orders := make([]sinopac.Order, len(demos))
	var pages []*payPage
	for i := range demos {
		o := &demos[i].order
		pg := &payPage{orderNo: o.OrderNo, tsNo: o.TSNo, token: newPageToken(), kind: pageKind(o.PayType)}
		url := s.pageURL(pg.kind, o.TSNo, pg.token)
		switch {
		case o.ATMParam != nil:
			o.ATMParam.AtmPayNo = "999225" + o.TSNo[len(o.TSNo)-8:]
			o.ATMParam.WebAtmURL = url
		case o.CardParam != nil:
			o.CardParam.CardPayURL = url
		case o.MobileParam != nil:
			o.MobileParam.MobilePayURL = url
		}
		orders[i] = *o
		pages = append(pages, pg)
	}
	s.AddOrders(orders...)
	for _, pg := range pages {
		s.addPayPage(pg)
	}
	var toks []RecentPayToken
	for _, d := range demos {
		if d.order.PayStatus == "1C300" {
			_ = s.SetAutoBilling(d.order.OrderNo, false) // authorised only: captured by OrderMaintain P
		}
		if d.payToken != "" {
			s.RegisterPayToken(d.payToken, d.order.OrderNo, "PayOut")
			toks = append(toks, RecentPayToken{OrderNo: d.order.OrderNo, PayToken: d.payToken})
		}
	}
	s.mu.Lock()
	s.recentTokens = toks
	s.mu.Unlock()
}
