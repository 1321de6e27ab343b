package brief_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/brief"
	"tiendo/cmd/tiendo/vietnam2021"
	"tiendo/readmodel"
)

// The nation's brief has a row per province (not the ~12,700 stations),
// each with its stations' records; a province's brief of the same events
// has its districts and stations, as the province campaign's does.
func TestNationBriefIsByProvince(t *testing.T) {
	c, stations := vietnam2021.Campaign(), vietnam2021.Stations()
	db := openDB(t, "nation")
	db.SetStations(stations)
	reg := tiendo.NewRegistry(c, c.Districts, stations)
	at := time.Date(2021, 3, 20, 21, 0, 0, 0, loc)
	var events []tiendo.Event
	add := func(station string, n int, count int) {
		for i := range n {
			events = append(events, tiendo.Event{ID: station + "-" + string(rune('a'+i)), Type: tiendo.TypeCompletion, Station: station,
				TS: at.Add(-time.Duration(i+1) * time.Hour), Count: count, Kind: tiendo.RecordStandard})
		}
	}
	add("LS-BS-VULE", 5, 10)
	add("LS-TP-LD1", 2, 7)
	add("HN-H01-X001-CA", 3, 4)
	if err := db.WriteEvents(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	m := readmodel.New(readmodel.Sources{Store: db, Overlay: storedOnly{}, Registry: func() *tiendo.Registry { return reg },
		Now: func() time.Time { return at }})
	nation, err := brief.Build(context.Background(), m, reg, brief.Request{Scope: tiendo.ProvinceScope, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	if len(nation.Districts) != 63 || nation.UnitLevel != tiendo.LevelProvince || len(nation.Stations) != 0 {
		t.Fatalf("the nation's brief: %d unit rows at level %q, %d station rows", len(nation.Districts), nation.UnitLevel, len(nation.Stations))
	}
	got := map[string]int64{}
	for _, r := range nation.Districts {
		got[r.ID] = r.DayRecords
	}
	if got["LS"] != 64 || got["HN"] != 12 || got["HCM"] != 0 || nation.Total.DayRecords != 76 {
		t.Fatalf("records of the day: LS %d, HN %d, HCM %d, total %d; want 64, 12, 0, 76", got["LS"], got["HN"], got["HCM"], nation.Total.DayRecords)
	}
	var csv bytes.Buffer
	if err := nation.WriteCSV(&csv, "vi"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if len(lines) != 1+63+1 || !strings.HasPrefix(lines[1], "Tỉnh/thành phố,") || !strings.Contains(lines[len(lines)-1], "Toàn quốc") {
		t.Fatalf("the nation's CSV: %d lines, first row %q, last %q", len(lines), lines[1], lines[len(lines)-1])
	}
	var html bytes.Buffer
	if err := nation.WriteHTML(&html, "vi", nil); err != nil || !strings.Contains(html.String(), "Theo tỉnh/thành phố") {
		t.Fatalf("the nation's page: %v, heading by province missing", err)
	}

	ls, err := brief.Build(context.Background(), m, reg, brief.Request{Scope: tiendo.Scope{Kind: tiendo.ScopeUnit, ID: "LS"}, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Districts) != 11 || ls.UnitLevel != tiendo.LevelDistrict || len(ls.Stations) != len(reg.StationsIn(tiendo.Scope{Kind: tiendo.ScopeUnit, ID: "LS"})) ||
		ls.Total.DayRecords != 64 || ls.ScopeName != "Lạng Sơn" {
		t.Fatalf("Lạng Sơn's brief: %d district rows (%q), %d stations, %d records, named %q", len(ls.Districts), ls.UnitLevel, len(ls.Stations), ls.Total.DayRecords, ls.ScopeName)
	}
	var lsCSV bytes.Buffer
	if err := ls.WriteCSV(&lsCSV, "vi"); err != nil || !strings.Contains(lsCSV.String(), "\nQuận/huyện,LS-BS,") {
		t.Fatalf("Lạng Sơn's CSV has no district rows: %v", err)
	}
}
