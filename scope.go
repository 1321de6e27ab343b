package tiendo

import "strings"

// ScopeKind is the level a screen watches.
type ScopeKind string

const (
	ScopeProvince ScopeKind = "province"
	ScopeDistrict ScopeKind = "district"
	ScopeStation  ScopeKind = "station"
	// ScopeUnit is a unit of the campaign's tree at any level; a
	// registry resolves one at district level to ScopeDistrict.
	ScopeUnit ScopeKind = "unit"
)

// Scope is what a page or WebSocket subscription watches: the whole
// campaign ("province", kept for the links of a province campaign), one
// unit of its tree, one district, or one station.
type Scope struct {
	Kind ScopeKind
	ID   string // empty for the province
}

// ProvinceScope is the scope of the whole campaign.
var ProvinceScope = Scope{Kind: ScopeProvince}

// ParseScope parses "province", "unit:<id>", "district:<id>" or
// "station:<id>".
// It returns an EInvalid *Error for anything else.
func ParseScope(s string) (Scope, error) {
	if s == "" || s == "province" {
		return ProvinceScope, nil
	}
	kind, id, ok := strings.Cut(s, ":")
	if ok && id != "" && ValidStationID(id) {
		switch ScopeKind(kind) {
		case ScopeDistrict, ScopeStation, ScopeUnit:
			return Scope{Kind: ScopeKind(kind), ID: id}, nil
		}
	}
	return Scope{}, &Error{Code: EInvalid, Message: "invalid scope",
		Fields: []FieldError{{Index: -1, Field: "scope", Reason: "want province, unit:<id>, district:<id> or station:<id>"}}}
}

func (s Scope) String() string {
	if s.Kind == ScopeProvince {
		return "province"
	}
	return string(s.Kind) + ":" + s.ID
}

// MarshalText writes the scope in ParseScope's form.
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the scope in ParseScope's form.
func (s *Scope) UnmarshalText(b []byte) error {
	v, err := ParseScope(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
