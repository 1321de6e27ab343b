package tiendo

import "strings"

// Role is what a token or a person's account may do. Its string is the
// stored and JSON form ("admin", "leader", …), so records and API bodies
// written before the type existed read the same.
type Role string

// The roles. Their order in Roles is the order messages name them in.
const (
	RoleAdmin    Role = "admin"    // everything, and the admin API
	RoleLeader   Role = "leader"   // reads everything
	RoleDistrict Role = "district" // one district and its stations
	RoleOfficer  Role = "officer"  // one unit of any level (a province) and everything under it
	RoleChief    Role = "chief"    // one station, on a phone
	RoleScreen   Role = "screen"   // a command-room screen: the province and district views
	RoleStation  Role = "station"  // an agent: posts its own station's events, reads nothing
)

// SubjectKind is what a role's account is tied to.
type SubjectKind int

const (
	SubjectNone     SubjectKind = iota // the whole campaign
	SubjectDistrict                    // a district id
	SubjectStation                     // a station id
	SubjectUnit                        // a unit id, of any level
)

// String is the kind's name as messages write it ("unknown district X").
func (k SubjectKind) String() string {
	switch k {
	case SubjectDistrict:
		return "district"
	case SubjectStation:
		return "station"
	case SubjectUnit:
		return "unit"
	}
	return "none"
}

// Home is where a role's pages start.
type Home int

const (
	HomeOverview Home = iota // the province overview
	HomeSubject              // the page of its own district or station
	HomeScreen               // the command-room kiosk
)

// reach is which scopes a role may read.
type reach int

const (
	readsNothing    reach = iota
	readsEverything       // province, every district, every station
	readsAggregates       // province and districts, no single station
	readsOwn              // its subject's scope and everything under it
)

// rolePolicy is everything the server decides by role, in one row, so that
// adding a role or changing what one may do is one edit that every check
// (pages, REST, the live stream and its rechecks, token and user admin)
// follows alike.
type rolePolicy struct {
	reads   reach
	subject SubjectKind
	home    Home
	// screenView: its snapshots are the command room's (ForScreen): the
	// aggregates and each station reduced to what the room's lists show.
	screenView bool
	// postsEvents: a station agent's token; the ingest API takes only these.
	postsEvents bool
	// person: a person may hold it through a user account and sign in with
	// a password; the others exist only as tokens.
	person bool
}

// policies is the policy table. A role missing from it is no role: it
// reads nothing, has no home but the overview and cannot be issued.
var policies = map[Role]rolePolicy{
	RoleAdmin:    {reads: readsEverything, subject: SubjectNone, home: HomeOverview, person: true},
	RoleLeader:   {reads: readsEverything, subject: SubjectNone, home: HomeOverview, person: true},
	RoleDistrict: {reads: readsOwn, subject: SubjectDistrict, home: HomeSubject, person: true},
	RoleOfficer:  {reads: readsOwn, subject: SubjectUnit, home: HomeSubject, person: true},
	RoleChief:    {reads: readsOwn, subject: SubjectStation, home: HomeSubject, person: true},
	RoleScreen:   {reads: readsAggregates, subject: SubjectNone, home: HomeScreen, screenView: true, person: true},
	RoleStation:  {reads: readsNothing, subject: SubjectStation, home: HomeOverview, postsEvents: true},
}

// Roles lists every role, in the order messages and help texts name them.
func Roles() []Role {
	return []Role{RoleAdmin, RoleLeader, RoleOfficer, RoleDistrict, RoleChief, RoleScreen, RoleStation}
}

// PersonRoles lists the roles a user account may have, in Roles' order.
func PersonRoles() []Role {
	var out []Role
	for _, r := range Roles() {
		if policies[r].person {
			out = append(out, r)
		}
	}
	return out
}

// JoinRoles names roles for a message or a help text: "a, b, c" with sep
// ", ", "a, b or c" with sep " or ".
func JoinRoles(roles []Role, sep string) string {
	var b strings.Builder
	for i, r := range roles {
		switch {
		case i == 0:
		case i == len(roles)-1:
			b.WriteString(sep)
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(r))
	}
	return b.String()
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	_, ok := policies[r]
	return ok
}

// Person reports whether a user account (a person signing in) may have r.
func (r Role) Person() bool { return policies[r].person }

// Subject is what an account of role r is tied to.
func (r Role) Subject() SubjectKind { return policies[r].subject }

// Home is where r's pages start.
func (r Role) Home() Home { return policies[r].home }

// ScreenView reports whether r sees snapshots as a command-room screen does.
func (r Role) ScreenView() bool { return policies[r].screenView }

// PostsEvents reports whether r is a station agent's, which posts events.
func (r Role) PostsEvents() bool { return policies[r].postsEvents }

// CheckSubject checks subject for an account of role r against reg: a
// role without a subject drops whatever was given (""), a district or
// station role needs one that reg has. ok is false for an unknown subject
// (or an unknown role).
func (r Role) CheckSubject(reg *Registry, subject string) (string, bool) {
	p, known := policies[r]
	switch {
	case !known:
		return "", false
	case p.subject == SubjectDistrict:
		return subject, reg.District(subject) != nil
	case p.subject == SubjectUnit:
		return subject, reg.Unit(subject) != nil
	case p.subject == SubjectStation:
		return subject, reg.Station(subject) != nil
	}
	return "", true
}

// HomeScope is the scope r's pages start at, for an account tied to
// subject: its own district or station, else the province.
func (r Role) HomeScope(subject string) Scope {
	p := policies[r]
	if p.home == HomeSubject {
		switch p.subject {
		case SubjectDistrict:
			return Scope{Kind: ScopeDistrict, ID: subject}
		case SubjectUnit:
			return Scope{Kind: ScopeUnit, ID: subject}
		case SubjectStation:
			return Scope{Kind: ScopeStation, ID: subject}
		}
	}
	return ProvinceScope
}

// CanRead reports whether an account of role r tied to subject may watch
// scope. Whether the unit or station of scope exists is not its question:
// an unknown one is a 404 for whoever may ask for it. A station belongs to
// a unit's account while reg files it under that unit, so an import that
// moves it moves who may see it.
func (r Role) CanRead(reg *Registry, subject string, scope Scope) bool {
	p := policies[r]
	switch p.reads {
	case readsEverything:
		return true
	case readsAggregates:
		return scope.Kind != ScopeStation
	case readsOwn:
		switch p.subject {
		case SubjectDistrict, SubjectUnit:
			return scope.Kind != ScopeProvince && reg.Within(scope, subject)
		case SubjectStation:
			return scope.Kind == ScopeStation && scope.ID == subject
		}
	}
	return false
}
