package tiendo

import "time"

// Alerts tell the command room what needs a call now (DECISIONS.md,
// Alerts). The server opens and resolves them each round as their
// conditions change; people acknowledge them.

// AlertKind is what an alert is about.
type AlertKind string

const (
	AlertSilent    AlertKind = "silent"     // a station that said it was open has sent no heartbeat for a while
	AlertLongWait  AlertKind = "long_wait"  // a wait over the campaign's long wait
	AlertLateClose AlertKind = "late_close" // a queue that clears after the late hour
	AlertSlowdown  AlertKind = "slowdown"   // the last hour under half of the same hour yesterday, with a queue
	AlertBehind    AlertKind = "behind"     // a district's or a province's pace turned behind
)

// Alert is one alert, open or resolved. Station, District or Unit names
// what it is about (District alone for a district's pace, Unit alone for
// the pace of a unit above the districts: a province of the nation).
type Alert struct {
	ID       string    `json:"id"`
	Kind     AlertKind `json:"kind"`
	Station  string    `json:"station,omitempty"`
	District string    `json:"district,omitempty"`
	Unit     string    `json:"unit,omitempty"`
	Since    time.Time `json:"since"`
	// Severity is "warning" or "critical".
	Severity string `json:"severity"`
	// Value is the figure that crossed the threshold: minutes silent or
	// waiting, minutes past the late hour, the ratio to yesterday, the gap.
	Value    float64    `json:"value"`
	AckedBy  string     `json:"acked_by,omitempty"`
	AckedAt  *time.Time `json:"acked_at"`
	Resolved *time.Time `json:"resolved_at,omitempty"`
}
