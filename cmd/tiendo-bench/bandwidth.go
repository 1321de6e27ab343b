package main

import (
	"compress/flate"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/dashboards"
	"tiendo/readmodel"
	"tiendo/simulate"
)

// runBandwidth measures what one screen receives per minute at campaign
// (replay) speed, as make demo replays: the simulated campaign's events,
// delivered as the simulator sends them, into a readmodel.Model over an
// EventLog (the same rules as the server's spool over ClickHouse, without
// a ClickHouse), a round every --round of a virtual wall clock that runs
// --speed times slower than the campaign's. The same figures of each round
// go to two publishers, one sending the updates before patches
// (readmodel.UpdatesWhole) and one sending patches (UpdatesPatch), and to
// a third count: a full snapshot every round. Every message is counted as
// published (the bytes of a WebSocket frame's payload), for the province
// overview at a desk, a district's page and /screen (the province as a
// command-room screen sees it, dark); alerts and notes are not simulated.
func runBandwidth(args []string) error {
	fs := flag.NewFlagSet("bandwidth", flag.ContinueOnError)
	from := fs.String("from", "2021-03-10", "first working day replayed (make demo starts at the campaign's start)")
	days := fs.Int("days", 3, "working days replayed")
	speed := fs.Float64("speed", 1440, "simulated seconds per wall second (make demo: 1440, a day a minute)")
	round := fs.Duration("round", 500*time.Millisecond, "wall time between rounds (the publisher's floor under steady events)")
	district := fs.String("district", "LS-VL", "the district whose page is measured")
	seed := fs.Uint64("seed", 1, "simulator seed")
	limit := fs.Float64("limit", 50, "KB/s a 3G/4G screen may take (peak over 10 s of patches)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	first, err := tiendo.ParseDay(*from)
	if err != nil {
		return err
	}
	if *days < 1 || *speed <= 0 || *round <= 0 {
		return fmt.Errorf("--days, --speed and --round must be positive")
	}
	c, stations := langson2021.Campaign(), langson2021.Stations()
	reg := tiendo.NewRegistry(c, c.Districts, stations)
	if reg.District(*district) == nil {
		return fmt.Errorf("--district %s: no such district", *district)
	}
	model, err := simulate.NewModel(c, stations, *seed, simulate.DefaultParams())
	if err != nil {
		return err
	}
	last := first + tiendo.Day(*days-1)
	var events []simulate.Event
	for d := first; d <= last; d++ {
		for i := range stations {
			evs, _ := model.Day(i, d, nil)
			events = append(events, evs...)
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Deliver.Before(events[j].Deliver) })

	views := []bandwidthView{
		{"province, desk (/)", readmodel.Topic{Scope: tiendo.ProvinceScope, Lang: "vi"}},
		{"district " + *district + " (/district)", readmodel.Topic{Scope: tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: *district}, Lang: "vi"}},
		{"/screen (province, screen view)", readmodel.Topic{Scope: tiendo.ProvinceScope, Lang: "vi", Dark: true, Screen: true}},
	}
	var topics []string
	for _, v := range views {
		topics = append(topics, v.topic.String())
	}

	log := &readmodel.EventLog{}
	now := c.DayStart(first)
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	figs := &roundFigures{m: readmodel.New(log.Sources(reg, func() time.Time { return now }))}
	modes := []string{"full snapshot every round", "updates before patches", "patches", "patches, deflated (as browsers get them)"}
	hubs := make([]*countingHub, len(modes))
	for i := range hubs {
		hubs[i] = &countingHub{topics: topics, sizes: map[string][]int{}, charts: map[string]int{}}
	}
	hubs[2].also, hubs[3].charts = hubs[3], nil
	pubs := []*readmodel.Publisher{
		readmodel.NewPublisher(readmodel.PublisherConfig{Figures: figs, Hub: hubs[1], Build: "bench", Now: func() time.Time { return wall },
			Updates: readmodel.UpdatesWhole}),
		readmodel.NewPublisher(readmodel.PublisherConfig{Figures: figs, Hub: hubs[2], Build: "bench", Now: func() time.Time { return wall },
			Updates: readmodel.UpdatesPatch}),
	}
	end := c.DayStart(last + 1)
	step := time.Duration(float64(*round) * *speed)
	next, rounds := 0, 0
	t0 := time.Now()
	for now.Before(end) {
		now, wall = now.Add(step), wall.Add(*round)
		var batch []tiendo.Event
		for next < len(events) && !events[next].Deliver.After(now) {
			batch = append(batch, events[next].Event)
			next++
		}
		log.Add(batch...)
		figs.reset()
		for _, p := range pubs {
			p.Round(context.Background())
		}
		for _, tp := range topics {
			hubs[0].Publish(tp, pubs[1].SnapshotFor(tp))
		}
		log.EndRound()
		rounds++
	}
	took := time.Since(t0)

	minutes := float64(rounds) * round.Minutes()
	fmt.Printf("== bandwidth: bytes per screen at campaign speed (simulated %s to %s, speed %.0f, a round every %v: %d rounds, %.1f wall minutes; %d events; computed in %v) ==\n",
		first, last, *speed, *round, rounds, minutes, len(events), took.Round(time.Second))
	fmt.Println("Each view's messages as published, the first (its snapshot) left out; peak: the most bytes in 10 s of wall time; charts: their share of the bytes.")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "view\tmessages\tsent\tKB per minute\tKB/s\tpeak KB/s (10 s)\tmean message KB\tlargest KB\tcharts\tvs before patches\t")
	var miss []string
	window := max(1, int(10*time.Second / *round))
	for _, v := range views {
		tp := v.topic.String()
		var before float64
		for i, h := range hubs {
			sizes := h.sizes[tp]
			if len(sizes) > 0 {
				sizes = sizes[1:] // the snapshot every screen gets once
			}
			total, largest, peak := 0, 0, 0
			for j, s := range sizes {
				total += s
				largest = max(largest, s)
				w := 0
				for k := max(0, j-window+1); k <= j; k++ {
					w += sizes[k]
				}
				peak = max(peak, w)
			}
			perMin := float64(total) / 1024 / minutes
			ratio := ""
			switch i {
			case 1:
				before = perMin
			case 2, 3:
				if before > 0 {
					ratio = fmt.Sprintf("%.2f (%.1f× less)", perMin/before, before/perMin)
				}
				// The budget is judged on what a browser receives: the
				// patches, compressed once per message (server/ws.go).
				if kbs := float64(peak) / 1024 / 10; i == 3 && kbs > *limit {
					miss = append(miss, fmt.Sprintf("%s: %.1f KB/s at its peak", v.name, kbs))
				}
			}
			name := v.name
			if i > 0 {
				name = ""
			}
			share := ""
			if h.charts != nil && total > 0 {
				share = fmt.Sprintf("%.0f %%", 100*float64(h.charts[tp])/float64(total))
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t\n", name, modes[i], len(sizes), perMin, perMin/60,
				float64(peak)/1024/10, float64(total)/1024/float64(max(len(sizes), 1)), float64(largest)/1024, share, ratio)
		}
	}
	tw.Flush()
	if len(miss) > 0 {
		fmt.Printf("MISS: over %.0f KB/s as browsers get them (patches, deflated): %s\n", *limit, strings.Join(miss, "; "))
	} else {
		fmt.Printf("PASS: as browsers get them (patches, deflated) every view stays under %.0f KB/s (3G/4G), also at its 10-s peak\n", *limit)
	}
	return nil
}

