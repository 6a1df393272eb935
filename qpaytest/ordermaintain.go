package qpaytest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
)

// Codes the simulator answers where our protocol notes list no bank code:
// a command the order's state does not allow, and a virtual-account
// refund's RefundToken that is unknown or older than RefundTokenLifetime.
const (
	CodeOrderState  = sinopac.CodeOrderState
	CodeRefundToken = sinopac.CodeRefundToken
)

// RefundTokenLifetime is how long the second call of a virtual-account
// refund may come after the first (by the server's clock).
const RefundTokenLifetime = 120 * time.Second

type orderMaintainRequest struct {
	ShopNo         string
	OrderNo        string
	Command        string
	Amount         sinopac.Amount
	Remark         string
	RefundToken    string
	ExpireDateTime string
}

type orderMaintainReply struct {
	OrderNo string         `json:"OrderNo"`
	ShopNo  string         `json:"ShopNo"`
	TSNo    string         `json:"TSNo"`
	Command string         `json:"Command"`
	Amount  sinopac.Amount `json:"Amount"`
	Date    string         `json:"Date"`
	result
	RefundToken string `json:"RefundToken,omitempty"`
}

// maintainError carries the code a state change is refused with.
type maintainError struct {
	code   sinopac.Code
	detail string
}

func (e *maintainError) Error() string { return string(e.code) + " " + e.detail }

