package dashboards

import (
	"strings"
	"testing"

	"tiendo"
)

// TestSharedTooltipsOnce: the charts whose series show one station or one
// district several times (queue: wait, queue, officers; districts: share
// and retries) carry each tooltip once, in the chart's tips, and every bar
// that can be pointed at names it; a zero-width bar carries none. Before,
// each series repeated the text, and a live patch sent it once a series.
func TestSharedTooltipsOnce(t *testing.T) {
	fx := newFixture(t)
	for _, scope := range []tiendo.Scope{tiendo.ProvinceScope, {Kind: tiendo.ScopeDistrict, ID: "LS-DL"}} {
		in := fx.input(scope, "vi", false)
		for _, name := range []string{ChartQueue, ChartDistricts} {
			raw, ok := mustBuild(t, in)[name]
			if !ok {
				continue // a district's page has no districts chart
			}
			o := decode(t, raw)
			tips, _ := o["tips"].(map[string]any)
			if len(tips) == 0 {
				t.Fatalf("%s %s: no tips", scope, name)
			}
			used := map[string]bool{}
			rows := 0
			for i := range o["series"].([]any) {
				data := o.series(t, i)["data"].([]any)
				rows = max(rows, len(data))
				for _, x := range data {
					it := x.(map[string]any)
					if _, own := it["tooltip"]; own {
						t.Errorf("%s %s series %d: item %v has its own tooltip beside the tips", scope, name, i, it["id"])
					}
					v, _ := it["value"].(float64)
					key, _ := it["tip"].(string)
					switch {
					case v == 0 && key != "":
						t.Errorf("%s %s series %d: a zero-width bar names tip %q", scope, name, i, key)
					case v != 0 && key == "":
						t.Errorf("%s %s series %d: bar %v (value %v) has no tooltip", scope, name, i, it["id"], v)
					case key != "":
						used[key] = true
						if text := o.tooltipOf(t, it); text == "" || !strings.Contains(text, "<br/>") {
							t.Errorf("%s %s: tip %q is %q", scope, name, key, text)
						}
					}
				}
			}
			if len(tips) > rows {
				t.Errorf("%s %s: %d tips for %d rows: a tooltip is kept once a row", scope, name, len(tips), rows)
			}
			for key := range tips {
				if !used[key] {
					t.Errorf("%s %s: tip %q is named by no bar", scope, name, key)
				}
			}
		}
	}
}
