package main

import (
	"math"
	"testing"

	"tiendo"
)

// The target, kept by a test: in a queue's first hour (the
// opening), the median wait shown is within ±40 % of the wait the simulated
// citizens really had, for every kind of station (the old rule was about
// twice too high, finding 2).
func TestWaitEstimateAtOpening(t *testing.T) {
	obs, err := measureWaits(tiendo.DayOf(2021, 3, 13), tiendo.DayOf(2021, 3, 16), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []tiendo.StationKind{tiendo.KindFixed, tiendo.KindMobile, tiendo.KindHomeVisit} {
		o := obs[waitKey{kind, periodOpening}]
		if len(o) < 50 {
			t.Fatalf("%s: %d observations in a queue's first hour", kind, len(o))
		}
		var ratios []float64
		for _, x := range o {
			ratios = append(ratios, x.est/math.Max(x.real, 1))
		}
		if m := median(ratios); m < 0.6 || m > 1.4 {
			t.Errorf("%s in a queue's first hour: median estimate ÷ realised %.2f, want 0.6–1.4", kind, m)
		}
	}
}
