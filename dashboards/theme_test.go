package dashboards

import (
	"math"
	"strconv"
	"testing"
)

// luminance is the relative luminance of an sRGB colour "#rrggbb" (WCAG 2).
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	if len(hex) != 7 || hex[0] != '#' {
		t.Fatalf("colour %q is not #rrggbb", hex)
	}
	var l [3]float64
	for i := range l {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		c := float64(v) / 255
		if c <= 0.03928 {
			l[i] = c / 12.92
		} else {
			l[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

func contrast(t *testing.T, a, b string) float64 {
	x, y := luminance(t, a), luminance(t, b)
	return (math.Max(x, y) + 0.05) / (math.Min(x, y) + 0.05)
}

// TestThemeContrast holds every chart colour to WCAG AA against the panel
// the charts are drawn on (static/assets/app.css --panel): text 4.5:1,
// the bars, lines and dots that carry a figure 3:1. The heat scale is a
// gradient whose values are also in its tooltip and the table beside it.
func TestThemeContrast(t *testing.T) {
	for _, tc := range []struct {
		dark  bool
		panel string
	}{{false, "#ffffff"}, {true, "#16181d"}} {
		th := themeFor(tc.dark)
		text := map[string]string{"text": th.text, "subtext": th.subtext, "idleText": th.idleText,
			"targetText": th.targetText, "lateText": th.lateText}
		fills := map[string]string{"done": th.done, "plan": th.plan, "forecastOK": th.forecastOK,
			"forecastLate": th.forecastLate, "target": th.target, "perHour": th.perHour, "offline": th.offline,
			"today": th.today, "yesterday": th.yesterday, "queue": th.queue, "staff": th.staff, "idle": th.idle,
			"wait": th.wait, "list": th.list, "ahead": th.ahead, "behind": th.behind, "retries": th.retries,
			"late": th.late, "axis": th.axis}
		for i, c := range th.palette {
			fills["palette["+strconv.Itoa(i)+"]"] = c
		}
		for name, c := range text {
			if r := contrast(t, c, tc.panel); r < 4.5 {
				t.Errorf("dark=%v: text colour %s %s is %.2f:1 on %s, under 4.5:1", tc.dark, name, c, r, tc.panel)
			}
		}
		for name, c := range fills {
			if r := contrast(t, c, tc.panel); r < 3 {
				t.Errorf("dark=%v: colour %s %s is %.2f:1 on %s, under 3:1", tc.dark, name, c, r, tc.panel)
			}
		}
	}
}
