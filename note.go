package tiendo

import "time"

// Note is an annotation on the campaign's timeline by a district officer
// ("mobile team at THPT Bắc Sơn, 14–17 h"), shown on the progress and
// throughput charts of the scopes it belongs to.
type Note struct {
	ID       string    `json:"id"`
	District string    `json:"district"`          // the district it belongs to
	Station  string    `json:"station,omitempty"` // and the station, if about one
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Text     string    `json:"text"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}
