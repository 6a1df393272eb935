package sinopac

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func maintainReply(cmd string, amount Amount, token string) *reply {
	m := map[string]any{"OrderNo": "C202611260001", "ShopNo": testShop, "TSNo": "NA024900000211",
		"Command": cmd, "Amount": amount, "Date": "202611261030"}
	if token != "" {
		m["RefundToken"] = token
	}
	return ok(m)
}

// maintainRequests are the OrderMaintain requests the bank received (a
// refund's baseline OrderQuery left out).
func maintainRequests(bank *mockBank) []recorded {
	var out []recorded
	for _, q := range bank.orders() {
		if q.Env.APIService == "OrderMaintain" {
			out = append(out, q)
		}
	}
	return out
}

// noOrder is the S0001 OrderQuery reply.
var noOrder = ok(map[string]any{"Description": "S0001 – 處理成功，查無資料"})

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
			bank := newMockBank(t).replyOrder(func(rec recorded) *reply {
				if rec.Env.APIService == "OrderQuery" {
					return refundedOrder()
				}
				var req struct{ Command string }
				require.NoError(t, json.Unmarshal(rec.Plain, &req))
				return maintainReply(req.Command, TWD(200), "")
			})
			r, err := tc.call(bank.client(WithRetryPolicy(fastRetry)))
			require.NoError(t, err)
			assert.Equal(t, "NA024900000211", r.TSNo)
			assert.Equal(t, "202611261030", r.Date.String())
			reqs := maintainRequests(bank)
			require.Len(t, reqs, 1)
			golden(t, tc.golden, reqs[0].Plain)
		})
	}
}

func TestRefundVirtualAccountTwoSteps(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t).replyOrder(func(rec recorded) *reply {
		if rec.Env.APIService == "OrderQuery" {
			return refundedOrder()
		}
		var req struct{ RefundToken string }
		require.NoError(t, json.Unmarshal(rec.Plain, &req))
		if req.RefundToken == "" {
			return maintainReply("R", TWD(500), "RT-7f3a")
		}
		assert.Equal(t, "RT-7f3a", req.RefundToken)
		return maintainReply("R", TWD(500), "")
	})
	r, err := bank.client(WithRetryPolicy(fastRetry)).Refund(t.Context(), "C202611260001", TWD(500))
	require.NoError(t, err)
	assert.Equal(t, TWD(500), r.Amount)
	assert.Empty(t, r.RefundToken, "the reply is the confirming step's")
	reqs := maintainRequests(bank)
	require.Len(t, reqs, 2, "one SDK call, both steps")
	golden(t, "ordermaintain_refund_va_step1.json", reqs[0].Plain)
	golden(t, "ordermaintain_refund_va_step2.json", reqs[1].Plain)
}

func TestRefundVirtualAccountSecondStepFails(t *testing.T) {
	t.Parallel()
	n := 0
	bank := newMockBank(t).replyOrder(func(req recorded) *reply {
		if req.Env.APIService == "OrderQuery" {
			return refundedOrder()
		}
		if n++; n == 1 {
			return maintainReply("R", TWD(500), "RT-7f3a")
		}
		return fail("E2799", "RefundToken 逾時")
	})
	_, err := bank.client(WithRetryPolicy(fastRetry)).Refund(t.Context(), "C202611260001", TWD(500))
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, Code("E2799"), ae.Code)
	assert.Len(t, bank.orders(), 3, "the baseline, then both steps; a Status F is an answer: no settling query, no third step")
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
	bank := newMockBank(t)
	c := bank.client(WithRetryPolicy(fastRetry))
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
	bank := newMockBank(t).replyOrder(func(recorded) *reply { return fail(CodeNotFound, "資料不存在") })
	_, err := bank.client(WithRetryPolicy(fastRetry)).Capture(t.Context(), "C1")
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, CodeNotFound, ae.Code)
	assert.Equal(t, "OrderMaintain", ae.Service)
	assert.Len(t, bank.orders(), 1)
}

// refundedOrder is an OrderQuery reply for the card order C202611260001
// (NT$799) with the given RefundList.
func refundedOrder(refunds ...map[string]any) *reply {
	return orderWith("C", refunds...)
}

func orderWith(payType string, refunds ...map[string]any) *reply {
	o := map[string]any{"OrderNo": "C202611260001", "TSNo": "NA024900000211", "Amount": TWD(799),
		"PayType": payType, "PayStatus": "1" + payType + "400", "RefundFlag": "N"}
	if len(refunds) > 0 {
		o["RefundFlag"] = "Y"
		o["RefundList"] = refunds
	}
	return ok(map[string]any{"OrderList": []map[string]any{o}})
}

func refundEntry(no string, amount Amount, status string) map[string]any {
	return map[string]any{"RefundNo": no, "RefundDate": "202611261030", "RefundAmount": amount, "RefundStatus": status}
}

