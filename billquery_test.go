package sinopac

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBillQueryValidate(t *testing.T) {
	t.Parallel()
	// 00:30 on 26 Nov in Taipei is still 25 Nov in UTC.
	now := time.Date(2026, 11, 25, 16, 30, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, Taipei) }
	cases := []struct {
		name string
		date time.Time
		ok   bool
	}{
		{"yesterday (Taipei)", day(2026, 11, 25), true},
		{"30 days ago", day(2026, 10, 27), true},
		{"31 days ago", day(2026, 10, 26), false},
		{"today (Taipei)", day(2026, 11, 26), false},
		{"tomorrow", day(2026, 11, 27), false},
		{"late yesterday in UTC is today in Taipei", time.Date(2026, 11, 25, 16, 5, 0, 0, time.UTC), false},
		{"zero", time.Time{}, false},
	}
	for _, tc := range cases {
		err := BillQuery{BillDate: tc.date, Now: now}.Validate()
		if tc.ok {
			assert.NoError(t, err, tc.name)
			continue
		}
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, tc.name)
		assert.Equal(t, "BillDate", ve.Field)
	}
}

func TestQueryBill(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	bank.replyOrder(func(req recorded) *reply {
		assert.Equal(t, "BillQuery", req.Env.APIService)
		return fixture(t, "billquery.json")
	})
	c := bank.client(WithRetryPolicy(fastRetry))
	r, err := c.QueryBill(t.Context(), BillQuery{BillDate: time.Date(2026, 11, 19, 17, 0, 0, 0, time.UTC),
		Now: time.Date(2026, 11, 26, 9, 0, 0, 0, Taipei)})
	require.NoError(t, err)
	golden(t, "billquery.json", bank.orders()[0].Plain) // 17:00 UTC on the 19th is the 20th in Taipei
	assert.Equal(t, "20261120", r.BillDate.String())
	require.Len(t, r.OrderList, 2)
	assert.Equal(t, "R", r.OrderList[1].TSType)
	assert.Equal(t, TWD(200), r.OrderList[1].Amount)
	assert.Equal(t, "p1", r.OrderList[0].Param1)

	_, err = c.QueryBill(t.Context(), BillQuery{BillDate: time.Now()})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve, "today is not closed: checked against the real clock")
	assert.Len(t, bank.orders(), 1, "no request for an invalid date")
}

func TestQueryBillStatusF(t *testing.T) {
	t.Parallel()
	bank := newMockBank(t)
	bank.replyOrder(func(recorded) *reply { return fail(CodeBadFormat, "請求格式錯誤") })
	r, err := bank.client(WithRetryPolicy(fastRetry)).QueryBill(t.Context(), BillQuery{BillDate: time.Now().AddDate(0, 0, -3)})
	assert.Nil(t, r)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, CodeBadFormat, ae.Code)
	assert.Equal(t, "BillQuery", ae.Service)
}
