package readmodel

import (
	"sync"
	"time"

	"tiendo"
)

// hourMemory keeps each scope's totals of the last hour or so, as the
// snapshots were built, so that a snapshot can say how its figures moved
// since an hour ago (tiendo.HourChange). The queue and the open stations of
// an hour ago are not in the store (it keeps each station's newest
// heartbeat), so this is the only place they are known; after a restart
// the change is null for an hour.
type hourMemory struct {
	mu     sync.Mutex
	scopes map[tiendo.Scope][]totalsAt
}

type totalsAt struct {
	at     time.Time
	totals tiendo.Totals
}

// hourMemoryStep is the spacing of what is kept: one set of totals a
// minute is enough to find an hour ago within tiendo.HourChangeSlack.
const hourMemoryStep = time.Minute

// hourMemoryKeep is how far back a scope's totals are kept.
const hourMemoryKeep = time.Hour + tiendo.HourChangeSlack

// note records snap's totals (at most one a minute per scope) and sets its
// HourChange from the totals nearest to an hour before it.
func (h *hourMemory) note(c *tiendo.Campaign, snap *tiendo.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.scopes == nil {
		h.scopes = map[tiendo.Scope][]totalsAt{}
	}
	kept := h.scopes[snap.Scope]
	// A clock that went back (a replay restarted earlier) starts over.
	if n := len(kept); n > 0 && snap.Now.Before(kept[n-1].at) {
		kept = nil
	}
	// Forget what is older than needed.
	drop := 0
	for drop < len(kept) && snap.Now.Sub(kept[drop].at) > hourMemoryKeep {
		drop++
	}
	kept = kept[drop:]

	target := snap.Now.Add(-time.Hour)
	best := -1
	for i, k := range kept {
		d := k.at.Sub(target).Abs()
		if d <= tiendo.HourChangeSlack && (best < 0 || d < kept[best].at.Sub(target).Abs()) {
			best = i
		}
	}
	snap.HourChange = nil
	if best >= 0 {
		ch := c.ChangeSince(kept[best].totals, kept[best].at, snap.Totals, snap.Now)
		snap.HourChange = &ch
	}
	if n := len(kept); n == 0 || snap.Now.Sub(kept[n-1].at) >= hourMemoryStep {
		kept = append(kept, totalsAt{at: snap.Now, totals: snap.Totals})
	}
	h.scopes[snap.Scope] = kept
}
