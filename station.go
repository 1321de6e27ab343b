package tiendo

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// StationKind is how a station works: a fixed post, a mobile team moving
// between schools, companies and villages, or a team visiting homes.
type StationKind string

const (
	KindFixed     StationKind = "fixed"
	KindMobile    StationKind = "mobile"
	KindHomeVisit StationKind = "home_visit"
)

// District is a district-level unit (district or provincial city) with its quota.
type District struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Quota int64  `json:"quota"`
}

// Station is one place, or team, that enrols citizens and sends events.
type Station struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	District string      `json:"district"`
	Commune  string      `json:"commune"`
	Kind     StationKind `json:"kind"`
	Lanes    int         `json:"lanes"` // enrolment machines, i.e. records served at once
	Lat      float64     `json:"lat"`
	Lon      float64     `json:"lon"`
	Quota    int64       `json:"quota"`
	// Unit is the unit the station hangs under when that is below its
	// district (a commune); "" for a station filed under its district.
	Unit string `json:"unit,omitempty"`
	// Synthetic marks made-up names (the simulator's communes beyond the source's).
	Synthetic bool `json:"synthetic,omitempty"`
}

var stationIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$`)

// ValidStationID reports whether id can name a station: 1–48 characters of
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func ValidStationID(id string) bool { return stationIDPattern.MatchString(id) }

// Validate checks one station against the districts it may belong to.
func (s *Station) Validate(districts map[string]District) []FieldError {
	var errs []FieldError
	add := func(f, r string) { errs = append(errs, FieldError{Index: -1, Field: f, Reason: r}) }
	if !ValidStationID(s.ID) {
		add("id", "must be 1–48 letters, digits, '.', '_' or '-'")
	}
	if strings.TrimSpace(s.Name) == "" {
		add("name", "required")
	} else if reason := labelProblem(s.Name); reason != "" {
		add("name", reason)
	}
	if reason := labelProblem(s.Commune); reason != "" {
		add("commune", reason)
	}
	if _, ok := districts[s.District]; !ok {
		add("district", fmt.Sprintf("unknown district %q", s.District))
	}
	switch s.Kind {
	case KindFixed, KindMobile, KindHomeVisit:
	default:
		add("kind", "must be fixed, mobile or home_visit")
	}
	if s.Lanes < 1 || s.Lanes > 50 {
		add("lanes", "must be between 1 and 50")
	}
	if math.IsNaN(s.Lat) || s.Lat < -90 || s.Lat > 90 {
		add("lat", "must be between -90 and 90")
	}
	if math.IsNaN(s.Lon) || s.Lon < -180 || s.Lon > 180 {
		add("lon", "must be between -180 and 180")
	}
	if s.Quota < 0 {
		add("quota", "must not be negative")
	}
	return errs
}

// MaxLabelRunes bounds a station's name and commune: the longest real
// commune names are under 40 characters, and every page and snapshot
// carries them.
const MaxLabelRunes = 120

// labelProblem says what is wrong with a name shown on every page, or "".
func labelProblem(s string) string { return TextProblem(s, MaxLabelRunes) }

// TextProblem says what is wrong with a text people type for others to
// read on every page (a station's name, a timeline note), or "" when it
// is fine. Control characters break lines and files; bidirectional
// overrides and isolates reorder what a reader sees ("gnp.exe" shown as
// "exe.png"); zero-width characters make two texts look alike. maxRunes
// bounds its length in characters.
func TextProblem(s string, maxRunes int) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if utf8.RuneCountInString(s) > maxRunes {
		return fmt.Sprintf("at most %d characters", maxRunes)
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return fmt.Sprintf("must not contain control characters (U+%04X)", r)
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
			return fmt.Sprintf("must not contain text-direction characters (U+%04X)", r)
		case r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF:
			return fmt.Sprintf("must not contain invisible characters (U+%04X)", r)
		}
	}
	return ""
}

// formulaLead are the first characters that make a spreadsheet read a
// cell as a formula (=HYPERLINK(…), =cmd|…): exported text that starts with
// one gets a leading apostrophe, which spreadsheets show as text, and the
// importer takes it off again.
const formulaLead = "=+-@\t\r"

func neutraliseCell(s string) string {
	if s != "" && strings.ContainsRune(formulaLead, rune(s[0])) {
		return "'" + s
	}
	return s
}

func unneutraliseCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune(formulaLead, rune(s[1])) {
		return s[1:]
	}
	return s
}

// StationCSVHeader is the column order of a station registry file.
// The last two are optional: synthetic, and unit (the commune unit a
// station hangs under, below its district; Campaign.CheckStationUnits).
var StationCSVHeader = []string{"id", "name", "district", "commune", "kind", "lanes", "lat", "lon", "quota", "synthetic", "unit"}

// ParseStationsCSV reads a station registry in StationCSVHeader's columns
// (a header row is required; column order may differ). Every row is checked
// against districts; the returned *Error lists bad rows by their index.
func ParseStationsCSV(r io.Reader, districts []District) ([]Station, error) {
	known := make(map[string]District, len(districts))
	for _, d := range districts {
		known[d.ID] = d
	}
	t, err := openCSVTable(r, "stations file", StationCSVHeader[:9], strings.Join(StationCSVHeader, ","))
	if err != nil {
		return nil, err
	}
	var (
		stations []Station
		bad      []FieldError
		seen     = map[string]bool{}
	)
	t.each(&bad, func(row int, get func(string) string) {
		s := Station{ID: get("id"), Name: unneutraliseCell(get("name")), District: get("district"),
			Commune: unneutraliseCell(get("commune")), Kind: StationKind(get("kind")), Unit: get("unit")}
		unparsed := map[string]bool{}
		num := func(field string, dst any) {
			v := get(field)
			var err error
			switch p := dst.(type) {
			case *int:
				*p, err = strconv.Atoi(v)
			case *int64:
				*p, err = strconv.ParseInt(v, 10, 64)
			case *float64:
				*p, err = strconv.ParseFloat(v, 64)
			}
			if err != nil {
				unparsed[field] = true
				bad = append(bad, FieldError{Index: row, Field: field, Reason: fmt.Sprintf("not a number: %q", v)})
			}
		}
		num("lanes", &s.Lanes)
		num("lat", &s.Lat)
		num("lon", &s.Lon)
		num("quota", &s.Quota)
		switch strings.ToLower(get("synthetic")) {
		case "", "0", "false", "no":
		default:
			s.Synthetic = true
		}
		for _, fe := range s.Validate(known) {
			if unparsed[fe.Field] {
				continue // already reported as not a number
			}
			fe.Index = row
			bad = append(bad, fe)
		}
		if seen[s.ID] {
			bad = append(bad, FieldError{Index: row, Field: "id", Reason: fmt.Sprintf("duplicate station id %q", s.ID)})
		}
		seen[s.ID] = true
		stations = append(stations, s)
	})
	if len(bad) > 0 {
		return nil, &Error{Code: EInvalid, Message: "stations file has bad rows", Fields: bad}
	}
	if len(stations) == 0 {
		return nil, Errorf(EInvalid, "stations file has no rows")
	}
	return stations, nil
}

// WriteStationsCSV writes stations in StationCSVHeader's columns.
func WriteStationsCSV(w io.Writer, stations []Station) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(StationCSVHeader)
	for _, s := range stations {
		syn := ""
		if s.Synthetic {
			syn = "1"
		}
		_ = cw.Write([]string{s.ID, neutraliseCell(s.Name), s.District, neutraliseCell(s.Commune), string(s.Kind), strconv.Itoa(s.Lanes),
			strconv.FormatFloat(s.Lat, 'f', 5, 64), strconv.FormatFloat(s.Lon, 'f', 5, 64),
			strconv.FormatInt(s.Quota, 10), syn, s.Unit})
	}
	cw.Flush()
	return cw.Error()
}

// Registry is an immutable view of a campaign's units and stations,
// indexed for the lookups ingest and the live state do on every event.
type Registry struct {
	Campaign  *Campaign
	districts []District
	stations  []Station
	units     []Unit
	byID      map[string]*Station
	byDist    map[string][]*Station
	distByID  map[string]*District
	unitByID  map[string]*Unit
	children  map[string][]*Unit    // by parent id; "" the units under the campaign's top
	under     map[string][]*Station // by unit id: every station of its subtree
	chain     map[string][]string   // by station id: its units, its own first (unitsOf)
}

// NewRegistry indexes units and stations; stations are sorted by district
// then id. districts are the district quotas in force (the campaign's, or
// an import's): they replace the quotas of the campaign's district units.
func NewRegistry(c *Campaign, districts []District, stations []Station) *Registry {
	r := &Registry{Campaign: c, byID: map[string]*Station{}, byDist: map[string][]*Station{}, distByID: map[string]*District{},
		unitByID: map[string]*Unit{}, children: map[string][]*Unit{}, under: map[string][]*Station{},
		chain: map[string][]string{}}
	r.districts = append([]District(nil), districts...)
	r.stations = append([]Station(nil), stations...)
	sort.SliceStable(r.stations, func(i, j int) bool {
		if r.stations[i].District != r.stations[j].District {
			return r.stations[i].District < r.stations[j].District
		}
		return r.stations[i].ID < r.stations[j].ID
	})
	for i := range r.districts {
		r.distByID[r.districts[i].ID] = &r.districts[i]
	}
	r.units = append([]Unit(nil), c.Units...)
	for i := range r.units {
		u := &r.units[i]
		if d := r.distByID[u.ID]; d != nil {
			u.Quota = d.Quota
		}
		r.unitByID[u.ID] = u
	}
	for i := range r.units {
		u := &r.units[i]
		r.children[u.Parent] = append(r.children[u.Parent], u)
	}
	for i := range r.stations {
		s := &r.stations[i]
		r.byID[s.ID] = s
		r.byDist[s.District] = append(r.byDist[s.District], s)
		r.chain[s.ID] = r.unitsOf(s)
		for _, id := range r.chain[s.ID] {
			r.under[id] = append(r.under[id], s)
		}
	}
	return r
}

// unitsOf lists the units a station belongs to, its own first, then each
// parent up to the campaign's top (which is no unit). A district the tree
// does not know (an import's) is its only unit.
func (r *Registry) unitsOf(s *Station) []string {
	id := s.Unit
	if id == "" {
		id = s.District
	}
	return r.UnitChain(id)
}

// UnitChain is unit id and each unit above it up to the campaign's top,
// id first; an id the tree does not know is alone in it, "" gives none.
func (r *Registry) UnitChain(id string) []string {
	var out []string
	for depth := 0; id != "" && depth < len(levelDepth); depth++ {
		out = append(out, id)
		u := r.unitByID[id]
		if u == nil {
			break
		}
		id = u.Parent
	}
	return out
}

// Station returns the station with the given id, or nil.
func (r *Registry) Station(id string) *Station { return r.byID[id] }

// District returns the district with the given id, or nil.
func (r *Registry) District(id string) *District { return r.distByID[id] }

// Districts returns all districts in campaign-file order.
func (r *Registry) Districts() []District { return r.districts }

// Stations returns all stations, sorted by district then id.
func (r *Registry) Stations() []Station { return r.stations }

// StationsIn returns the stations a scope covers.
func (r *Registry) StationsIn(s Scope) []*Station {
	switch s.Kind {
	case ScopeProvince:
		out := make([]*Station, len(r.stations))
		for i := range r.stations {
			out[i] = &r.stations[i]
		}
		return out
	case ScopeDistrict, ScopeUnit:
		if r.unitByID[s.ID] == nil {
			return r.byDist[s.ID]
		}
		return r.under[s.ID]
	case ScopeStation:
		if st := r.byID[s.ID]; st != nil {
			return []*Station{st}
		}
	}
	return nil
}

// Target returns the quota of a scope: the campaign target for the province,
// the unit's quota, or the station's.
func (r *Registry) Target(s Scope) int64 {
	switch s.Kind {
	case ScopeProvince:
		return r.Campaign.Target
	case ScopeDistrict, ScopeUnit:
		if u := r.unitByID[s.ID]; u != nil {
			return u.Quota
		}
		if d := r.distByID[s.ID]; d != nil {
			return d.Quota
		}
	case ScopeStation:
		if st := r.byID[s.ID]; st != nil {
			return st.Quota
		}
	}
	return 0
}
