package sinopac

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func maintainReply(cmd string, amount Amount, token string) bankReply {
	m := map[string]any{"OrderNo": "C202611260001", "ShopNo": mockShop, "TSNo": "NA024900000211",
		"Command": cmd, "Amount": amount, "Date": "202611261030"}
	if token != "" {
		m["RefundToken"] = token
	}
	return ok(m)
}

func TestMaintainOrderWire(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, golden string
		call         func(c *Client) (*ResponseOrderMaintain, error)
	}{
		{"capture", "ordermaintain_capture.json", func(c *Client) (*ResponseOrderMaintain, error) {
			return c.Capture(t.Context(), "C202611260001")
		}},
		{"cancel", "ordermaintain_cancel.json", func(c *Client) (*ResponseOrderMaintain, error) {
			return c.Cancel(t.Context(), "C202611260001")
		}},
		{"partial refund", "ordermaintain_refund.json", func(c *Client) (*ResponseOrderMaintain, error) {
			return c.MaintainOrder(t.Context(), OrderMaintainRequest{OrderNo: "C202611260001", Command: CommandRefund,
				Amount: TWD(200), Remark: "退一件 size L"})
		}},
		{"full refund", "ordermaintain_refund_full.json", func(c *Client) (*ResponseOrderMaintain, error) {
			return c.Refund(t.Context(), "C202611260001", 0)
		}},
		{"stop recurring", "ordermaintain_stop.json", func(c *Client) (*ResponseOrderMaintain, error) {
			return c.StopRecurring(t.Context(), "C202611260001")
		}},
		{"change expiry", "ordermaintain_expiry.json", func(c *Client) (*ResponseOrderMaintain, error) {
			// 16:30 UTC is 00:30 the next day in Taipei.
			return c.ChangeExpiry(t.Context(), "C202611260001", time.Date(2026, 12, 1, 16, 30, 59, 0, time.UTC))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newSurfaceBank(t, func(service string, plain []byte) bankReply {
				assert.Equal(t, "OrderMaintain", service)
				var req struct{ Command string }
				require.NoError(t, json.Unmarshal(plain, &req))
				return maintainReply(req.Command, TWD(200), "")
			})
			r, err := tc.call(bank.client())
			require.NoError(t, err)
			assert.Equal(t, "NA024900000211", r.TSNo)
			assert.Equal(t, "202611261030", r.Date.String())
			reqs := bank.requests()
			require.Len(t, reqs, 1)
			golden(t, tc.golden, reqs[0].Plain)
		})
	}
}

func TestRefundVirtualAccountTwoSteps(t *testing.T) {
	t.Parallel()
	bank := newSurfaceBank(t, func(_ string, plain []byte) bankReply {
		var req struct{ RefundToken string }
		require.NoError(t, json.Unmarshal(plain, &req))
		if req.RefundToken == "" {
			return maintainReply("R", TWD(500), "RT-7f3a")
		}
		assert.Equal(t, "RT-7f3a", req.RefundToken)
		return maintainReply("R", TWD(500), "")
	})
	r, err := bank.client().Refund(t.Context(), "C202611260001", TWD(500))
	require.NoError(t, err)
	assert.Equal(t, TWD(500), r.Amount)
	assert.Empty(t, r.RefundToken, "the reply is the confirming step's")
	reqs := bank.requests()
	require.Len(t, reqs, 2, "one SDK call, both steps")
	golden(t, "ordermaintain_refund_va_step1.json", reqs[0].Plain)
	golden(t, "ordermaintain_refund_va_step2.json", reqs[1].Plain)
}

func TestRefundVirtualAccountSecondStepFails(t *testing.T) {
	t.Parallel()
	n := 0
	bank := newSurfaceBank(t, func(string, []byte) bankReply {
		if n++; n == 1 {
			return maintainReply("R", TWD(500), "RT-7f3a")
		}
		return fail("E2799", "RefundToken 逾時")
	})
	_, err := bank.client().Refund(t.Context(), "C202611260001", TWD(500))
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, Code("E2799"), ae.Code)
	assert.Len(t, bank.requests(), 2, "a Status F is an answer: no query, no third call")
}

func TestMaintainOrderValidation(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 12, 1, 0, 0, 0, 0, Taipei)
	cases := []struct {
		name, field string
		req         OrderMaintainRequest
	}{
		{"no OrderNo", "OrderNo", OrderMaintainRequest{Command: CommandCapture}},
		{"long OrderNo", "OrderNo", OrderMaintainRequest{OrderNo: strings.Repeat("A", 51), Command: CommandCapture}},
		{"no Command", "Command", OrderMaintainRequest{OrderNo: "A1"}},
		{"bad Command", "Command", OrderMaintainRequest{OrderNo: "A1", Command: "X"}},
		{"amount on capture", "Amount", OrderMaintainRequest{OrderNo: "A1", Command: CommandCapture, Amount: TWD(1)}},
		{"negative refund", "Amount", OrderMaintainRequest{OrderNo: "A1", Command: CommandRefund, Amount: -100}},
		{"refund cents", "Amount", OrderMaintainRequest{OrderNo: "A1", Command: CommandRefund, Amount: 150}},
		{"Remark 41 bytes", "Remark", OrderMaintainRequest{OrderNo: "A1", Command: CommandCancel, Remark: strings.Repeat("r", 41)}},
		{"Remark percent", "Remark", OrderMaintainRequest{OrderNo: "A1", Command: CommandCancel, Remark: "5%"}},
		{"M without time", "ExpireDateTime", OrderMaintainRequest{OrderNo: "A1", Command: CommandChangeExpiry}},
		{"time without M", "ExpireDateTime", OrderMaintainRequest{OrderNo: "A1", Command: CommandCancel, ExpireDateTime: exp}},
	}
	bank := newSurfaceBank(t, nil)
	c := bank.client()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.MaintainOrder(t.Context(), tc.req)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, ve.Error())
		})
	}
	assert.Zero(t, bank.calls())
}

