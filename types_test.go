package sinopac

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAmountDecoding(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Amount{
		`79900`: 79900, `"79900"`: 79900, `"9440300"`: 9440300, `0`: 0, `""`: 0, `null`: 0, `-500`: -500, `"-500"`: -500,
	} {
		var a Amount
		require.NoError(t, json.Unmarshal([]byte(in), &a), in)
		assert.Equal(t, want, a, in)
	}
	for _, in := range []string{`12.5`, `"12.50"`, `"1e3"`, `"abc"`, `true`, `"-"`, `"9999999999999999999"`, `{}`, `[]`} {
		var a Amount
		assert.Error(t, json.Unmarshal([]byte(in), &a), in)
	}
}

func TestAmountString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "NT$799.00", Amount(79900).String())
	assert.Equal(t, "NT$0.05", Amount(5).String())
	assert.Equal(t, "-NT$12.34", Amount(-1234).String())
	assert.Equal(t, Amount(79900), TWD(799))
	js, err := json.Marshal(struct{ A Amount }{TWD(500)})
	require.NoError(t, err)
	assert.Equal(t, `{"A":50000}`, string(js))
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in       string
		want     time.Time
		wire     string
		dateOnly bool
	}{
		{`"202110012245"`, time.Date(2021, 10, 1, 22, 45, 0, 0, Taipei), "202110012245", false},
		{`"20211001"`, time.Date(2021, 10, 1, 0, 0, 0, 0, Taipei), "20211001", true},
		{`"20211001224559"`, time.Date(2021, 10, 1, 22, 45, 59, 0, Taipei), "20211001224559", false},
		{`""`, time.Time{}, "", false},
		{`null`, time.Time{}, "", false},
	}
	for _, tc := range cases {
		var ts Timestamp
		require.NoError(t, json.Unmarshal([]byte(tc.in), &ts), tc.in)
		assert.True(t, tc.want.Equal(ts.Time()), tc.in)
		assert.Equal(t, tc.wire, ts.String())
		assert.Equal(t, tc.dateOnly, ts.DateOnly())
		assert.Equal(t, tc.want.IsZero(), ts.IsZero())
		js, err := json.Marshal(ts)
		require.NoError(t, err)
		assert.Equal(t, `"`+tc.wire+`"`, string(js))
	}
	for _, in := range []string{`"2021-10-01"`, `"20211301"`, `"20210231"`, `"202110012460"`, `"2021100122"`, `"abcdefgh"`, `12`, `"20211001 2245"`} {
		var ts Timestamp
		assert.Error(t, json.Unmarshal([]byte(in), &ts), in)
		assert.True(t, ts.IsZero(), "a failed decode leaves no half value: %s", in)
	}
	utc := time.Date(2026, 10, 31, 16, 30, 45, 0, time.UTC)
	assert.Equal(t, "202611010030", At(utc).String(), "At converts to Taipei and truncates to the minute")
	assert.Equal(t, "20261101", Date(utc).String())
	assert.True(t, At(time.Time{}).IsZero())
	p, err := ParseTimestamp("202610010000")
	require.NoError(t, err)
	assert.True(t, p.Equal(At(time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC))))
}

func TestPayStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s                                          PayStatus
		paid, expired, pending, authorized, cancel bool
		flag                                       PayFlag
		label                                      string
	}{
		{"1A200", false, false, true, false, false, PayFlagUnpaid, "待付款 (awaiting payment)"},
		{"1A250", false, true, false, false, false, PayFlagExpired, "帳號逾期 (account expired)"},
		{"1A400", true, false, false, false, false, PayFlagPaid, "付款完成 (paid)"},
		{"1A900", true, false, false, false, false, PayFlagPaid, "已撥款 (paid out to shop)"},
		{"1C300", false, false, false, true, false, PayFlagUnpaid, "已授權未請款 (authorised, not captured)"},
		{"1C351", false, false, false, false, true, PayFlagUnpaid, "取消授權 (authorisation cancelled)"},
		{"1C400", true, false, false, false, false, PayFlagPaid, "請款完成 (captured)"},
		{"1M250", false, true, false, false, false, PayFlagExpired, "訂單逾期 (order expired)"},
		{"1P777", false, false, false, false, false, PayFlagUnpaid, "1P777"},
		{"", false, false, false, false, false, PayFlagUnpaid, ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.paid, tc.s.Paid(), tc.s)
		assert.Equal(t, tc.expired, tc.s.Expired(), tc.s)
		assert.Equal(t, tc.pending, tc.s.Pending(), tc.s)
		assert.Equal(t, tc.authorized, tc.s.Authorized(), tc.s)
		assert.Equal(t, tc.cancel, tc.s.Cancelled(), tc.s)
		assert.Equal(t, tc.flag, tc.s.Flag(), tc.s)
		assert.Equal(t, tc.label, tc.s.Label(), tc.s)
	}
	assert.True(t, RefundStatus("2A900").Done())
	assert.True(t, RefundStatus("2C290").Failed())
	assert.Equal(t, "退款處理中 (refund in progress)", RefundStatus("2M400").Label())
	assert.Equal(t, "2X123", RefundStatus("2X123").Label())
}
