package sinopac

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// Taipei is the bank's time zone (UTC+8, no daylight saving since 1979).
// Every yyyyMMddHHmm on the wire is Taipei time. A fixed zone needs no tzdata.
var Taipei = time.FixedZone("Asia/Taipei", 8*60*60)

// Amount is money in minor units (1/100 TWD) exactly as on the wire:
// NT$799 is Amount(79900).
//
// Decoding takes what the bank sends and refuses what cannot be money. A
// JSON number or a JSON string (OrderPayQuery sends "Amount":"9440300")
// holding 1 to 18 digits is accepted; a sign (even -0), a leading zero
// ("0" itself is zero), a fraction, an exponent, spaces or any other
// character is an error. "" and null decode to 0: Json.NET writes "" for
// an absent number, and any field may be null. Whether 0 (or absence) is
// acceptable is the field's rule, checked after decoding:
//
//   - an order's own amount must be present and positive: Order.Amount in
//     OrderQuery replies, ResponseOrderCreate.Amount, and TSResult.Amount
//     when its APType moves money (PayOut, CaptureOut, RegularOut,
//     VARefundOut). A verified reply that breaks this is a *MessageError
//     naming the field (e.g. "OrderList[2].Amount"), never a silent 0;
//   - a refund that exists must have an amount: Refund.RefundAmount of
//     every RefundList entry, and Order.RefundAmount of an order whose
//     RefundFlag is "Y" and which has no RefundList (the form before 2025);
//   - where absence is legitimate, ""/null/absent read as 0: the
//     RefundAmount of an order never refunded, TSResult.Amount of a
//     RegularEnd or CardBindOut (or an APType the SDK does not know), the
//     optional CardParam amounts and points (Staging…, Bonus…);
//   - Allot.AllotAmount and Allot.ExtAllotAmount are net sums and may be
//     negative (a day of refunds only pays out less than nothing): they
//     alone take a sign, "-30000" (but not "-0");
//   - every other amount (ResponseOrderMaintain, UnCapturedOrder, BillItem,
//     Allot's other sums, AllotItem) has the type's rule only: no sign, ""
//     or null is 0.
type Amount int64

// TWD returns the Amount of a whole number of New Taiwan dollars.
func TWD(dollars int64) Amount { return Amount(dollars * 100) }

// String renders the amount for people: "NT$799.00".
func (a Amount) String() string {
	sign, v := "", int64(a)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%sNT$%d.%02d", sign, v/100, v%100)
}

// MarshalJSON writes the amount as a JSON number, as requests want it.
func (a Amount) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(a), 10), nil
}

// maxAmountDigits keeps every accepted amount within int64.
const maxAmountDigits = 18

// UnmarshalJSON accepts 79900, "79900", "0", "" and null (see Amount).
// On error the Amount is left unchanged.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" || string(b) == `""` {
		*a = 0
		return nil
	}
	digits := amountDigits(b)
	if len(digits) == 0 || len(digits) > maxAmountDigits || (digits[0] == '0' && len(digits) > 1) {
		return badAmount(b)
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return badAmount(b)
		}
		v = v*10 + int64(c-'0')
	}
	*a = Amount(v)
	return nil
}

