package local_test

import (
	"reflect"
	"testing"

	"tiendo"
)

// A quota import's districts merge over earlier ones, its stations
// replace the registry, and both survive closing the state.
func TestSaveQuotasSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	if got, err := db.DistrictQuotas(); err != nil || len(got) != 0 {
		t.Fatalf("fresh state: %v %v, want no overrides", got, err)
	}
	stations := []tiendo.Station{{ID: "S1", District: "D1", Quota: 10}, {ID: "S2", District: "D1", Quota: 20}}
	if err := db.SaveStations(append(stations, tiendo.Station{ID: "OLD", District: "D1"})); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveQuotas(map[string]int64{"D1": 30, "D2": 5}, stations); err != nil {
		t.Fatal(err)
	}
	// Districts only: the registry stays as the first import left it.
	if err := db.SaveQuotas(map[string]int64{"D2": 7}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = mustOpen(t, dir)
	got, err := db.DistrictQuotas()
	if err != nil || !reflect.DeepEqual(got, map[string]int64{"D1": 30, "D2": 7}) {
		t.Fatalf("district quotas after reopen: %v %v", got, err)
	}
	saved, err := db.Stations()
	if err != nil || !reflect.DeepEqual(saved, stations) {
		t.Fatalf("stations after reopen: %+v %v, want %+v (OLD gone)", saved, err, stations)
	}
}