type bandwidthView struct {
	name  string
	topic readmodel.Topic
}

// roundFigures computes each scope's figures once per round for both publishers.
type roundFigures struct {
	m     *readmodel.Model
	cache map[tiendo.Scope]dashboards.Input
}

func (f *roundFigures) reset() { f.cache = map[tiendo.Scope]dashboards.Input{} }

// Snapshot is the round's ChartInput's snapshot: both publishers then
// send the same figures, whether or not their charts are due.
func (f *roundFigures) Snapshot(ctx context.Context, scope tiendo.Scope) (*tiendo.Snapshot, error) {
	in, err := f.ChartInput(ctx, scope)
	return in.Snapshot, err
}

func (f *roundFigures) ChartInput(ctx context.Context, scope tiendo.Scope) (dashboards.Input, error) {
	if in, ok := f.cache[scope]; ok {
		return in, nil
	}
	in, err := f.m.ChartInput(ctx, scope)
	if err == nil {
		f.cache[scope] = in
	}
	return in, err
}

// countingHub records the size of every message published on its topics;
// also, if set, records each message's size deflated as permessage-deflate
// would send it without context takeover (each message alone, at
// gorilla/fasthttp websocket's default level, so that one compression
// serves every subscriber).
type countingHub struct {
	topics []string
	sizes  map[string][]int
	charts map[string]int // bytes of chart options or patches, after the first message
	also   *countingHub
}

func (h *countingHub) Topics() []string { return h.topics }

func (h *countingHub) Publish(topic string, msg []byte) int {
	if len(h.sizes[topic]) > 0 && h.charts != nil {
		var m struct{ Charts json.RawMessage }
		_ = json.Unmarshal(msg, &m)
		h.charts[topic] += len(m.Charts)
	}
	h.sizes[topic] = append(h.sizes[topic], len(msg))
	if h.also != nil {
		h.also.sizes[topic] = append(h.also.sizes[topic], deflatedSize(msg))
	}
	return 1
}

func deflatedSize(msg []byte) int {
	var n countWriter
	w, _ := flate.NewWriter(&n, flate.BestSpeed)
	w.Write(msg)
	w.Flush()
	return int(n) - 4 // permessage-deflate drops the flush's 00 00 ff ff
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