// A refund whose reply was lost is settled by difference: the order's
// refunds before it was sent (the baseline) against those after.
func TestRefundSettledByDifference(t *testing.T) {
	t.Parallel()
	r200 := refundEntry("R1", TWD(200), "2C200")
	cases := []struct {
		name          string
		amount        Amount
		before, after *reply
		resolved      Amount // 0: unknown
	}{
		{"a new refund of the amount", TWD(200), refundedOrder(), refundedOrder(r200), TWD(200)},
		{"only the earlier equal refund", TWD(200), refundedOrder(r200), refundedOrder(r200), 0},
		{"the earlier one moved on, nothing new", TWD(200), refundedOrder(r200), refundedOrder(refundEntry("R1", TWD(200), "2C900")), 0},
		{"a second equal refund", TWD(200), refundedOrder(r200), refundedOrder(r200, refundEntry("R2", TWD(200), "2C200")), TWD(200)},
		{"a new refund of another amount", TWD(200), refundedOrder(), refundedOrder(refundEntry("R1", TWD(300), "2C200")), 0},
		{"a new failed refund", TWD(200), refundedOrder(), refundedOrder(refundEntry("R1", TWD(200), "2C290")), 0},
		{"nothing", TWD(200), refundedOrder(), refundedOrder(), 0},
		{"full refund: the whole order", 0, refundedOrder(), refundedOrder(refundEntry("R1", TWD(799), "2C200")), TWD(799)},
		{"full refund: the balance after an earlier one", 0, refundedOrder(r200),
			refundedOrder(r200, refundEntry("R2", TWD(599), "2C200")), TWD(599)},
		{"full refund: only the earlier partial one", 0, refundedOrder(r200), refundedOrder(r200), 0},
		{"full refund: a failed earlier one does not count", 0, refundedOrder(refundEntry("R1", TWD(200), "2C290")),
			refundedOrder(refundEntry("R1", TWD(200), "2C290"), refundEntry("R2", TWD(799), "2C200")), TWD(799)},
		{"no RefundNo: by date and amount", TWD(200), refundedOrder(map[string]any{"RefundDate": "202611251000", "RefundAmount": TWD(200)}),
			refundedOrder(map[string]any{"RefundDate": "202611251000", "RefundAmount": TWD(200)},
				map[string]any{"RefundDate": "202611261030", "RefundAmount": TWD(200)}), TWD(200)},
		{"no RefundList: RefundAmount grew by it", TWD(200), refundedOrder(),
			ok(map[string]any{"OrderList": []map[string]any{{"OrderNo": "C202611260001", "Amount": TWD(799), "PayType": "C",
				"RefundFlag": "Y", "RefundAmount": TWD(200), "RefundDate": "202611261030"}}}), TWD(200)},
		{"no RefundList: RefundAmount unchanged", TWD(200),
			ok(map[string]any{"OrderList": []map[string]any{{"OrderNo": "C202611260001", "Amount": TWD(799), "PayType": "C", "RefundFlag": "Y", "RefundAmount": TWD(200)}}}),
			ok(map[string]any{"OrderList": []map[string]any{{"OrderNo": "C202611260001", "Amount": TWD(799), "PayType": "C", "RefundFlag": "Y", "RefundAmount": TWD(200)}}}), 0},
		{"order gone from the query", TWD(200), refundedOrder(), noOrder, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			queries := 0
			bank := newMockBank(t).replyOrder(func(req recorded) *reply {
				if req.Env.APIService == "OrderMaintain" {
					return transportError(errConnReset)
				}
				if queries++; queries == 1 {
					return tc.before
				}
				return tc.after
			})
			c := bank.client(WithRetryPolicy(fastRetry))
			r, err := c.Refund(t.Context(), "C202611260001", tc.amount)
			if tc.resolved != 0 {
				require.NoError(t, err)
				assert.True(t, r.Resolved)
				assert.Equal(t, tc.resolved, r.Amount)
				assert.Equal(t, CommandRefund, r.Command)
				require.NotNil(t, r.Order)
			} else {
				assert.Nil(t, r)
				var oue *OutcomeUnknownError
				require.ErrorAs(t, err, &oue)
				assert.NotErrorIs(t, err, ErrNotProcessed, "nothing new is no proof: the query may lag")
				assert.ErrorIs(t, err, ErrNoTrace)
				assert.False(t, oue.SafeToResend())
				assert.Contains(t, err.Error(), "do not refund again")
				assert.NotContains(t, err.Error(), "safe")
				// Looking again compares with the same baseline.
				_, err2 := c.ResolveRefund(t.Context(), oue)
				require.ErrorAs(t, err2, &oue)
			}
			assert.Len(t, maintainRequests(bank), 1, "a refund is never resent")
		})
	}
}

