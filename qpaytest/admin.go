package qpaytest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/funbiz-go/sinopac"
)

// AdminPath is where WithAdmin serves the simulator's own endpoint, on
// the server's host beside the bank's paths (never under BasePath or
// PayPagePath).
const AdminPath = "/qpaytest/admin/"

// AdminName is what GET AdminPath answers as "Simulator", so that a tool
// can tell the simulator from the bank before it asks for anything.
const AdminName = "qpaytest"

// WithAdmin serves an admin endpoint under AdminPath for tools that drive
// a running simulator from outside, such as `qpay trigger` and
// `qpay notify`. Requests and replies are JSON; each POST names an order:
//
//	GET  AdminPath           {"Simulator":"qpaytest","ShopNo":…}
//	POST AdminPath + "pay"    {"OrderNo":…}            the customer pays (Pay; refused past the deadline)
//	POST AdminPath + "expire" {"OrderNo":…}            the order lapses (Expire)
//	POST AdminPath + "refund" {"OrderNo":…,"Amount":n} a refund as OrderMaintain R makes it (both steps of a
//	                                                   virtual account's); Amount in 1/100 NT$, 0 or absent: all that is left
//	POST AdminPath + "token"  {"OrderNo":…}            a new PayToken (PayOut) for the order, for OrderPayQuery
//
// A reply is {"OrderNo","PayType","PayStatus","PayToken","RefundStatus"}
// as far as they apply, or {"Error":…} with HTTP 404 (no such order), 409
// (its state forbids it) or 400. POSTs must be application/json, which a
// page of another site cannot send without a CORS preflight (never
// answered here), and carry the X-KeyID of WithKeyID when it is set.
func WithAdmin() Option { return func(c *config) { c.admin = true } }

// adminRequest is the body of an admin POST.
type adminRequest struct {
	OrderNo string
	Amount  sinopac.Amount
}

// adminReply is the answer of an admin request.
type adminReply struct {
	Simulator    string               `json:"Simulator,omitempty"`
	ShopNo       string               `json:"ShopNo,omitempty"`
	OrderNo      string               `json:"OrderNo,omitempty"`
	PayType      sinopac.PayType      `json:"PayType,omitempty"`
	PayStatus    sinopac.PayStatus    `json:"PayStatus,omitempty"`
	PayToken     string               `json:"PayToken,omitempty"`
	RefundStatus sinopac.RefundStatus `json:"RefundStatus,omitempty"`
	Error        string               `json:"Error,omitempty"`
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, v adminReply) {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		writeJSON(w, v)
	}
	if s.cfg.keyID != "" && strings.TrimSpace(r.Header.Get("X-KeyID")) != s.cfg.keyID {
		answer(http.StatusUnauthorized, adminReply{Error: "X-KeyID required"})
		return
	}
	action := strings.TrimPrefix(r.URL.Path, AdminPath)
	if action == "" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			answer(http.StatusMethodNotAllowed, adminReply{Error: "GET only"})
			return
		}
		answer(http.StatusOK, adminReply{Simulator: AdminName, ShopNo: s.cfg.shopNo})
		return
	}
	if action != "pay" && action != "expire" && action != "refund" && action != "token" {
		answer(http.StatusNotFound, adminReply{Error: "no such admin action: " + action})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(http.StatusMethodNotAllowed, adminReply{Error: "POST only"})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		answer(http.StatusUnsupportedMediaType, adminReply{Error: "the body must be application/json"})
		return
	}
	var q adminRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes))
	if err != nil || json.Unmarshal(body, &q) != nil || q.OrderNo == "" || q.Amount < 0 {
		answer(http.StatusBadRequest, adminReply{Error: `the body must be {"OrderNo":…} (and "Amount" for a refund)`})
		return
	}
	if _, found := s.lookupOrder(q.OrderNo); !found {
		answer(http.StatusNotFound, adminReply{OrderNo: q.OrderNo, Error: "no order " + q.OrderNo})
		return
	}
	var tok string
	switch action {
	case "pay":
		var rec record
		now := s.now()
		rec, tok, err = s.pay(q.OrderNo, func(o *sinopac.Order) error {
			if pastDeadline(o, now) {
				return errPastDeadline
			}
			return nil
		})
		if errors.Is(err, errPastDeadline) {
			_ = s.Expire(q.OrderNo)
		}
		if err == nil {
			s.notifyPayment(rec, tok, "PayOut")
		}
	case "expire":
		err = s.Expire(q.OrderNo)
	case "refund":
		err = s.refundAsBank(q.OrderNo, q.Amount)
	case "token":
		tok = s.newPayToken(q.OrderNo, "PayOut")
	}
	rec, _ := s.lookupOrder(q.OrderNo)
	rep := adminReply{OrderNo: q.OrderNo, PayType: rec.Order.PayType, PayStatus: rec.Order.PayStatus,
		PayToken: tok, RefundStatus: rec.Order.RefundStatus}
	if err != nil {
		rep.Error = strings.TrimPrefix(err.Error(), "qpaytest: ")
		answer(http.StatusConflict, rep)
		return
	}
	answer(http.StatusOK, rep)
}

// refundAsBank refunds orderNo as OrderMaintain R does (the two steps of
// a virtual-account refund included), with the bank's own checks.
func (s *Server) refundAsBank(orderNo string, amount sinopac.Amount) error {
	call := func(refundToken string) (orderMaintainReply, error) {
		q := map[string]any{"ShopNo": s.cfg.shopNo, "OrderNo": orderNo, "Command": "R"}
		if amount > 0 {
			q["Amount"] = amount
		}
		if refundToken != "" {
			q["RefundToken"] = refundToken
		}
		body, _ := marshal(q)
		fields, _ := members(body)
		switch rep := s.orderMaintain(&request{Service: "OrderMaintain", ShopNo: s.cfg.shopNo, Body: body, fields: fields}).(type) {
		case orderMaintainReply:
			return rep, nil
		case reply:
			for _, f := range rep {
				if f.name == "Description" {
					return orderMaintainReply{}, errors.New(f.value.(string))
				}
			}
		}
		return orderMaintainReply{}, errors.New("refund refused")
	}
	rep, err := call("")
	if err == nil && rep.RefundToken != "" {
		_, err = call(rep.RefundToken)
	}
	return err
}
