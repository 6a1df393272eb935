package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/funbiz-go/sinopac"
)

func TestParseWhen(t *testing.T) {
	t.Parallel()
	at := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, sinopac.Taipei)
	}
	cases := []struct {
		in   string
		end  bool
		want time.Time
		ok   bool
	}{
		{"2026-10-01", false, at(2026, 10, 1, 0, 0), true},
		{"2026-10-31", true, at(2026, 10, 31, 23, 59), true}, // a whole day includes 23:59
		{"2026-10-01T14:30", false, at(2026, 10, 1, 14, 30), true},
		{"2026-10-01T14:30", true, at(2026, 10, 1, 14, 30), true}, // a minute stays a minute
		{"2026-10-01 14:30", false, at(2026, 10, 1, 14, 30), true},
		{"202610011430", false, at(2026, 10, 1, 14, 30), true},
		{"20261001", true, at(2026, 10, 1, 23, 59), true},
		{" 2026-10-01 ", false, at(2026, 10, 1, 0, 0), true},
		{"2026-02-30", false, time.Time{}, false},
		{"2026/10/01", false, time.Time{}, false},
		{"2026-10-01T25:00", false, time.Time{}, false},
		{"yesterday", false, time.Time{}, false},
	}
	for _, tc := range cases {
		got, err := parseWhen("--x", tc.in, tc.end)
		if (err == nil) != tc.ok || tc.ok && !got.Equal(tc.want) {
			t.Errorf("parseWhen(%q, end=%v) = %v, %v; want %v ok=%v", tc.in, tc.end, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.Location() != sinopac.Taipei {
			t.Errorf("parseWhen(%q) not in Taipei: %v", tc.in, got.Location())
		}
	}
}

func TestParseAmount(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want sinopac.Amount
		ok   bool
	}{
		{"799", 79900, true}, {"799.00", 79900, true}, {"1,200", 120000, true}, {"1,200.00", 120000, true},
		{"12,345,678", 1234567800, true}, {"999,999", 99999900, true}, {"1200", 120000, true}, {" 799 ", 79900, true},
		{"NT$799", 79900, true}, {"NT$1200.00", 120000, true}, {"NT$1,200.00", 120000, true}, {"$5", 500, true},
		// Commas only between groups of three digits (issue #9: 12,00 made NT$1,200).
		{"12,00", 0, false}, {",799,", 0, false}, {"1,2,00", 0, false}, {"1,20", 0, false}, {"1,2000", 0, false},
		{",200", 0, false}, {"1,200,", 0, false}, {"1,,200", 0, false}, {"0,200", 0, false}, {"1234,567", 0, false},
		{"1.200", 0, false}, {"1,200.5", 0, false},
		// Whole NT$: .00 only.
		{"799.0", 0, false}, {"799.000", 0, false}, {"799.5", 0, false}, {"799.50", 0, false}, {"799.", 0, false},
		{"799.001", 0, false}, {".00", 0, false},
		{"0", 0, false}, {"0.00", 0, false}, {"-5", 0, false}, {"", 0, false}, {"7e2", 0, false}, {"1234567890123", 0, false},
		{"７９９", 0, false}, // full-width digits are refused, not misread
	}
	for _, tc := range cases {
		got, err := parseAmount("--amount", tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseAmount(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		var ue *usageError
		if err != nil && !errors.As(err, &ue) {
			t.Errorf("parseAmount(%q): %T, want a usage error", tc.in, err)
		}
	}
	for in, want := range map[string]string{"799.50": "no cents", "12,00": "commas between groups of three digits", "799.0": "optionally with .00"} {
		if _, err := parseAmount("--amount", in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseAmount(%q): %v, want it to say %q", in, err, want)
		}
	}
}

func TestTWDAndPlural(t *testing.T) {
	t.Parallel()
	for in, want := range map[sinopac.Amount]string{0: "0.00", 79900: "799.00", 5: "0.05", -12345: "-123.45"} {
		if got := twd(in); got != want {
			t.Errorf("twd(%d) = %q, want %q", in, got, want)
		}
	}
	for _, c := range [][3]string{{"1", "order", "1 order"}, {"3", "order", "3 orders"}, {"2", "bank query", "2 bank queries"}} {
		n := int(c[0][0] - '0')
		if got := plural(n, c[1]); got != c[2] {
			t.Errorf("plural(%d, %q) = %q", n, c[1], got)
		}
	}
}
