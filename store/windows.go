package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"tiendo"
)

// StationWindows answers from completions_hour for the whole hours inside
// each window and from completions_minute for the minutes at its edges, so
// that a window is counted exactly by minute (tiendo.Window) while a span
// of months reads hour rows, not minute rows. A working day whose bounds
// fall on whole hours (every zone with a whole-hour offset) reads no minute
// rows at all. The two reads run side by side like StationStats' parts.
func (db *DB) StationWindows(ctx context.Context, q tiendo.WindowQuery) ([]tiendo.StationWindows, error) {
	if q.Stations != nil && len(q.Stations) == 0 || len(q.Windows) == 0 {
		return nil, nil
	}
	hourConds := make([]string, len(q.Windows))
	minuteConds := make([]string, len(q.Windows))
	for i, w := range q.Windows {
		hourConds[i], minuteConds[i] = windowConds(w)
	}
	var station string
	if q.Stations != nil {
		station = "station IN " + InSet(q.Stations) + " AND "
	}
	var parts []string
	for _, p := range []struct {
		table, column string
		conds         []string
	}{
		{"completions_hour", "hour", hourConds},
		{"completions_minute", "minute", minuteConds},
	} {
		var cols, used []string
		for _, c := range p.conds {
			if c == "" {
				cols = append(cols, "toInt64(0), toInt64(0)")
				continue
			}
			cols = append(cols, fmt.Sprintf("toInt64(sumIf(records, %[1]s)), toInt64(sumIf(retries, %[1]s))", c))
			used = append(used, "("+c+")")
		}
		if len(used) == 0 {
			continue
		}
		cond := strings.NewReplacer("{t}", p.column).Replace(strings.Join(used, " OR "))
		parts = append(parts, db.sql("SELECT station, %s FROM {db}.%s WHERE %s(%s) GROUP BY station",
			strings.NewReplacer("{t}", p.column).Replace(strings.Join(cols, ", ")), p.table, station, cond))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	rows, err := db.queryParts(ctx, parts)
	if err != nil {
		return nil, fmt.Errorf("station windows: %w", err)
	}
	byStation := map[string]*tiendo.StationWindows{}
	for _, r := range rows {
		id := r[0].(string)
		s := byStation[id]
		if s == nil {
			s = &tiendo.StationWindows{Station: id, Records: make([]int64, len(q.Windows)), Retries: make([]int64, len(q.Windows))}
			byStation[id] = s
		}
		for i := range q.Windows {
			s.Records[i] += r[1+2*i].(int64)
			s.Retries[i] += r[2+2*i].(int64)
		}
	}
	out := make([]tiendo.StationWindows, 0, len(byStation))
	for _, s := range byStation {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Station < out[j].Station })
	return out, nil
}

// windowConds splits w into the condition on completions_hour's hours
// that lie whole inside it and the condition on completions_minute's
// minutes left at its edges ("" for none); {t} stands for the time column.
func windowConds(w tiendo.Window) (hours, minutes string) {
	from, to := w.From.UTC(), w.To.UTC()
	if !w.From.IsZero() && !from.Before(to) {
		return "", ""
	}
	span := func(a, b time.Time, open bool) string {
		if open {
			return fmt.Sprintf("{t} < toDateTime(%d, 'UTC')", b.Unix())
		}
		return fmt.Sprintf("{t} >= toDateTime(%d, 'UTC') AND {t} < toDateTime(%d, 'UTC')", a.Unix(), b.Unix())
	}
	open := w.From.IsZero()
	firstHour := from.Truncate(time.Hour) // the first whole hour: From's, or the next one
	if firstHour.Before(from) {
		firstHour = firstHour.Add(time.Hour)
	}
	lastHour := to.Truncate(time.Hour) // where the whole hours end
	if !open && !firstHour.Before(lastHour) {
		return "", span(from, to, false) // no whole hour inside: minutes only
	}
	hours = span(firstHour, lastHour, open)
	var edges []string
	if !open && from.Before(firstHour) {
		edges = append(edges, "("+span(from, firstHour, false)+")")
	}
	if lastHour.Before(to) {
		edges = append(edges, "("+span(lastHour, to, false)+")")
	}
	return hours, strings.Join(edges, " OR ")
}
