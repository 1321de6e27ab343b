package dashboards

import (
	"fmt"
	"strconv"
	"strings"

	"tiendo"
)

// The charts show the snapshot's Pace objects; nothing here judges a
// target. These helpers only put a PaceState into colour and words, in one
// place, so that the progress chart's forecast, the districts chart's bars
// and their subtitles cannot name the same state differently.

// paceMissed reports whether a state is one a reader must act on: the
// deadline will be (behind) or was (ended) missed. These states, and only
// these, are drawn in the "behind" colour.
func paceMissed(s tiendo.PaceState) bool {
	return s == tiendo.PaceBehind || s == tiendo.PaceEnded
}

// stateWord is a pace state in the reader's language.
func (v *view) stateWord(s tiendo.PaceState) string {
	if w, ok := v.tx.paceState[s]; ok {
		return w
	}
	return string(s)
}

// methodDays reads the window out of a Pace.Method such as
// "last_7_working_days"; ok is false for a method this package does not
// know how to name, which the subtitle then calls "the recent pace".
func methodDays(method string) (days int, ok bool) {
	n, prefixed := strings.CutPrefix(method, "last_")
	n, suffixed := strings.CutSuffix(n, "_working_days")
	if !prefixed || !suffixed {
		return 0, false
	}
	days, err := strconv.Atoi(n)
	return days, err == nil && days >= 0
}

// recentPace says which pace the projection uses and how fast it is:
// "at the last 7 working days' pace: 7,942 records/day". Empty before the
// pace has a complete working day behind it.
func (v *view) recentPace(p *tiendo.Pace) string {
	days, named := methodDays(p.Method)
	perDay := v.fmtInt(p.RecentPerDay)
	switch {
	case named && days == 0, !named && p.RecentPerDay <= 0:
		return ""
	case !named:
		return fmt.Sprintf(v.tx.paceRecent, perDay)
	case days == 1:
		return fmt.Sprintf(v.tx.paceLastDay, perDay)
	}
	return fmt.Sprintf(v.tx.paceLastDays, days, perDay)
}
