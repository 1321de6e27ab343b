package dashboards

import (
	"math"
	"sort"

	"tiendo"
)

// Tile is one unit's cell in a tile map: the small-multiples grid a nation
// page draws its provinces on, one equal square each, placed roughly where
// the province lies so that a leader finds the north, the delta and the
// south where they expect them, without a map's tiny provinces next to
// huge ones.
type Tile struct {
	ID  string `json:"id"`
	Col int    `json:"col"` // 0 the westmost
	Row int    `json:"row"` // 0 the northmost
}

// The grid's cell, in degrees: Viet Nam spans about 14.5° of latitude and
// 7° of longitude, so 0.75° × 0.7° gives some 20 rows of up to 10 cells,
// enough room for the Red River delta's many small provinces to be pushed
// to a neighbouring cell rather than far away.
const (
	tileLat = 0.75
	tileLon = 0.7
)

// TileGrid places units on a grid by their latitude and longitude: each in
// the cell its place falls in, or, when a closer unit holds that cell, in
// the free cell nearest its place. Units closest to their cell's centre
// are placed first. Units without a place (Lat and Lon zero) fill the
// rows below, in their order. The grid's top-left is its northwest unit's
// cell; the rule is fixed, so a campaign always gets the same grid.
func TileGrid(units []tiendo.Unit) []Tile {
	type want struct {
		id       string
		row, col float64 // fractional cell of the unit's place
	}
	var placed []want
	var unplaced []string
	north, west := math.Inf(-1), math.Inf(1)
	for _, u := range units {
		if u.Lat == 0 && u.Lon == 0 {
			unplaced = append(unplaced, u.ID)
			continue
		}
		north, west = math.Max(north, u.Lat), math.Min(west, u.Lon)
	}
	for _, u := range units {
		if u.Lat != 0 || u.Lon != 0 {
			placed = append(placed, want{id: u.ID, row: (north - u.Lat) / tileLat, col: (u.Lon - west) / tileLon})
		}
	}
	off := func(w want) float64 {
		dr, dc := w.row-math.Floor(w.row)-0.5, w.col-math.Floor(w.col)-0.5
		return dr*dr + dc*dc
	}
	sort.SliceStable(placed, func(i, j int) bool { return off(placed[i]) < off(placed[j]) })
	taken := map[[2]int]bool{}
	out := make([]Tile, 0, len(units))
	rows, cols := 0, 0
	for _, w := range placed {
		best, bestD := [2]int{}, math.Inf(1)
		r0, c0 := int(math.Floor(w.row)), int(math.Floor(w.col))
		// The nearest free cell lies within a ring as wide as the units
		// placed so far; search outward ring by ring.
		for ring := 0; ring <= len(placed) && math.IsInf(bestD, 1); ring++ {
			for r := r0 - ring; r <= r0+ring; r++ {
				for c := c0 - ring; c <= c0+ring; c++ {
					if r < 0 || c < 0 || taken[[2]int{r, c}] {
						continue
					}
					dr, dc := float64(r)+0.5-w.row, float64(c)+0.5-w.col
					if d := dr*dr + dc*dc; d < bestD || d == bestD && (r < best[0] || r == best[0] && c < best[1]) {
						best, bestD = [2]int{r, c}, d
					}
				}
			}
		}
		taken[best] = true
		out = append(out, Tile{ID: w.id, Row: best[0], Col: best[1]})
		rows, cols = max(rows, best[0]+1), max(cols, best[1]+1)
	}
	cols = max(cols, min(len(unplaced), 8))
	for i, id := range unplaced {
		out = append(out, Tile{ID: id, Row: rows + i/cols, Col: i % cols})
	}
	order := map[string]int{}
	for i, u := range units {
		order[u.ID] = i
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i].ID] < order[out[j].ID] })
	return out
}
