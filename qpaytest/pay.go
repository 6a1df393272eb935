package qpaytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/funbiz-go/sinopac"
	"github.com/google/go-querystring/query"
)

// payToken is what the bank remembers of a token it sent in a notification.
type payToken struct {
	orderNo string
	apType  string // PayOut, CaptureOut, RegularOut, RegularEnd, VARefundOut, CardBindOut
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
	var rnd [16]byte
	rand.Read(rnd[:])
	s.mu.Lock()
	s.tokenSeq++
	tok := fmt.Sprintf("PT%08d%s", s.tokenSeq, strings.ToUpper(hex.EncodeToString(rnd[:])))
	s.mu.Unlock()
	s.RegisterPayToken(tok, orderNo, apType)
	return tok
}

// Pay marks orderNo paid now (by the server's clock), as the bank does
// when the customer pays: a virtual-account or mobile order becomes x400; a
// card order 1C400 when its AutoBilling is Y (the default), else 1C300
// (authorised). It records a PayToken (APType PayOut) and sends the
// notifications in the background: the BackendURL JSON POST and, for card
// orders, the ReturnURL form POST (see SetCallbackURLs). An order already
// paid, expired or cancelled is an error.
func (s *Server) Pay(orderNo string) (payToken string, err error) {
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
		return nil
	})
	if err != nil {
		if err == errUnknownOrder {
			return "", fmt.Errorf("qpaytest: no order %s", orderNo)
		}
		return "", err
	}
	tok := s.newPayToken(orderNo, "PayOut")
	s.notifyPayment(rec, tok)
	return tok, nil
}

// notifyPayment sends the bank's notifications for token in the
// background: the BackendURL JSON POST (resent every WithNotifyRetry
// interval, at most 5 times, until answered {"Status":"S"}) and, for card
// orders, the ReturnURL form POST. Close stops them.
func (s *Server) notifyPayment(rec record, token string) {
	if rec.BackendURL != "" {
		s.goTracked(func(ctx context.Context) { s.postBackend(ctx, rec.BackendURL, token) })
	}
	if rec.ReturnURL != "" && (rec.Order.PayType == sinopac.PayTypeCard || rec.Order.PayType == sinopac.PayTypeCardTrust) {
		s.goTracked(func(ctx context.Context) { s.postReturn(ctx, rec.ReturnURL, token) })
	}
}

// goTracked runs fn in a goroutine that Close cancels (through ctx) and
// waits for. After Close it does nothing.
func (s *Server) goTracked(fn func(ctx context.Context)) {
	if !s.enter() {
		return
	}
	go func() {
		defer s.wg.Done()
		fn(s.ctx)
	}()
}

// enter registers one tracked goroutine unless the server is closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

type notification struct {
	ShopNo   string `json:"ShopNo" url:"ShopNo"`
	PayToken string `json:"PayToken" url:"PayToken"`
}

// postBackend is the bank's server-to-server notification with resends.
func (s *Server) postBackend(ctx context.Context, url, token string) {
	body, _ := json.Marshal(notification{ShopNo: s.cfg.shopNo, PayToken: token})
	for try := 0; try <= notifyRetries; try++ {
		if try > 0 && !s.sleep(ctx, s.cfg.notifyRetry) {
			return
		}
		if s.postOnce(ctx, url, "application/json", body) {
			return
		}
	}
}

// postOnce posts body and reports whether the answer was {"Status":"S"}.
func (s *Server) postOnce(ctx context.Context, url, contentType string, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := s.notify.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var ans struct{ Status string }
	return resp.StatusCode == http.StatusOK && json.Unmarshal(b, &ans) == nil && ans.Status == "S"
}

// postReturn is the browser's form POST to ReturnURL (no resends: a
// browser does not retry).
func (s *Server) postReturn(ctx context.Context, url, token string) {
	v, err := query.Values(notification{ShopNo: s.cfg.shopNo, PayToken: token})
	if err != nil {
		return
	}
	s.postOnce(ctx, url, "application/x-www-form-urlencoded", []byte(v.Encode()))
}

// scheduleLocked starts the WithAutoPay timer of a record entering the
// book: a pending virtual-account order is paid after the delay, or, when
// its OrderNo ends in '9', expires at its ExpireDate. s.mu is held.
func (s *Server) scheduleLocked(r *record) {
	o := &r.Order
	if !s.cfg.autoPay || s.closed || o.PayType != sinopac.PayTypeATM || !o.PayStatus.Pending() {
		return
	}
	orderNo := o.OrderNo
	if strings.HasSuffix(orderNo, "9") {
		if o.ExpireDate.IsZero() {
			return
		}
		d := max(o.ExpireDate.Time().Sub(s.now()), 0)
		s.timers = append(s.timers, time.AfterFunc(d, func() { s.tracked(func() { s.expire(orderNo) }) }))
		return
	}
	s.timers = append(s.timers, time.AfterFunc(s.cfg.autoPayWait, func() {
		// An order paid or changed meanwhile is left alone.
		s.tracked(func() { _, _ = s.Pay(orderNo) })
	}))
}

// tracked runs fn now, counted by Close's wait, unless closed.
func (s *Server) tracked(fn func()) {
	if !s.enter() {
		return
	}
	defer s.wg.Done()
	fn()
}

// expire turns a still-pending order into x250 (帳號逾期).
func (s *Server) expire(orderNo string) {
	_, _ = s.updateOrder(orderNo, func(r *record) error {
		if !r.Order.PayStatus.Pending() {
			return errUnknownOrder // nothing to do
		}
		r.Order.PayStatus = sinopac.PayStatus("1" + string(r.Order.PayType) + "250")
		return nil
	})
}
