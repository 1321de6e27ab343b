package simulate

import (
	"strconv"
	"time"

	"tiendo"
)

// AppendBatch appends events as the JSON array POST /api/v1/events takes.
// It writes every field the ingest contract requires, zeros included (a
// heartbeat's queue 0 is a fact, not a missing value).
func AppendBatch(b []byte, events []Event) []byte {
	b = append(b, '[')
	for k := range events {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendEvent(b, &events[k].Event)
	}
	return append(b, ']')
}

func appendEvent(b []byte, e *tiendo.Event) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, string(e.Type))
	b = append(b, `,"station":`...)
	b = appendString(b, e.Station)
	b = append(b, `,"ts":"`...)
	b = e.TS.AppendFormat(b, time.RFC3339)
	b = append(b, '"')
	switch e.Type {
	case tiendo.TypeHeartbeat:
		b = append(b, `,"queue":`...)
		b = strconv.AppendInt(b, int64(e.Queue), 10)
		b = append(b, `,"staff":`...)
		b = strconv.AppendInt(b, int64(e.Staff), 10)
		b = append(b, `,"lanes":`...)
		b = strconv.AppendInt(b, int64(e.Lanes), 10)
		b = append(b, `,"status":`...)
		b = appendString(b, string(e.Status))
		if e.HasPos {
			b = append(b, `,"lat":`...)
			b = strconv.AppendFloat(b, e.Lat, 'f', -1, 64)
			b = append(b, `,"lon":`...)
			b = strconv.AppendFloat(b, e.Lon, 'f', -1, 64)
		}
	case tiendo.TypeCompletion:
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(e.Count), 10)
		b = append(b, `,"fingerprint_retries":`...)
		b = strconv.AppendInt(b, int64(e.FingerprintRetries), 10)
		b = append(b, `,"kind":`...)
		b = appendString(b, string(e.Kind))
	}
	return append(b, '}')
}

// appendString writes s as a JSON string. Ids, station ids and enum values
// are printable ASCII; anything else is escaped all the same.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
