package dashboards

import (
	"testing"

	"tiendo"
)

func TestFormatInt(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		lang string
		want string
	}{
		{621000, "vi", "621.000"},
		{621000, "en", "621,000"},
		{621000, "", "621.000"},
		{79850, "vi", "79.850"},
		{1234567, "vi", "1.234.567"},
		{999, "vi", "999"},
		{0, "en", "0"},
		{-1500, "vi", "-1.500"},
		{-100, "en", "-100"},
	} {
		if got := FormatInt(tc.n, tc.lang); got != tc.want {
			t.Errorf("FormatInt(%d, %q) = %q, want %q", tc.n, tc.lang, got, tc.want)
		}
	}
}

func TestFormatPercentAndDecimal(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{FormatPercent(12.86, "vi"), "12,9%"},
		{FormatPercent(12.86, "en"), "12.9%"},
		{FormatPercent(100, "vi"), "100,0%"},
		{FormatPercent(-0.01, "vi"), "0,0%"},
		{FormatDecimal(1234.5, 1, "vi"), "1.234,5"},
		{FormatDecimal(1234.5, 2, "en"), "1,234.50"},
		{FormatDecimal(1.25, 2, "vi"), "1,25"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestFormatDay(t *testing.T) {
	d := tiendo.DayOf(2021, 3, 20)
	if got := FormatDay(d, "vi"); got != "20/3" {
		t.Errorf("vi: %q", got)
	}
	if got := FormatDay(d, "en"); got != "20 Mar" {
		t.Errorf("en: %q", got)
	}
	if got := FormatDay(tiendo.DayOf(2021, 7, 1), "en-GB"); got != "1 Jul" {
		t.Errorf("en-GB: %q", got)
	}
}

func TestFormatDate(t *testing.T) {
	for _, tc := range []struct {
		d    tiendo.Day
		lang string
		want string
	}{
		{tiendo.DayOf(2021, 3, 11), "en", "11 Mar 2021"},
		{tiendo.DayOf(2021, 3, 11), "vi", "11/03/2021"},
		{tiendo.DayOf(2021, 7, 1), "en", "1 Jul 2021"},
		{tiendo.DayOf(2021, 7, 1), "", "01/07/2021"},
		{tiendo.DayOf(2021, 12, 31), "en-GB", "31 Dec 2021"},
		{tiendo.DayOf(2022, 1, 9), "vi", "09/01/2022"},
	} {
		if got := FormatDate(tc.d, tc.lang); got != tc.want {
			t.Errorf("FormatDate(%v, %q) = %q, want %q", tc.d, tc.lang, got, tc.want)
		}
	}
	if DatePattern("vi") != "dd/mm/yyyy" || DatePattern("en") != "d MMM yyyy" || DatePattern("") != "dd/mm/yyyy" {
		t.Errorf("patterns %q, %q", DatePattern("vi"), DatePattern("en"))
	}
	if MonthsEN[0] != "Jan" || MonthsEN[11] != "Dec" || len(MonthsEN) != 12 {
		t.Errorf("MonthsEN = %v", MonthsEN)
	}
}

func TestShortLabel(t *testing.T) {
	for in, want := range map[string]string{
		"Công an Xã Vũ Lễ":         "Xã Vũ Lễ",
		"Công an Phường Chi Lăng":  "Phường Chi Lăng",
		"Tổ cấp tại nhà — Bắc Sơn": "Tổ cấp tại nhà — Bắc Sơn",
		"Công an ":                 "Công an ",
		"LS-BS-VULE":               "LS-BS-VULE",
	} {
		if got := shortLabel(in); got != want {
			t.Errorf("shortLabel(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Công an Xã Bắc Sơn 02 (giả lập)": "Xã Bắc Sơn 02",
		"Công an Xã Vũ Lễ":                "Xã Vũ Lễ",
		" (giả lập)":                      " (giả lập)",
		"Công an  (giả lập)":              " (giả lập)",
	} {
		if got := phoneLabel(in); got != want {
			t.Errorf("phoneLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHeadroom(t *testing.T) {
	// 15 % past the longest bar, at a round number.
	for most, want := range map[float64]any{0: nil, 1: 1.2, 3: 4.0, 70: 100.0, 80: 100.0, 90: 120.0, 448: 600.0, 20: 25.0, 200: 250.0} {
		if got := headroom(most); got != want {
			t.Errorf("headroom(%v) = %v, want %v", most, got, want)
		}
	}
}
