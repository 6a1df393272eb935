package qpaytest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/funbiz-go/sinopac"
)

// payToken is what the bank remembers of a token it sent in a notification.
type payToken struct {
	orderNo string
	apType  string // PayOut, CaptureOut, RegularOut, RegularEnd, VARefundOut, CardBindOut
	// declined is set for a card payment attempt the bank refused on its
	// payment page: OrderPayQuery answers that attempt's own failure,
	// whatever the order did later.
	declined *decline
}

// RegisterPayToken makes OrderPayQuery answer for token with the current
// state of orderNo, as for a notification of kind apType (PayOut,
// CaptureOut, RegularOut, RegularEnd, VARefundOut or CardBindOut).
func (s *Server) RegisterPayToken(token, orderNo, apType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = payToken{orderNo: orderNo, apType: apType}
	if r, ok := s.book.byNo[orderNo]; ok {
		r.PayTokens = append(r.PayTokens, token)
	}
}

// newPayToken creates and registers a fresh token for orderNo.
func (s *Server) newPayToken(orderNo, apType string) string {
	return s.issuePayToken(payToken{orderNo: orderNo, apType: apType})
}

// issuePayToken creates a fresh token standing for t and registers it.
func (s *Server) issuePayToken(t payToken) string {
	var rnd [16]byte
	rand.Read(rnd[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenSeq++
	tok := fmt.Sprintf("PT%08d%s", s.tokenSeq, strings.ToUpper(hex.EncodeToString(rnd[:])))
	s.tokens[tok] = t
	if r, ok := s.book.byNo[t.orderNo]; ok {
		r.PayTokens = append(r.PayTokens, tok)
	}
	return tok
}

// Pay marks orderNo paid now (by the server's clock), as the bank does
// when the customer pays: a virtual-account or mobile order becomes x400; a
// card order 1C400 when its AutoBilling is Y (the default), else 1C300
// (authorised). It records a PayToken (APType PayOut) and returns once the
// order's state has changed; the notifications go out in the background
// (see SetCallbackURLs): the BackendURL JSON POST, resent until answered
// {"Status":"S"}, and, for card orders, the ReturnURL form POST.
// WaitIdle waits until the first attempts are made; with a Clock, Advance
// also makes the resends that fall due. Deliveries lists every attempt.
// An order already paid, expired or cancelled is an error.
func (s *Server) Pay(orderNo string) (payToken string, err error) {
	rec, tok, err := s.pay(orderNo, nil)
	if err != nil {
		return "", err
	}
	s.notifyPayment(rec, tok, "PayOut")
	return tok, nil
}

// pay marks orderNo paid now and registers a PayOut token for it, as Pay
// does, without notifying anyone: Pay posts both callbacks itself, the
// payment pages leave the ReturnURL to the customer's browser. details, if
// not nil, runs under the lock after the default payment details are set:
// it sets what the customer chose on a page (card, instalments) and may
// refuse the payment (a deadline passed), which then leaves the order as
// it was.
func (s *Server) pay(orderNo string, details func(o *sinopac.Order) error) (record, string, error) {
	now := s.now()
	rec, err := s.updateOrder(orderNo, func(r *record) error {
		o := &r.Order
		if !o.PayStatus.Pending() && o.PayStatus != "" {
			return fmt.Errorf("qpaytest: order %s cannot be paid in state %s", orderNo, o.PayStatus)
		}
		pt := string(o.PayType)
		o.PayStatus = sinopac.PayStatus("1" + pt + "400")
		o.PayDate = sinopac.At(now)
		switch o.PayType {
		case sinopac.PayTypeCard, sinopac.PayTypeCardTrust:
			if !r.AutoBilling {
				o.PayStatus = sinopac.PayStatus("1" + pt + "300")
			}
			o.ApprovedDate = o.PayDate
			if o.CardParam == nil {
				o.CardParam = &sinopac.CardParam{}
			}
			o.CardParam.LeftCCNo, o.CardParam.RightCCNo, o.CardParam.CCExpDate = "414352", "0127", "1235"
			o.CardParam.AuthCode = fmt.Sprintf("%06d", now.UnixNano()/1000%1000000)
		case sinopac.PayTypeMobile:
			o.ApprovedDate = o.PayDate
			if o.MobileParam == nil {
				o.MobileParam = &sinopac.MobileParam{}
			}
			o.MobileParam.LeftCCNo, o.MobileParam.RightCCNo, o.MobileParam.Paymenthod = "414352", "0127", "A"
		case sinopac.PayTypeATM:
			if o.ATMParam == nil {
				o.ATMParam = &sinopac.ATMParam{}
			}
			o.ATMParam.BankNo, o.ATMParam.AcctNo = "807", "01700100003411"
		}
		if details != nil {
			return details(o)
		}
		return nil
	})
	if err != nil {
		if err == errUnknownOrder {
			return record{}, "", fmt.Errorf("qpaytest: no order %s", orderNo)
		}
		return record{}, "", err
	}
	return rec, s.newPayToken(orderNo, "PayOut"), nil
}

// Expire turns orderNo, still waiting for payment, into x250 (帳號逾期 /
// 刷卡逾期 / 訂單逾期) now, as the bank does at its ExpireDate. The bank
// sends no notification for it. An order not pending is an error.
func (s *Server) Expire(orderNo string) error {
	_, err := s.updateOrder(orderNo, func(r *record) error {
		if !r.Order.PayStatus.Pending() {
			return fmt.Errorf("qpaytest: order %s cannot expire in state %s", orderNo, r.Order.PayStatus)
		}
		r.Order.PayStatus = sinopac.PayStatus("1" + string(r.Order.PayType) + "250")
		return nil
	})
	if err == errUnknownOrder {
		return fmt.Errorf("qpaytest: no order %s", orderNo)
	}
	return err
}

// scheduleLocked starts the WithAutoPay timer of a record entering the
// book: a pending virtual-account order is paid after the delay, or, when
// its OrderNo ends in '9', expires at its ExpireDate. s.mu is held.
func (s *Server) scheduleLocked(r *record) {
	o := &r.Order
	if !s.cfg.autoPay || o.PayType != sinopac.PayTypeATM || !o.PayStatus.Pending() {
		return
	}
	orderNo := o.OrderNo
	if strings.HasSuffix(orderNo, "9") {
		if !o.ExpireDate.IsZero() {
			// An order paid or changed meanwhile is left alone.
			s.atLocked(o.ExpireDate.Time(), func() { _ = s.Expire(orderNo) })
		}
		return
	}
	s.afterLocked(s.cfg.autoPayWait, func() { _, _ = s.Pay(orderNo) })
}
