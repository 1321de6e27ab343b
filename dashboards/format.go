package dashboards

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"tiendo"
)

// Lang values Build understands; anything else falls back to Vietnamese, the
// language of the people the product is for.
const (
	LangVI = "vi"
	LangEN = "en"
)

// normLang maps a requested language to LangVI or LangEN.
func normLang(lang string) string {
	l := strings.ToLower(strings.TrimSpace(lang))
	if l == LangEN || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_") {
		return LangEN
	}
	return LangVI
}

// separators returns the thousands and decimal marks of lang. Vietnamese
// writes 621.000 and 12,5: printing 621,000 to a Vietnamese reader would say
// "621 point 000".
func separators(lang string) (thousands, decimal string) {
	if normLang(lang) == LangEN {
		return ",", "."
	}
	return ".", ","
}

// FormatInt writes n with the thousands separator of lang: 621000 is
// "621.000" in Vietnamese and "621,000" in English.
func FormatInt(n int64, lang string) string {
	th, _ := separators(lang)
	return groupDigits(strconv.FormatInt(n, 10), th)
}

// groupDigits puts sep between groups of three digits of an integer string
// that may start with '-'.
func groupDigits(s, sep string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// FormatDecimal writes x rounded to prec decimals with lang's separators:
// 1234.5 is "1.234,5" in Vietnamese and "1,234.5" in English.
func FormatDecimal(x float64, prec int, lang string) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	th, dec := separators(lang)
	s := strconv.FormatFloat(x, 'f', prec, 64)
	if s == "-0" || strings.HasPrefix(s, "-0.") && strings.Trim(s[3:], "0") == "" {
		s = s[1:] // no "-0,0" for a value that rounds to zero
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	out := groupDigits(intPart, th)
	if hasFrac {
		out += dec + frac
	}
	return out
}

// FormatPercent writes a percentage given in points (12.86 means 12.86 %)
// with one decimal: "12,9%" in Vietnamese, "12.9%" in English.
func FormatPercent(p float64, lang string) string {
	return FormatDecimal(p, 1, lang) + "%"
}

// MonthsEN are the English month names every English date uses, in Go and
// on the pages: the server hands them to the browser (<body data-months>),
// so the page has no list of its own. English dates read "11 Mar 2021",
// never en-US's 03/11/2021, which most readers outside the US take for
// 3 November.
var MonthsEN = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// FormatDay writes a working day the way the reader says it: "20/3" in
// Vietnamese, "20 Mar" in English. The year is left out: a campaign runs
// for months, not years.
func FormatDay(d tiendo.Day, lang string) string {
	_, m, dd := d.Date()
	if normLang(lang) == LangEN {
		return fmt.Sprintf("%d %s", dd, MonthsEN[m-time.January])
	}
	return fmt.Sprintf("%d/%d", dd, int(m))
}

// DatePattern is how a date is written in lang, the one rule FormatDate
// follows and the server hands to the page (<body data-date>): "dd/mm/yyyy"
// in Vietnamese, "d MMM yyyy" in English, where d is the day, dd the day in
// two digits, mm the month in two digits, MMM its name (MonthsEN) and yyyy
// the year.
func DatePattern(lang string) string {
	if normLang(lang) == LangEN {
		return "d MMM yyyy"
	}
	return "dd/mm/yyyy"
}

// dateTokens are the tokens of a DatePattern, longest first.
var dateTokens = []string{"yyyy", "MMM", "dd", "mm", "d"}

// FormatDate writes a day with its year by DatePattern: "11/03/2021" in
// Vietnamese, "11 Mar 2021" in English.
func FormatDate(d tiendo.Day, lang string) string {
	y, m, dd := d.Date()
	pat := DatePattern(lang)
	var b strings.Builder
	for i := 0; i < len(pat); {
		tok := ""
		for _, t := range dateTokens {
			if strings.HasPrefix(pat[i:], t) {
				tok = t
				break
			}
		}
		switch tok {
		case "yyyy":
			fmt.Fprintf(&b, "%04d", y)
		case "MMM":
			b.WriteString(MonthsEN[m-time.January])
		case "dd":
			fmt.Fprintf(&b, "%02d", dd)
		case "mm":
			fmt.Fprintf(&b, "%02d", int(m))
		case "d":
			fmt.Fprintf(&b, "%d", dd)
		default:
			b.WriteByte(pat[i])
			i++
			continue
		}
		i += len(tok)
	}
	return b.String()
}

// hourLabel names a clock hour as "07:00"; both languages use the 24-hour clock.
func hourLabel(clock int) string { return fmt.Sprintf("%02d:00", clock) }

// hourSpan names the hour starting at clock, "01:00–02:00".
func hourSpan(clock int) string { return hourLabel(clock) + "–" + hourLabel((clock+1)%24) }
