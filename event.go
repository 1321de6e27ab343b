package tiendo

import (
	"fmt"
	"math"
	"time"
)

// EventType tells a heartbeat from a completion.
type EventType string

const (
	TypeHeartbeat  EventType = "heartbeat"
	TypeCompletion EventType = "completion"
)

// StationStatus is what a heartbeat says about the station.
type StationStatus string

const (
	StatusOpen   StationStatus = "open"
	StatusPaused StationStatus = "paused"
	StatusClosed StationStatus = "closed"
	// StatusOffline is never sent; the live state uses it for a station whose
	// last heartbeat is too old to trust.
	StatusOffline StationStatus = "offline"
)

// RecordKind is the kind of enrolment a completion counts.
type RecordKind string

const (
	RecordStandard  RecordKind = "standard"
	RecordStudent   RecordKind = "student"
	RecordHomeVisit RecordKind = "home_visit"
)

// Limits of one event, shared by the decoder, the validator and the tests.
const (
	MaxEventIDLen = 64
	MaxQueue      = 100_000
	MaxStaff      = 1_000
	MaxLanes      = 50
	MaxCount      = 10_000
	MaxRetries    = 1_000_000
	MaxClockSkew  = 10 * time.Minute // how far in the future a ts may be
)

// Event is one message from a station: a heartbeat (queue, staff, status)
// or a completion (records finished since the last one). ID is made by the
// client and unique per station, so a retried event is recognised.
type Event struct {
	ID      string    `json:"id"`
	Type    EventType `json:"type"`
	Station string    `json:"station"`
	TS      time.Time `json:"ts"`

	// Heartbeat fields.
	Queue  int           `json:"queue,omitempty"`
	Staff  int           `json:"staff,omitempty"`
	Lanes  int           `json:"lanes,omitempty"`
	Status StationStatus `json:"status,omitempty"`
	HasPos bool          `json:"-"`
	Lat    float64       `json:"lat,omitempty"`
	Lon    float64       `json:"lon,omitempty"`

	// Completion fields.
	Count              int        `json:"count,omitempty"`
	FingerprintRetries int        `json:"fingerprint_retries,omitempty"`
	Kind               RecordKind `json:"kind,omitempty"`
}

// Key identifies an event for deduplication: ids are unique per station.
func (e *Event) Key() string { return e.Station + "\x00" + e.ID }

// EventKey builds the deduplication key of a station's event id.
func EventKey(station, id string) string { return station + "\x00" + id }

// ValidEventID reports whether id is an acceptable client event id:
// 1–64 printable ASCII characters without spaces.
func ValidEventID(id string) bool {
	if len(id) == 0 || len(id) > MaxEventIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// EventRules are what an event is checked against besides its own shape.
type EventRules struct {
	Campaign *Campaign
	Now      time.Time // the real time, for the future-timestamp check
	Known    func(station string) bool
}

// Validate checks one event whose fields have been decoded. It returns the
// problems found, each naming a field; index is the event's position in its batch.
func (e *Event) Validate(index int, rules EventRules) []FieldError {
	var errs []FieldError
	add := func(field, reason string) {
		errs = append(errs, FieldError{Index: index, Field: field, Reason: reason})
	}
	if !ValidEventID(e.ID) {
		add("id", fmt.Sprintf("required: 1–%d printable characters without spaces", MaxEventIDLen))
	}
	if e.Station == "" {
		add("station", "required")
	} else if !ValidStationID(e.Station) || (rules.Known != nil && !rules.Known(e.Station)) {
		add("station", fmt.Sprintf("unknown station %q", e.Station))
	}
	if e.TS.IsZero() {
		add("ts", "required: RFC 3339 time with offset, e.g. 2021-03-20T21:15:03+07:00")
	} else {
		if rules.Campaign != nil && e.TS.Before(rules.Campaign.StartTime()) {
			add("ts", fmt.Sprintf("before the campaign start (%s)", rules.Campaign.StartTime().Format(time.RFC3339)))
		}
		if !rules.Now.IsZero() && e.TS.After(rules.Now.Add(MaxClockSkew)) {
			add("ts", fmt.Sprintf("in the future (more than %v ahead of the server clock %s)", MaxClockSkew, rules.Now.UTC().Format(time.RFC3339)))
		}
	}
	switch e.Type {
	case TypeHeartbeat:
		if e.Queue < 0 || e.Queue > MaxQueue {
			add("queue", fmt.Sprintf("must be between 0 and %d", MaxQueue))
		}
		if e.Staff < 0 || e.Staff > MaxStaff {
			add("staff", fmt.Sprintf("must be between 0 and %d", MaxStaff))
		}
		if e.Lanes < 0 || e.Lanes > MaxLanes {
			add("lanes", fmt.Sprintf("must be between 0 and %d", MaxLanes))
		}
		switch e.Status {
		case StatusOpen, StatusPaused, StatusClosed:
		default:
			add("status", "must be open, paused or closed")
		}
		if e.HasPos {
			if math.IsNaN(e.Lat) || e.Lat < -90 || e.Lat > 90 {
				add("lat", "must be between -90 and 90")
			}
			if math.IsNaN(e.Lon) || e.Lon < -180 || e.Lon > 180 {
				add("lon", "must be between -180 and 180")
			}
		}
	case TypeCompletion:
		if e.Count < 1 || e.Count > MaxCount {
			add("count", fmt.Sprintf("must be between 1 and %d", MaxCount))
		}
		if e.FingerprintRetries < 0 || e.FingerprintRetries > MaxRetries {
			add("fingerprint_retries", fmt.Sprintf("must be between 0 and %d", MaxRetries))
		}
		switch e.Kind {
		case RecordStandard, RecordStudent, RecordHomeVisit:
		default:
			add("kind", "must be standard, student or home_visit")
		}
	case "":
		add("type", "required: heartbeat or completion")
	default:
		add("type", fmt.Sprintf("unknown type %q: want heartbeat or completion", e.Type))
	}
	return errs
}
