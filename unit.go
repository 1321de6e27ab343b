package tiendo

import (
	"fmt"
	"slices"
	"strings"
)

// UnitLevel is the administrative level of a unit of a campaign's tree.
type UnitLevel string

// The levels, from the top. A campaign's own level is its top (a province
// campaign is the province, the national one the nation); its units are
// the levels below it, each unit under one of the level above, and
// stations hang under any unit.
const (
	LevelNation   UnitLevel = "nation"
	LevelProvince UnitLevel = "province"
	LevelDistrict UnitLevel = "district"
	LevelCommune  UnitLevel = "commune"
)

// levelDepth orders the levels: a unit's parent is of a smaller depth.
var levelDepth = map[UnitLevel]int{LevelNation: 0, LevelProvince: 1, LevelDistrict: 2, LevelCommune: 3}

// Above reports whether l is a higher level than m (the nation is above a
// province).
func (l UnitLevel) Above(m UnitLevel) bool { return levelDepth[l] < levelDepth[m] }

// Valid reports whether l is one of the levels.
func (l UnitLevel) Valid() bool {
	_, ok := levelDepth[l]
	return ok
}

// Unit is one node of a campaign's tree below its top: a province of the
// nation, a district, a commune. Each has a quota; its parent is the unit
// it belongs to, "" for the units right under the campaign's top.
type Unit struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Level  UnitLevel `json:"level"`
	Parent string    `json:"parent,omitempty"`
	Quota  int64     `json:"quota"`
	// Short is a short name for a tile or a chart axis ("LSN"), optional.
	Short string `json:"short,omitempty"`
	// Synthetic marks made-up names (ending in SyntheticMark): units the
	// project cannot ship real names for.
	Synthetic bool `json:"synthetic,omitempty"`
	// Lat and Lon place the unit (a province's capital), for the tile
	// grid of the units above it; zero: not placed.
	Lat float64 `json:"lat,omitempty"`
	Lon float64 `json:"lon,omitempty"`
}

// TopLevel is the campaign's own level: province unless the file says.
func (c *Campaign) TopLevel() UnitLevel {
	if c.Level == "" {
		return LevelProvince
	}
	return c.Level
}

// WithUnits is a copy of c, its settings and clock, with another tree:
// level its top, units below it (Validate checks them and fills Districts).
func (c *Campaign) WithUnits(level UnitLevel, units []Unit) *Campaign {
	out := *c
	out.Level, out.Units, out.Districts, out.unitsOfDistricts = level, units, nil, false
	return &out
}

// validateUnits checks the tree (each parent known and one level up, ids
// unique, quotas not negative) and fills Districts from its district-level
// units, or, for a file that lists districts only, Units from Districts.
func (c *Campaign) validateUnits(bad func(field, reason string) error) error {
	if !c.TopLevel().Valid() || c.TopLevel() == LevelCommune {
		return bad("level", "must be nation, province or district")
	}
	if len(c.Units) == 0 || c.unitsOfDistricts {
		if c.TopLevel() != LevelProvince {
			return bad("units", "a campaign above or below a province lists its units")
		}
		c.unitsOfDistricts = true
		c.Units = make([]Unit, 0, len(c.Districts))
		for _, d := range c.Districts {
			c.Units = append(c.Units, Unit{ID: d.ID, Name: d.Name, Level: LevelDistrict, Quota: d.Quota})
		}
		return nil
	}
	byID := make(map[string]*Unit, len(c.Units))
	for i := range c.Units {
		u := &c.Units[i]
		switch {
		case !ValidStationID(u.ID) || byID[u.ID] != nil:
			return bad("units", fmt.Sprintf("unit id %q is invalid or repeated", u.ID))
		case u.Name == "":
			return bad("units", fmt.Sprintf("unit %s: name required", u.ID))
		case !u.Level.Valid() || !c.TopLevel().Above(u.Level):
			return bad("units", fmt.Sprintf("unit %s: level must be below the campaign's %s", u.ID, c.TopLevel()))
		case u.Quota < 0:
			return bad("units", fmt.Sprintf("unit %s: quota must not be negative", u.ID))
		}
		byID[u.ID] = u
	}
	for i := range c.Units {
		u := &c.Units[i]
		if u.Parent == "" {
			continue
		}
		p := byID[u.Parent]
		if p == nil || !p.Level.Above(u.Level) {
			return bad("units", fmt.Sprintf("unit %s: parent %q is not a known unit of a higher level", u.ID, u.Parent))
		}
	}
	var districts []District
	for _, u := range c.Units {
		if u.Level == LevelDistrict {
			districts = append(districts, District{ID: u.ID, Name: u.Name, Quota: u.Quota})
		}
	}
	// A file may list both only when they agree (a campaign validated
	// once and validated again has both).
	if len(c.Districts) != 0 && !slices.Equal(c.Districts, districts) {
		return bad("districts", "give the districts as units (level district), or agreeing with them")
	}
	c.Districts = districts
	return nil
}

// Unit returns the unit with the given id, or nil.
func (r *Registry) Unit(id string) *Unit { return r.unitByID[id] }

// UnitsOf lists the units station id belongs to, its own first, then each
// one up to the campaign's top (shared: the caller must not change it).
func (r *Registry) UnitsOf(id string) []string { return r.chain[id] }