// amountDigits strips the quotes of a JSON string; other input is returned as is.
func amountDigits(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// badAmount is a fresh error for each refusal (encoding/json writes the
// field's name into it). It tells the JSON kind, never the content: an
// amount field may hold an account number by mistake.
func badAmount(b []byte) error {
	kind := "number"
	if len(b) > 0 && b[0] == '"' {
		kind = "string"
	}
	return &json.UnmarshalTypeError{Value: kind + " that is not an amount (1 to 18 digits, no sign or leading zero)",
		Type: reflect.TypeFor[Amount]()}
}

// signedAmount decodes a net sum: an Amount, or a minus sign followed by
// the digits of a positive one ("-30000"). "-0" and a plus sign are
// refused.
type signedAmount Amount

func (s *signedAmount) UnmarshalJSON(b []byte) error {
	inner := amountDigits(b)
	if len(inner) == 0 || inner[0] != '-' {
		return (*Amount)(s).UnmarshalJSON(b)
	}
	digits := inner[1:]
	if len(digits) == 0 || digits[0] < '1' || digits[0] > '9' {
		return badAmount(b)
	}
	var a Amount
	if err := a.UnmarshalJSON(digits); err != nil {
		return badAmount(b)
	}
	*s = signedAmount(-a)
	return nil
}

// Timestamp is a bank time: yyyyMMddHHmm (or yyyyMMdd for dates) in Taipei
// time. The zero Timestamp is "no value"; "" and null decode to it.
type Timestamp struct {
	t        time.Time
	dateOnly bool
}

// At returns the Timestamp of t, to the minute, in Taipei time.
func At(t time.Time) Timestamp {
	if t.IsZero() {
		return Timestamp{}
	}
	return Timestamp{t: t.In(Taipei).Truncate(time.Minute)}
}

// Date returns the date-only Timestamp (yyyyMMdd) of t's Taipei day.
func Date(t time.Time) Timestamp {
	if t.IsZero() {
		return Timestamp{}
	}
	y, m, d := t.In(Taipei).Date()
	return Timestamp{t: time.Date(y, m, d, 0, 0, 0, 0, Taipei), dateOnly: true}
}

// ParseTimestamp parses the wire forms yyyyMMddHHmm, yyyyMMddHHmmss and
// yyyyMMdd; "" gives the zero Timestamp.
func ParseTimestamp(s string) (Timestamp, error) {
	var ts Timestamp
	err := ts.parse([]byte(s))
	return ts, err
}

// Time returns the instant (in Taipei), or the zero time.Time.
func (ts Timestamp) Time() time.Time { return ts.t }

// IsZero reports whether the Timestamp holds no value.
func (ts Timestamp) IsZero() bool { return ts.t.IsZero() }

// DateOnly reports whether the Timestamp came as yyyyMMdd.
func (ts Timestamp) DateOnly() bool { return ts.dateOnly }

// Equal reports whether both hold the same instant.
func (ts Timestamp) Equal(o Timestamp) bool { return ts.t.Equal(o.t) }

// String gives the wire form: "202110012245", "20211001" or "".
func (ts Timestamp) String() string {
	switch {
	case ts.t.IsZero():
		return ""
	case ts.dateOnly:
		return ts.t.Format("20060102")
	case ts.t.Second() != 0:
		return ts.t.Format("20060102150405")
	}
	return ts.t.Format("200601021504")
}

// MarshalJSON writes the wire form as a JSON string.
func (ts Timestamp) MarshalJSON() ([]byte, error) { return strconv.AppendQuote(nil, ts.String()), nil }

// UnmarshalJSON accepts the wire forms, "" and null.
func (ts *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*ts = Timestamp{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errBadTimestamp
	}
	return ts.parse(b[1 : len(b)-1])
}

var errBadTimestamp = errors.New("sinopac: time must be yyyyMMddHHmm or yyyyMMdd (Taipei)")

// parse reads digits by hand: a 300-order reply holds 1,500 timestamps and
// time.Parse would dominate its decoding.
func (ts *Timestamp) parse(b []byte) error {
	*ts = Timestamp{}
	if len(b) == 0 {
		return nil
	}
	if len(b) != 8 && len(b) != 12 && len(b) != 14 {
		return errBadTimestamp
	}
	var n [7]int
	for i := 0; i < len(b); i += 2 {
		if b[i] < '0' || b[i] > '9' || b[i+1] < '0' || b[i+1] > '9' {
			return errBadTimestamp
		}
	}
	num := func(from, to int) int {
		v := 0
		for _, c := range b[from:to] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	n[0], n[1], n[2] = num(0, 4), num(4, 6), num(6, 8)
	if len(b) >= 12 {
		n[3], n[4] = num(8, 10), num(10, 12)
	}
	if len(b) == 14 {
		n[5] = num(12, 14)
	}
	// Years before 1000 are refused: no bank time lies there, and
	// 000101010800 would be the zero instant, which means "no value".
	if n[0] < 1000 || n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 || n[3] > 23 || n[4] > 59 || n[5] > 59 {
		return errBadTimestamp
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], 0, Taipei)
	if t.Day() != n[2] { // 20210231
		return errBadTimestamp
	}
	*ts = Timestamp{t: t, dateOnly: len(b) == 8}
	return nil
}

// PayType is how an order is paid.
type PayType string

// The pay types of protocol §5 and §7.
const (
	PayTypeATM       PayType = "A" // virtual account (虛擬帳號)
	PayTypeCard      PayType = "C" // credit card
	PayTypeMobile    PayType = "M" // mobile pay (Apple/Google/Samsung Pay)
	PayTypeCardTrust PayType = "P" // 信用卡價金 (card, funds held in trust)
	PayTypeWallet    PayType = "W" // e-wallets; not returned by OrderQuery
)

// PayFlag is OrderQuery's payment-state condition.
type PayFlag string

// The PayFlag values (meaning per PayType, spec §8.4).
const (
	PayFlagPaid    PayFlag = "Y" // paid / captured
	PayFlagUnpaid  PayFlag = "N" // not (yet) paid / not captured
	PayFlagExpired PayFlag = "O" // expired
)

// PayStatus is an order's payment state, e.g. "1A400" (X(5)). Unknown codes
// (PayType P's are unpublished) are kept as they are.
type PayStatus string

var payStatusLabels = map[PayStatus]string{
	"1A200": "待付款 (awaiting payment)", "1A250": "帳號逾期 (account expired)",
	"1A400": "付款完成 (paid)", "1A900": "已撥款 (paid out to shop)",
	"1C200": "待付款 (awaiting payment)", "1C250": "刷卡逾期 (card payment expired)",
	"1C300": "已授權未請款 (authorised, not captured)", "1C350": "授權失效 (authorisation lapsed)",
	"1C351": "取消授權 (authorisation cancelled)", "1C400": "請款完成 (captured)",
	"1C900": "已撥款 (paid out to shop)",
	"1M200": "待付款 (awaiting payment)", "1M250": "訂單逾期 (order expired)",
	"1M350": "授權失效 (authorisation lapsed)", "1M351": "取消授權 (authorisation cancelled)",
	"1M400": "付款完成 (paid)", "1M900": "已撥款 (paid out to shop)",
}

// Label is the bank's name for the state (protocol §3), or the raw code.
func (s PayStatus) Label() string {
	if l, ok := payStatusLabels[s]; ok {
		return l
	}
	return string(s)
}

func (s PayStatus) suffix() string {
	if len(s) != 5 {
		return ""
	}
	return string(s[2:])
}

// Paid reports a completed payment: x400 (paid/captured) or x900 (paid out).
func (s PayStatus) Paid() bool { return s.suffix() == "400" || s.suffix() == "900" }

// Expired reports an order whose payment window closed unpaid (x250).
func (s PayStatus) Expired() bool { return s.suffix() == "250" }

// Authorized reports a card authorised but not yet captured (x300).
func (s PayStatus) Authorized() bool { return s.suffix() == "300" }

// Cancelled reports a lapsed or cancelled authorisation (x350, x351).
func (s PayStatus) Cancelled() bool { return s.suffix() == "350" || s.suffix() == "351" }

// Pending reports an order still waiting for payment (x200).
func (s PayStatus) Pending() bool { return s.suffix() == "200" }

// Flag is the PayFlag the bank files this state under: Y for x400/x900,
// O for x250, N for the rest.
func (s PayStatus) Flag() PayFlag {
	switch {
	case s.Paid():
		return PayFlagPaid
	case s.Expired():
		return PayFlagExpired
	}
	return PayFlagUnpaid
}

// RefundStatus is a refund's state, e.g. "2A900".
type RefundStatus string

var refundStatusLabels = map[string]string{
	"260": "退款失敗(返還中) (refund failed, returning)", "290": "退款失敗 (refund failed)",
	"200": "退款已受理 (refund accepted)", "400": "退款處理中 (refund in progress)",
	"900": "退款完成 (refunded)",
}

// Label is the bank's name for the state, or the raw code.
func (s RefundStatus) Label() string {
	if len(s) == 5 {
		if l, ok := refundStatusLabels[string(s[2:])]; ok {
			return l
		}
	}
	return string(s)
}

// Done reports a completed refund (x900).
func (s RefundStatus) Done() bool { return len(s) == 5 && s[2:] == "900" }

// Failed reports a failed refund (x260, x290).
func (s RefundStatus) Failed() bool { return len(s) == 5 && (s[2:] == "260" || s[2:] == "290") }