func TestMaintainOrderStatusF(t *testing.T) {
	t.Parallel()
	bank := newSurfaceBank(t, func(string, []byte) bankReply { return fail(CodeNotFound, "資料不存在") })
	_, err := bank.client().Capture(t.Context(), "C1")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, CodeNotFound, ae.Code)
	assert.Equal(t, "OrderMaintain", ae.Service)
	assert.Len(t, bank.requests(), 1)
}

// refundedOrder is an OrderQuery reply with the given RefundList.
func refundedOrder(refunds ...map[string]any) bankReply {
	o := map[string]any{"OrderNo": "C202611260001", "TSNo": "NA024900000211", "Amount": TWD(799),
		"PayType": "C", "PayStatus": "1C400", "RefundFlag": "N"}
	if len(refunds) > 0 {
		o["RefundFlag"] = "Y"
		o["RefundList"] = refunds
	}
	return ok(map[string]any{"OrderList": []map[string]any{o}})
}

func TestRefundUnknownOutcome(t *testing.T) {
	t.Parallel()
	now := time.Now().In(Taipei).Format("200601021504")
	old := time.Now().Add(-48 * time.Hour).In(Taipei).Format("200601021504")
	cases := []struct {
		name  string
		query bankReply
		check func(t *testing.T, r *ResponseOrderMaintain, err error)
	}{
		{"refund found", refundedOrder(map[string]any{"RefundNo": "R1", "RefundDate": now, "RefundAmount": TWD(200), "RefundStatus": "2C200"}),
			func(t *testing.T, r *ResponseOrderMaintain, err error) {
				require.NoError(t, err)
				assert.True(t, r.Resolved)
				assert.Equal(t, TWD(200), r.Amount)
				assert.Equal(t, CommandRefund, r.Command)
				require.NotNil(t, r.Order)
				assert.True(t, r.Order.Refunded())
			}},
		{"only an older refund", refundedOrder(map[string]any{"RefundNo": "R0", "RefundDate": old, "RefundAmount": TWD(200), "RefundStatus": "2C900"}),
			func(t *testing.T, r *ResponseOrderMaintain, err error) {
				assert.Nil(t, r)
				assert.ErrorIs(t, err, ErrNotProcessed)
			}},
		{"a new refund of another amount", refundedOrder(map[string]any{"RefundNo": "R1", "RefundDate": now, "RefundAmount": TWD(300), "RefundStatus": "2C200"}),
			func(t *testing.T, r *ResponseOrderMaintain, err error) {
				assert.ErrorIs(t, err, ErrNotProcessed)
			}},
		{"no refund", refundedOrder(), func(t *testing.T, r *ResponseOrderMaintain, err error) {
			assert.ErrorIs(t, err, ErrNotProcessed)
		}},
		{"query fails", bankReply{status: 503, body: "down"}, func(t *testing.T, r *ResponseOrderMaintain, err error) {
			var oue *OutcomeUnknownError
			require.ErrorAs(t, err, &oue)
			var ge *GatewayError
			require.ErrorAs(t, oue.QueryErr, &ge)
			assert.NotErrorIs(t, err, ErrNotProcessed)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank := newSurfaceBank(t, func(service string, _ []byte) bankReply {
				if service == "OrderMaintain" {
					return bankReply{err: errConnReset}
				}
				return tc.query
			})
			r, err := bank.client().Refund(t.Context(), "C202611260001", TWD(200))
			tc.check(t, r, err)
			n := 0
			for _, q := range bank.requests() {
				if q.Service == "OrderMaintain" {
					n++
				}
			}
			assert.Equal(t, 1, n, "a refund is never resent")
		})
	}
}

func TestMaintainOtherCommandsNotSettled(t *testing.T) {
	t.Parallel()
	bank := newSurfaceBank(t, func(string, []byte) bankReply { return bankReply{err: errConnReset} })
	_, err := bank.client().Capture(t.Context(), "C202611260001")
	var ne *NetworkError
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.MaybeSent)
	var oue *OutcomeUnknownError
	assert.False(t, errors.As(err, &oue))
	require.Len(t, bank.requests(), 1, "no query, no resend")
}

func TestMaintainOrderReplyForAnotherOrder(t *testing.T) {
	t.Parallel()
	bank := newSurfaceBank(t, func(string, []byte) bankReply { return maintainReply("P", 0, "") })
	_, err := bank.client().Capture(t.Context(), "C999")
	var oue *OutcomeUnknownError
	require.ErrorAs(t, err, &oue, "a verified reply about another order says nothing about this one")
	assert.ErrorIs(t, err, ErrMalformedMessage)
}