// Units returns every unit, in campaign-file order (district quotas as in
// force).
func (r *Registry) Units() []Unit { return r.units }

// Resolve is the canonical form of a scope: a unit at district level is a
// district scope (its links, alerts, briefs and moves are a district's),
// a "district" that is a unit of another level is a unit scope. Other
// scopes, and unknown ids, are returned as they are.
func (r *Registry) Resolve(s Scope) Scope {
	if s.Kind != ScopeUnit && s.Kind != ScopeDistrict {
		return s
	}
	u := r.unitByID[s.ID]
	switch {
	case u == nil:
		return s
	case u.Level == LevelDistrict:
		return Scope{Kind: ScopeDistrict, ID: s.ID}
	}
	return Scope{Kind: ScopeUnit, ID: s.ID}
}

// Known reports whether the registry has the scope's unit or station.
func (r *Registry) Known(s Scope) bool {
	switch s.Kind {
	case ScopeProvince:
		return true
	case ScopeStation:
		return r.byID[s.ID] != nil
	case ScopeDistrict, ScopeUnit:
		return r.unitByID[s.ID] != nil || r.distByID[s.ID] != nil
	}
	return false
}

// LevelOf is the level a scope watches: the campaign's top for the
// province scope, a unit's level, "" for a station or an unknown unit.
func (r *Registry) LevelOf(s Scope) UnitLevel {
	switch s.Kind {
	case ScopeProvince:
		return r.Campaign.TopLevel()
	case ScopeDistrict, ScopeUnit:
		if u := r.unitByID[s.ID]; u != nil {
			return u.Level
		}
		if r.distByID[s.ID] != nil {
			return LevelDistrict
		}
	}
	return ""
}

// Children are the units right under a scope's: the top units for the
// province scope, none for a station.
func (r *Registry) Children(s Scope) []*Unit {
	switch s.Kind {
	case ScopeProvince:
		return r.children[""]
	case ScopeDistrict, ScopeUnit:
		if r.unitByID[s.ID] != nil {
			return r.children[s.ID]
		}
	}
	return nil
}

// Within reports whether scope s lies inside unit id: the unit itself, a
// unit under it or a station of its subtree. A station is placed by the
// registry as it is now, so an import that moves it moves who may see it.
func (r *Registry) Within(s Scope, id string) bool {
	switch s.Kind {
	case ScopeStation:
		return slices.Contains(r.chain[s.ID], id)
	case ScopeDistrict, ScopeUnit:
		return slices.Contains(r.UnitChain(s.ID), id)
	}
	return false
}

// ListsStations reports whether a scope's snapshot lists its stations one
// by one: at province level and below. Above it (the nation, some ten
// thousand stations) a page shows units, and the attention lists name the
// stations that need someone.
func (r *Registry) ListsStations(s Scope) bool {
	l := r.LevelOf(s)
	return l == "" || !l.Above(LevelProvince)
}

// urgency orders pace states for RankUnits: a unit that will miss its
// quota first, one with no figure yet last.
var urgency = map[PaceState]int{PaceEnded: 0, PaceBehind: 1, PaceOnTrack: 2, PaceTooEarly: 3, PaceNotStarted: 4, PaceAhead: 5, PaceDone: 6}

// RankUnits orders units as a national page ranks provinces: by pace state
// (ended and behind first, done last), then by gap, the furthest behind
// first; units without a quota come last, then by id.
func RankUnits(units []UnitState) {
	rank := func(u *UnitState) (int, int64) {
		if u.Pace == nil {
			return len(urgency), 0
		}
		return urgency[u.Pace.State], u.Pace.Gap
	}
	slices.SortStableFunc(units, func(a, b UnitState) int {
		ra, ga := rank(&a)
		rb, gb := rank(&b)
		switch {
		case ra != rb:
			return ra - rb
		case ga != gb:
			if ga < gb {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// CheckStationUnits checks the units stations hang under (Station.Unit):
// each a unit of c below district level, inside the station's district.
// It returns an EInvalid *Error listing the bad rows by index.
func (c *Campaign) CheckStationUnits(stations []Station) error {
	byID := make(map[string]*Unit, len(c.Units))
	for i := range c.Units {
		byID[c.Units[i].ID] = &c.Units[i]
	}
	var bad []FieldError
	for i, st := range stations {
		if st.Unit == "" {
			continue
		}
		in := false
		u := byID[st.Unit]
		if u != nil && LevelDistrict.Above(u.Level) {
			for at, depth := u, 0; at != nil && depth < len(levelDepth); at, depth = byID[at.Parent], depth+1 {
				in = in || at.ID == st.District
			}
		}
		if !in {
			bad = append(bad, FieldError{Index: i, Field: "unit", Reason: fmt.Sprintf("no unit %q below district %q", st.Unit, st.District)})
		}
	}
	if len(bad) > 0 {
		return &Error{Code: EInvalid, Message: "stations file has bad rows", Fields: bad}
	}
	return nil
}

// SyntheticMark ends every made-up name of the shipped registries (Unit and
// Station Synthetic): the name says what it is wherever it is shown, and a
// phone's narrow axis may leave it out (dashboards.phoneLabel).
const SyntheticMark = " (giả lập)"
