package readmodel

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrResync is a Follower's answer to an update that does not follow the
// seq it holds: the client asks for a fresh snapshot ({"type":"resync"}).
var ErrResync = errors.New("live: gap in seq, resync")

// Follower is a live client's state in Go, as static/assets/livepatch.js
// keeps it in the browser: the topic's snapshot and charts at Seq, from a
// snapshot message and the updates that follow it. tiendo-bench's
// decoding screens and the tests use it.
type Follower struct {
	Seq      uint64
	snapshot tree
	charts   tree
}

// Feed takes one live message. A snapshot replaces the state; an update
// applies to it when its seq is the next one, is ignored when older, and
// is ErrResync after a gap (or before any snapshot). Status messages
// change nothing. It returns the message's type.
func (f *Follower) Feed(msg []byte) (string, error) {
	var m struct {
		Type     string          `json:"type"`
		Seq      uint64          `json:"seq"`
		Snapshot json.RawMessage `json:"snapshot"`
		Charts   json.RawMessage `json:"charts"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		return "", err
	}
	switch m.Type {
	case "snapshot":
		s, err := decodeTree(m.Snapshot)
		if err != nil {
			return m.Type, err
		}
		c := tree(map[string]any{})
		if len(m.Charts) > 0 {
			if c, err = decodeTree(m.Charts); err != nil {
				return m.Type, err
			}
		}
		f.Seq, f.snapshot, f.charts = m.Seq, s, c
	case "update":
		if f.snapshot == nil || m.Seq > f.Seq+1 {
			return m.Type, ErrResync
		}
		if m.Seq <= f.Seq {
			return m.Type, nil
		}
		sp, err := decodePatch(m.Snapshot)
		if err != nil {
			return m.Type, err
		}
		s, err := applyTree(f.snapshot, sp)
		if err != nil {
			return m.Type, fmt.Errorf("seq %d: snapshot: %w", m.Seq, err)
		}
		c := f.charts
		if len(m.Charts) > 0 {
			cp, err := decodePatch(m.Charts)
			if err != nil {
				return m.Type, err
			}
			if c, err = applyTree(f.charts, cp); err != nil {
				return m.Type, fmt.Errorf("seq %d: charts: %w", m.Seq, err)
			}
		}
		f.Seq, f.snapshot, f.charts = m.Seq, s, c
	}
	return m.Type, nil
}

// Snapshot is the snapshot held, as JSON (nil before the first snapshot).
func (f *Follower) Snapshot() []byte {
	if f.snapshot == nil {
		return nil
	}
	b, _ := json.Marshal(f.snapshot)
	return b
}

// Charts is the charts held, as JSON.
func (f *Follower) Charts() []byte {
	b, _ := json.Marshal(f.charts)
	return b
}

// Value is the snapshot's member at path (e.g. "totals", "completed"),
// decoded into v; false when there is none.
func (f *Follower) Value(v any, path ...string) bool {
	cur := f.snapshot
	for _, k := range path {
		o, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = o[k]; !ok {
			return false
		}
	}
	b, err := json.Marshal(cur)
	return err == nil && json.Unmarshal(b, v) == nil
}