func TestRefundBaselineAndSteps(t *testing.T) {
	t.Parallel()
	t.Run("baseline query fails: not sent", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyOrder(func(recorded) *reply { return httpStatus(503, "down") })
		_, err := bank.client(WithRetryPolicy(fastRetry)).Refund(t.Context(), "C202611260001", TWD(200))
		assert.ErrorIs(t, err, ErrNotProcessed)
		var ge *GatewayError
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, "OrderQuery", ge.Service)
		assert.Empty(t, maintainRequests(bank))
	})
	t.Run("settling query fails: unknown", func(t *testing.T) {
		t.Parallel()
		queries := 0
		bank := newMockBank(t).replyOrder(func(req recorded) *reply {
			switch {
			case req.Env.APIService == "OrderMaintain":
				return transportError(errConnReset)
			case queries == 0:
				queries++
				return refundedOrder()
			}
			return httpStatus(400, "bad")
		})
		_, err := bank.client(WithRetryPolicy(fastRetry)).Refund(t.Context(), "C202611260001", TWD(200))
		var oue *OutcomeUnknownError
		require.ErrorAs(t, err, &oue)
		var ge *GatewayError
		require.ErrorAs(t, oue.QueryErr, &ge)
	})
	t.Run("order not visible before: unknown for good", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyOrder(func(req recorded) *reply {
			if req.Env.APIService == "OrderMaintain" {
				return transportError(errConnReset)
			}
			return noOrder
		})
		_, err := bank.client(WithRetryPolicy(fastRetry)).Refund(t.Context(), "W1", TWD(200))
		var oue *OutcomeUnknownError
		require.ErrorAs(t, err, &oue)
		assert.ErrorIs(t, err, errNoBaseline)
		assert.True(t, oue.CheckAfter.IsZero(), "waiting cannot help")
		assert.Contains(t, err.Error(), "do not refund again")
		assert.Len(t, bank.orders(), 2, "no settling query: there is nothing to compare with")
	})
	t.Run("virtual account, first step lost: no money moved", func(t *testing.T) {
		t.Parallel()
		bank := newMockBank(t).replyOrder(func(req recorded) *reply {
			if req.Env.APIService == "OrderMaintain" {
				return transportError(errConnReset)
			}
			return orderWith("A")
		})
		_, err := bank.client(WithRetryPolicy(fastRetry)).Refund(t.Context(), "C202611260001", 0)
		assert.ErrorIs(t, err, ErrNotProcessed)
		assert.ErrorContains(t, err, "only issues a RefundToken")
		assert.Len(t, maintainRequests(bank), 1)
	})
	t.Run("virtual account, second step lost: settled", func(t *testing.T) {
		t.Parallel()
		steps, queries := 0, 0
		bank := newMockBank(t).replyOrder(func(req recorded) *reply {
			if req.Env.APIService == "OrderMaintain" {
				if steps++; steps == 1 {
					return maintainReply("R", TWD(799), "RT-1")
				}
				return transportError(errConnReset)
			}
			if queries++; queries == 1 {
				return orderWith("A")
			}
			return orderWith("A", refundEntry("R1", TWD(799), "2A400"))
		})
		r, err := bank.client(WithRetryPolicy(fastRetry)).Refund(t.Context(), "C202611260001", 0)
		require.NoError(t, err)
		assert.True(t, r.Resolved)
		assert.Equal(t, TWD(799), r.Amount)
		assert.Len(t, maintainRequests(bank), 2)
	})
	t.Run("ResolveRefund guards", func(t *testing.T) {
		t.Parallel()
		c := newMockBank(t).client(WithRetryPolicy(fastRetry))
		var ve *ValidationError
		_, err := c.ResolveRefund(t.Context(), nil)
		require.ErrorAs(t, err, &ve)
		_, err = c.ResolveRefund(t.Context(), &OutcomeUnknownError{shopNo: testShop, basis: &createBasis{}})
		require.ErrorAs(t, err, &ve)
		_, err = c.ResolveRefund(t.Context(), &OutcomeUnknownError{shopNo: "OTHER", basis: &refundBasis{}})
		require.ErrorAs(t, err, &ve)
		_, err = c.ResolveCreate(t.Context(), &OutcomeUnknownError{shopNo: testShop, basis: &refundBasis{}})
		require.ErrorAs(t, err, &ve)
	})
}

// Capture, cancel, stop and expiry changes are not settled: an unknown
// outcome stays unknown, typed, and is not resent.
func TestMaintainOtherCommandsNotSettled(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t).replyOrder(func(recorded) *reply { return transportError(errConnReset) })
	_, err := bank.client(WithRetryPolicy(fastRetry)).Capture(t.Context(), "C202611260001")
	var ne *NetworkError
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.MaybeSent)
	var oue *OutcomeUnknownError
	require.ErrorAs(t, err, &oue)
	assert.True(t, oue.SafeToResend(), "repeating a capture does no harm")
	assert.Contains(t, err.Error(), "does no harm")
	assert.NotErrorIs(t, err, ErrNotProcessed)
	require.Len(t, bank.orders(), 1, "no query, no resend")
}

func TestMaintainOrderReplyForAnotherOrder(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t).replyOrder(func(recorded) *reply { return maintainReply("P", 0, "") })
	_, err := bank.client(WithRetryPolicy(fastRetry)).Capture(t.Context(), "C999")
	var oue *OutcomeUnknownError
	require.ErrorAs(t, err, &oue, "a verified reply about another order says nothing about this one")
	assert.ErrorIs(t, err, ErrMalformedMessage)
}
