package dashboards_test

import (
	"testing"

	"tiendo"
	"tiendo/cmd/tiendo/vietnam2021"
	"tiendo/dashboards"
)

func provinceUnits() []tiendo.Unit {
	var out []tiendo.Unit
	for _, u := range vietnam2021.Campaign().Units {
		if u.Level == tiendo.LevelProvince {
			out = append(out, u)
		}
	}
	return out
}

// Each province gets its own cell, the north above the south and the
// west left of the east as the places lie, the same grid every time; a
// unit without a place goes below the placed ones.
func TestTileGrid(t *testing.T) {
	units := provinceUnits()
	grid := dashboards.TileGrid(units)
	if len(grid) != 63 {
		t.Fatalf("%d tiles for 63 provinces", len(grid))
	}
	at := map[string]dashboards.Tile{}
	cells := map[[2]int]string{}
	maxRow := 0
	for i, tl := range grid {
		if tl.ID != units[i].ID {
			t.Fatalf("tile %d is %s, want the units' order (%s)", i, tl.ID, units[i].ID)
		}
		if other, ok := cells[[2]int{tl.Row, tl.Col}]; ok {
			t.Fatalf("%s and %s share the cell %d,%d", tl.ID, other, tl.Row, tl.Col)
		}
		cells[[2]int{tl.Row, tl.Col}] = tl.ID
		at[tl.ID] = tl
		maxRow = max(maxRow, tl.Row)
	}
	above := [][2]string{{"HG", "HN"}, {"HN", "NA"}, {"NA", "DN"}, {"DN", "KH"}, {"KH", "HCM"}, {"HCM", "CM"}, {"LS", "HP"}}
	for _, p := range above {
		if at[p[0]].Row >= at[p[1]].Row {
			t.Errorf("%s (row %d) is not above %s (row %d)", p[0], at[p[0]].Row, p[1], at[p[1]].Row)
		}
	}
	west := [][2]string{{"LCH", "LS"}, {"DB", "HN"}, {"HN", "QNI"}, {"KG", "HCM"}, {"QB", "DN"}}
	for _, p := range west {
		if at[p[0]].Col >= at[p[1]].Col {
			t.Errorf("%s (col %d) is not west of %s (col %d)", p[0], at[p[0]].Col, p[1], at[p[1]].Col)
		}
	}
	again := dashboards.TileGrid(provinceUnits())
	for i := range grid {
		if grid[i] != again[i] {
			t.Fatalf("the grid changed between two runs: %v, then %v", grid[i], again[i])
		}
	}
	more := append(provinceUnits(), tiendo.Unit{ID: "XX", Name: "nowhere"})
	g := dashboards.TileGrid(more)
	if last := g[len(g)-1]; last.ID != "XX" || last.Row <= maxRow {
		t.Errorf("a unit without a place is at %+v, want below row %d", last, maxRow)
	}
}