// orderMaintain is OrderMaintain (protocol §7):
//   - P captures an authorised card order (x300 → x400);
//   - C cancels an authorisation (x300 → x351) or disables a pending
//     virtual account (1A200 → 1A250);
//   - R refunds a paid order in full (Amount omitted: what is left) or in
//     part: RefundFlag Y, a RefundList entry, RefundStatus/Date/Amount
//     (the total refunded). A virtual-account order takes two calls: the
//     first only returns a RefundToken, the second repeats the request
//     with it within RefundTokenLifetime and refunds; the bank then
//     announces the refund on the BackendURL (APType VARefundOut);
//   - E stops a recurring card order (accepted for card orders);
//   - M moves a pending virtual account's deadline to ExpireDateTime,
//     which must be in the future.
//
// Unknown orders get E2601, a bad Amount E0401, bad fields E0001, a
// state that forbids the command CodeOrderState.
func (s *Server) orderMaintain(req *request) any {
	var q orderMaintainRequest
	if err := req.decode(&q); err != nil {
		return s.fail(req, sinopac.CodeBadFormat)
	}
	switch {
	case q.ShopNo != s.cfg.shopNo:
		return s.fail(req, sinopac.CodeShopWrong)
	case q.OrderNo == "" || badText(q.OrderNo, 50):
		return s.failDetail(req, sinopac.CodeBadFormat, "OrderNo")
	case badText(q.Remark, 40):
		return s.failDetail(req, sinopac.CodeBadFormat, "Remark")
	case q.Amount < 0 || q.Amount%100 != 0 || (q.Amount != 0 && q.Command != "R"):
		return s.failDetail(req, sinopac.CodeAmount, "Amount")
	}
	now := s.now()
	var token string
	var refunded sinopac.Amount
	var fn func(r *record) error
	switch q.Command {
	case "P":
		fn = func(r *record) error {
			o := &r.Order
			if !o.PayStatus.Authorized() {
				return &maintainError{CodeOrderState, "not authorised: " + string(o.PayStatus)}
			}
			o.PayStatus = sinopac.PayStatus("1" + string(o.PayType) + "400")
			return nil
		}
	case "C":
		fn = func(r *record) error {
			o := &r.Order
			switch {
			case o.PayStatus.Authorized():
				o.PayStatus = sinopac.PayStatus("1" + string(o.PayType) + "351")
			case o.PayType == sinopac.PayTypeATM && o.PayStatus.Pending():
				o.PayStatus = "1A250"
			default:
				return &maintainError{CodeOrderState, "cannot cancel in state " + string(o.PayStatus)}
			}
			return nil
		}
	case "R":
		fn = func(r *record) error {
			o := &r.Order
			if !o.PayStatus.Paid() {
				return &maintainError{CodeOrderState, "not paid: " + string(o.PayStatus)}
			}
			var done sinopac.Amount
			for _, rf := range o.RefundList {
				if !rf.RefundStatus.Failed() {
					done += rf.RefundAmount
				}
			}
			amount := q.Amount
			if amount == 0 {
				amount = o.Amount - done
			}
			if amount <= 0 || done+amount > o.Amount {
				return &maintainError{sinopac.CodeAmount, "refund exceeds the amount left"}
			}
			if o.PayType == sinopac.PayTypeATM {
				if q.RefundToken == "" {
					token = newRefundToken(o.TSNo, now)
					if r.RefundTokens == nil {
						r.RefundTokens = map[string]time.Time{}
					}
					r.RefundTokens[token] = now
					return nil
				}
				issued, ok := r.RefundTokens[q.RefundToken]
				if !ok || now.Sub(issued) > RefundTokenLifetime {
					return &maintainError{CodeRefundToken, "RefundToken unknown or expired"}
				}
				delete(r.RefundTokens, q.RefundToken)
			}
			prefix := "2" + string(o.PayType)
			st := sinopac.RefundStatus(prefix + "200") // accepted
			if o.PayType == sinopac.PayTypeATM {
				st = sinopac.RefundStatus(prefix + "400") // in progress
			}
			o.RefundList = append(o.RefundList, sinopac.Refund{
				RefundNo: fmt.Sprintf("R%s%02d", o.TSNo, len(o.RefundList)+1), RefundDate: sinopac.At(now),
				RefundAmount: amount, RefundStatus: st,
			})
			o.RefundFlag, o.RefundStatus, o.RefundDate, o.RefundAmount = "Y", st, sinopac.At(now), done+amount
			refunded = amount
			return nil
		}
	case "E":
		fn = func(r *record) error {
			if pt := r.Order.PayType; pt != sinopac.PayTypeCard && pt != sinopac.PayTypeCardTrust {
				return &maintainError{CodeOrderState, "not a card order"}
			}
			return nil
		}
	case "M":
		exp, err := sinopac.ParseTimestamp(q.ExpireDateTime)
		if err != nil || len(q.ExpireDateTime) != 12 || !exp.Time().After(now) {
			return s.failDetail(req, sinopac.CodeBadFormat, "ExpireDateTime")
		}
		fn = func(r *record) error {
			o := &r.Order
			if o.PayType != sinopac.PayTypeATM || !o.PayStatus.Pending() {
				return &maintainError{CodeOrderState, "not a pending virtual account"}
			}
			o.ExpireDate = exp
			return nil
		}
	default:
		return s.failDetail(req, sinopac.CodeBadFormat, "Command")
	}
	rec, err := s.updateOrder(q.OrderNo, fn)
	var me *maintainError
	switch {
	case errors.Is(err, errUnknownOrder):
		return s.fail(req, sinopac.CodeNotFound)
	case errors.As(err, &me):
		return s.failDetail(req, me.code, me.detail)
	case err != nil:
		return s.fail(req, sinopac.CodeSystem)
	}
	if refunded != 0 && rec.Order.PayType == sinopac.PayTypeATM {
		s.notifyPayment(rec, s.newPayToken(rec.Order.OrderNo, "VARefundOut"), "VARefundOut")
	}
	amount := q.Amount
	if refunded != 0 {
		amount = refunded
	}
	return orderMaintainReply{
		OrderNo: rec.Order.OrderNo, ShopNo: s.cfg.shopNo, TSNo: rec.Order.TSNo, Command: q.Command,
		Amount: amount, Date: wireMinute(now), result: ok(sinopac.CodeOK), RefundToken: token,
	}
}

func newRefundToken(tsNo string, now time.Time) string {
	return strings.ToUpper(fmt.Sprintf("RT%s%X", tsNo, now.UnixNano()))
}
