package readmodel_test

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/cmd/tiendo/vietnam2021"
	"tiendo/readmodel"
	"tiendo/simulate"
	"tiendo/store"
)

// The same Lạng Sơn events, stored once under langson-2021 and once under
// vietnam-2021, give the same figures: the province snapshot of the one is
// the unit:LS snapshot of the other (totals, pace, stations, districts,
// attention lists, moves), and the nation's snapshot ranks LS among its 63
// provinces with the same counts.
func TestLangSonInTheNationIsTheProvinceCampaign(t *testing.T) {
	ctx := context.Background()
	engine := testEngine(t)
	lsc, lsStations := langson2021.Campaign(), langson2021.Stations()
	nat, natStations := vietnam2021.Campaign(), vietnam2021.Stations()
	open := func(name string, c *tiendo.Campaign, stations []tiendo.Station) (*store.DB, *readmodel.Model, *time.Time) {
		db, err := store.Open(ctx, engine, name)
		if err != nil {
			t.Fatal(err)
		}
		db.SetStations(stations)
		reg := tiendo.NewRegistry(c, c.Districts, stations)
		now := new(time.Time)
		return db, readmodel.New(readmodel.Sources{Store: db, Overlay: noPending{}, Registry: func() *tiendo.Registry { return reg },
			Now: func() time.Time { return *now }}), now
	}
	lsDB, lsModel, lsNow := open("province", lsc, lsStations)
	natDB, natModel, natNow := open("nation", nat, natStations)

	model, err := simulate.NewModel(lsc, lsStations, 7, simulate.Params{})
	if err != nil {
		t.Fatal(err)
	}
	var buf []simulate.Event
	compared := 0
	for d := lsc.Start; d < lsc.Start+6; d++ {
		var day []tiendo.Event
		for i := range lsStations {
			buf, _ = model.Day(i, d, buf[:0])
			for _, e := range buf {
				day = append(day, e.Event)
			}
		}
		sort.SliceStable(day, func(i, j int) bool { return day[i].TS.Before(day[j].TS) })
		for _, h := range []int{6, 16, 21} { // 10:00, 20:00, 01:00
			end := lsc.DayStart(d).Add(time.Duration(h) * time.Hour)
			n := sort.Search(len(day), func(i int) bool { return !day[i].TS.Before(end) })
			for _, db := range []*store.DB{lsDB, natDB} {
				if err := db.WriteEvents(ctx, day[:n]); err != nil {
					t.Fatal(err)
				}
			}
			day = day[n:]
			*lsNow, *natNow = end.Add(-time.Second), end.Add(-time.Second)
			want, err := lsModel.Snapshot(ctx, tiendo.ProvinceScope)
			if err != nil {
				t.Fatal(err)
			}
			got, err := natModel.Snapshot(ctx, tiendo.Scope{Kind: tiendo.ScopeUnit, ID: "LS"})
			if err != nil {
				t.Fatal(err)
			}
			at := end.In(lsc.Location()).Format("02/01 15:04")
			if want.Totals.Completed == 0 && d > lsc.Start {
				t.Fatalf("%s: nothing completed: the comparison would be empty", at)
			}
			for _, f := range []struct {
				name      string
				got, want any
			}{
				{"totals", got.Totals, want.Totals}, {"pace", got.Pace, want.Pace}, {"stations", got.Stations, want.Stations},
				{"districts", got.Districts, want.Districts}, {"attention", got.Attention, want.Attention}, {"moves", got.Moves, want.Moves},
			} {
				if g, w := asJSON(t, f.got), asJSON(t, f.want); g != w {
					t.Fatalf("%s: unit:LS %s differ from langson-2021's province:\n got %.600s\nwant %.600s", at, f.name, g, w)
				}
			}
			if len(got.Units) != 0 || len(got.Stations) != len(lsStations) {
				t.Errorf("%s: unit:LS has %d units and %d stations, want districts only and %d stations", at, len(got.Units), len(got.Stations), len(lsStations))
			}

			whole, err := natModel.Snapshot(ctx, tiendo.ProvinceScope)
			if err != nil {
				t.Fatal(err)
			}
			if len(whole.Units) != 63 {
				t.Fatalf("%s: the nation lists %d units, want 63 provinces", at, len(whole.Units))
			}
			// Its districts are judged for the alerts (from each station's
			// figures), Lạng Sơn's as the province campaign judges them,
			// and not sent to pages.
			judged, err := natModel.StationSnapshot(ctx, tiendo.ProvinceScope)
			if err != nil {
				t.Fatal(err)
			}
			inNation := map[string]tiendo.DistrictState{}
			for _, d := range judged.Districts {
				inNation[d.ID] = d
			}
			for _, d := range want.Districts {
				n, ok := inNation[d.ID]
				if !ok || n.Completed != d.Completed || asJSON(t, n.Pace) != asJSON(t, d.Pace) {
					t.Fatalf("%s: district %s in the nation = %+v, want %+v", at, d.ID, n, d)
				}
			}
			if sent := judged.Sent(false); len(sent.Districts) != 0 || len(sent.Stations) != 0 {
				t.Errorf("%s: the nation as sent lists %d districts, %d stations", at, len(sent.Districts), len(sent.Stations))
			}
			var ls *tiendo.UnitState
			for i := range whole.Units {
				if whole.Units[i].ID == "LS" {
					ls = &whole.Units[i]
				}
			}
			if ls == nil || ls.Completed != want.Totals.Completed || ls.CompletedToday != want.Totals.CompletedToday ||
				ls.Quota != want.Totals.Target || asJSON(t, ls.Pace) != asJSON(t, want.Pace) {
				t.Fatalf("%s: LS in the nation = %+v, want the province's totals %+v and pace", at, ls, want.Totals)
			}
			if whole.Totals.Completed != want.Totals.Completed {
				t.Errorf("%s: the nation completed %d, want Lạng Sơn's %d (the only events)", at, whole.Totals.Completed, want.Totals.Completed)
			}
			// The nation pages get is summed per province: no station, no
			// district, no station's service judged.
			if sent := whole.Sent(false); len(sent.Stations) != 0 || len(sent.Districts) != 0 || sent.Attention != nil {
				t.Errorf("%s: the nation as sent lists %d stations, %d districts, attention %+v", at, len(sent.Stations), len(sent.Districts), sent.Attention)
			}
			if whole.Totals.StationsOpen != judged.Totals.StationsOpen || whole.Totals.Queue != judged.Totals.Queue {
				t.Errorf("%s: the nation's open stations and queue %d, %d; from each station's figures %d, %d", at,
					whole.Totals.StationsOpen, whole.Totals.Queue, judged.Totals.StationsOpen, judged.Totals.Queue)
			}
			compared++
		}
	}
	t.Logf("%d instants compared", compared)
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
