package tiendo_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"tiendo"
)

// Every role against every kind of scope: what the server allowed with its
// switch statements before the policy table, case by case.
func TestRoleCanRead(t *testing.T) {
	reg := testRegistry(t)
	province := tiendo.ProvinceScope
	tp := tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}
	bs := tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-BS"}
	nowhere := tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-NOWHERE"}
	tpA := tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-TP-A"}
	vule := tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}
	ghost := tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-GHOST"}
	tests := []struct {
		role    tiendo.Role
		subject string
		scope   tiendo.Scope
		want    bool
	}{
		{tiendo.RoleAdmin, "", province, true},
		{tiendo.RoleAdmin, "", tp, true},
		{tiendo.RoleAdmin, "", vule, true},
		{tiendo.RoleLeader, "", province, true},
		{tiendo.RoleLeader, "", bs, true},
		{tiendo.RoleLeader, "", tpA, true},
		// A screen: the province and the districts, never one station.
		{tiendo.RoleScreen, "", province, true},
		{tiendo.RoleScreen, "", tp, true},
		{tiendo.RoleScreen, "", nowhere, true}, // existence is a 404, not a 403
		{tiendo.RoleScreen, "", vule, false},
		// A district account: its district and the stations filed under it.
		{tiendo.RoleDistrict, "LS-TP", tp, true},
		{tiendo.RoleDistrict, "LS-TP", tpA, true},
		{tiendo.RoleDistrict, "LS-TP", bs, false},
		{tiendo.RoleDistrict, "LS-TP", vule, false},
		{tiendo.RoleDistrict, "LS-TP", province, false},
		{tiendo.RoleDistrict, "LS-TP", ghost, false},
		{tiendo.RoleDistrict, "", tpA, false},
		// A chief: their own station only.
		{tiendo.RoleChief, "LS-TP-A", tpA, true},
		{tiendo.RoleChief, "LS-TP-A", vule, false},
		{tiendo.RoleChief, "LS-TP-A", tp, false},
		{tiendo.RoleChief, "LS-TP-A", province, false},
		// A station agent posts; it reads nothing, not even its own station.
		{tiendo.RoleStation, "LS-TP-A", tpA, false},
		{tiendo.RoleStation, "LS-TP-A", province, false},
		// No role, or one the table does not know, reads nothing.
		{"", "", province, false},
		{"superuser", "", province, false},
		{"Admin", "", province, false},
	}
	for _, tt := range tests {
		if got := tt.role.CanRead(reg, tt.subject, tt.scope); got != tt.want {
			t.Errorf("%q (subject %q).CanRead(%s) = %v, want %v", tt.role, tt.subject, tt.scope, got, tt.want)
		}
	}
}

// A district account follows the registry: once an import files a station
// under another district, that station leaves the old district's view.
func TestRoleCanReadFollowsTheRegistry(t *testing.T) {
	reg := testRegistry(t)
	vule := tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-BS-VULE"}
	if !tiendo.RoleDistrict.CanRead(reg, "LS-BS", vule) {
		t.Fatal("LS-BS cannot see its own station")
	}
	stations := reg.Stations()
	for i := range stations {
		if stations[i].ID == "LS-BS-VULE" {
			stations[i].District = "LS-TP"
		}
	}
	moved := tiendo.NewRegistry(reg.Campaign, reg.Districts(), stations)
	if tiendo.RoleDistrict.CanRead(moved, "LS-BS", vule) {
		t.Error("LS-BS still sees a station moved to LS-TP")
	}
	if !tiendo.RoleDistrict.CanRead(moved, "LS-TP", vule) {
		t.Error("LS-TP does not see the station moved to it")
	}
}

