package dashboards

import (
	"math"
	"testing"

	"tiendo"
)

// TestDistricts checks the fixture's districts chart against the snapshot:
// one row per district with a Pace, red exactly when its state is behind or
// ended, the bar its percent done, the line the plan share, retries
// weighted by records.
func TestDistricts(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "vi", false)
	out := mustBuild(t, in)
	o := decode(t, out[ChartDistricts])
	names := o.categories(t, "yAxis", 0)
	if len(names) != len(in.Snapshot.Districts) {
		t.Fatalf("%d districts, want %d", len(names), len(in.Snapshot.Districts))
	}
	notBehind, behind := values(t, o.series(t, 0)), values(t, o.series(t, 1))
	retries := values(t, o.series(t, 2))
	byName := map[string]tiendo.DistrictState{}
	for _, d := range in.Snapshot.Districts {
		byName[d.Name] = d
	}
	red, green := 0, 0
	for i, name := range names {
		d := byName[name]
		pct := math.Round(1000*float64(d.Completed)/float64(d.Quota)) / 10
		if d.Pace.State == tiendo.PaceBehind || d.Pace.State == tiendo.PaceEnded {
			red++
			if behind[i] != pct || notBehind[i] != 0 {
				t.Errorf("%s (%s): not behind=%v behind=%v, want a red %v", name, d.Pace.State, notBehind[i], behind[i], pct)
			}
		} else {
			green++
			if notBehind[i] != pct || behind[i] != 0 {
				t.Errorf("%s (%s): not behind=%v behind=%v, want a green %v", name, d.Pace.State, notBehind[i], behind[i], pct)
			}
		}
		var r, n float64
		for _, s := range in.Snapshot.Stations {
			if s.District == d.ID {
				r += s.RetriesPerRec * float64(s.Completed)
				n += float64(s.Completed)
			}
		}
		if want := math.Round(100*r/n) / 100; retries[i] != want {
			t.Errorf("%s retries %v, want %v", name, retries[i], want)
		}
	}
	if red == 0 || green == 0 {
		t.Errorf("fixture gives %d red and %d green districts; the test needs both", red, green)
	}
	// The line: the plan share by now, the same for every district.
	p := in.Snapshot.Pace
	line := o.series(t, 0)["markLine"].(map[string]any)["data"].([]any)[0].(map[string]any)["xAxis"].(float64)
	if want := math.Round(10000*float64(p.ExpectedToDate)/float64(p.Target)) / 100; line != want {
		t.Errorf("expected line at %v, want %v", line, want)
	}
	for _, d := range in.Snapshot.Districts {
		if got := 100 * float64(d.Pace.ExpectedToDate) / float64(d.Quota); math.Abs(got-line) > 0.01 {
			t.Errorf("%s expects %v %%, the line says %v %%", d.Name, got, line)
		}
	}

	for _, scope := range []tiendo.Scope{{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}, {Kind: tiendo.ScopeStation, ID: "LS-TP-CHILANG"}} {
		out := mustBuild(t, fx.input(scope, "vi", false))
		if _, ok := out[ChartDistricts]; ok {
			t.Errorf("%v: districts chart present outside the province scope", scope)
		}
		want := 6 // the five of every scope and a district's map
		if scope.Kind == tiendo.ScopeStation {
			want = 5
		}
		if len(out) != want {
			t.Errorf("%v: %d charts, want %d", scope, len(out), want)
		}
	}
}

// TestDistrictsWithoutQuota: a district without a quota has no Pace; it
// is left out of the bars and of the count rather than called on track.
func TestDistrictsWithoutQuota(t *testing.T) {
	fx := newFixture(t)
	in := fx.input(tiendo.ProvinceScope, "en", false)
	in.Snapshot.Districts[0].Pace = nil
	o := decode(t, mustBuild(t, in)[ChartDistricts])
	names := o.categories(t, "yAxis", 0)
	if len(names) != len(in.Snapshot.Districts)-1 {
		t.Fatalf("%d rows, want %d", len(names), len(in.Snapshot.Districts)-1)
	}
	for _, n := range names {
		if n == in.Snapshot.Districts[0].Name {
			t.Errorf("%s has no Pace but a bar", n)
		}
	}
}