func TestRoleCheckSubject(t *testing.T) {
	reg := testRegistry(t)
	tests := []struct {
		role    tiendo.Role
		subject string
		want    string
		ok      bool
	}{
		{tiendo.RoleAdmin, "LS-TP", "", true}, // dropped: admins are not tied to anything
		{tiendo.RoleLeader, "", "", true},
		{tiendo.RoleScreen, "whatever", "", true},
		{tiendo.RoleDistrict, "LS-TP", "LS-TP", true},
		{tiendo.RoleDistrict, "LS-TP-A", "LS-TP-A", false}, // a station is not a district
		{tiendo.RoleDistrict, "", "", false},
		{tiendo.RoleChief, "LS-TP-A", "LS-TP-A", true},
		{tiendo.RoleChief, "LS-TP", "LS-TP", false},
		{tiendo.RoleStation, "LS-BS-VULE", "LS-BS-VULE", true},
		{tiendo.RoleStation, "LS-GHOST", "LS-GHOST", false},
		{"root", "", "", false},
	}
	for _, tt := range tests {
		got, ok := tt.role.CheckSubject(reg, tt.subject)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q.CheckSubject(%q) = %q, %v; want %q, %v", tt.role, tt.subject, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRoleHomeAndViews(t *testing.T) {
	tests := []struct {
		role        tiendo.Role
		subject     string
		home        tiendo.Home
		scope       tiendo.Scope
		subjectKind tiendo.SubjectKind
		screen      bool
		posts       bool
		person      bool
	}{
		{tiendo.RoleAdmin, "", tiendo.HomeOverview, tiendo.ProvinceScope, tiendo.SubjectNone, false, false, true},
		{tiendo.RoleLeader, "", tiendo.HomeOverview, tiendo.ProvinceScope, tiendo.SubjectNone, false, false, true},
		{tiendo.RoleDistrict, "LS-TP", tiendo.HomeSubject, tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: "LS-TP"}, tiendo.SubjectDistrict, false, false, true},
		{tiendo.RoleChief, "LS-TP-A", tiendo.HomeSubject, tiendo.Scope{Kind: tiendo.ScopeStation, ID: "LS-TP-A"}, tiendo.SubjectStation, false, false, true},
		{tiendo.RoleScreen, "", tiendo.HomeScreen, tiendo.ProvinceScope, tiendo.SubjectNone, true, false, true},
		// A station token's home is the overview, which it may not read:
		// the server must not redirect it there again and again.
		{tiendo.RoleStation, "LS-TP-A", tiendo.HomeOverview, tiendo.ProvinceScope, tiendo.SubjectStation, false, true, false},
		{"", "", tiendo.HomeOverview, tiendo.ProvinceScope, tiendo.SubjectNone, false, false, false},
	}
	for _, tt := range tests {
		r := tt.role
		if got := r.Home(); got != tt.home {
			t.Errorf("%q.Home() = %v, want %v", r, got, tt.home)
		}
		if got := r.HomeScope(tt.subject); got != tt.scope {
			t.Errorf("%q.HomeScope(%q) = %v, want %v", r, tt.subject, got, tt.scope)
		}
		if got := r.Subject(); got != tt.subjectKind {
			t.Errorf("%q.Subject() = %v, want %v", r, got, tt.subjectKind)
		}
		if r.ScreenView() != tt.screen || r.PostsEvents() != tt.posts || r.Person() != tt.person {
			t.Errorf("%q: screen view %v, posts events %v, person %v; want %v, %v, %v",
				r, r.ScreenView(), r.PostsEvents(), r.Person(), tt.screen, tt.posts, tt.person)
		}
		if r.Valid() != (r != "") {
			t.Errorf("%q.Valid() = %v", r, r.Valid())
		}
	}
}

// The stored and JSON form is the plain string, and the lists keep the
// order the admin API's messages have always named roles in.
func TestRoleForms(t *testing.T) {
	b, err := json.Marshal(struct {
		Role tiendo.Role `json:"role"`
	}{tiendo.RoleChief})
	if err != nil || string(b) != `{"role":"chief"}` {
		t.Errorf("JSON = %s, %v", b, err)
	}
	var back struct{ Role tiendo.Role }
	if err := json.Unmarshal([]byte(`{"role":"screen"}`), &back); err != nil || back.Role != tiendo.RoleScreen {
		t.Errorf("decoded %q, %v", back.Role, err)
	}
	all := []tiendo.Role{"admin", "leader", "officer", "district", "chief", "screen", "station"}
	if got := tiendo.Roles(); !reflect.DeepEqual(got, all) {
		t.Errorf("Roles() = %v", got)
	}
	for _, r := range all {
		if !r.Valid() {
			t.Errorf("%q is not Valid", r)
		}
	}
	if got := tiendo.PersonRoles(); !reflect.DeepEqual(got, all[:6]) {
		t.Errorf("PersonRoles() = %v, want all but station", got)
	}
	if got := tiendo.JoinRoles(tiendo.Roles(), ", "); got != "admin, leader, officer, district, chief, screen, station" {
		t.Errorf("JoinRoles(Roles, \", \") = %q", got)
	}
	if got := tiendo.JoinRoles(tiendo.PersonRoles(), " or "); got != "admin, leader, officer, district, chief or screen" {
		t.Errorf("JoinRoles(PersonRoles, \" or \") = %q", got)
	}
	if got := tiendo.JoinRoles([]tiendo.Role{tiendo.RoleChief}, " or "); got != "chief" {
		t.Errorf("JoinRoles of one = %q", got)
	}
	if tiendo.SubjectDistrict.String() != "district" || tiendo.SubjectStation.String() != "station" {
		t.Errorf("subject kinds read %q, %q", tiendo.SubjectDistrict, tiendo.SubjectStation)
	}
}
