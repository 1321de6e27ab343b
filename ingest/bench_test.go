package ingest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tiendo"
	"tiendo/ingest"
	"tiendo/store/local"
)

// Benchmarks of the ingest hot path (issue 6), run by make bench with
// -benchmem: decoding a station's batch, and the spool transaction that
// makes a group of events durable before the 202.

var benchTS = time.Date(2021, 3, 20, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// benchEvents is a realistic batch: heartbeats every few minutes with a
// completion now and then (the simulator's mix is about 1 in 16).
func benchEvents(station string, n, from int) []tiendo.Event {
	evs := make([]tiendo.Event, n)
	for i := range evs {
		k := from + i
		ts := benchTS.Add(time.Duration(k) * 20 * time.Second)
		if k%16 == 15 {
			evs[i] = tiendo.Event{ID: fmt.Sprintf("c-%d", k), Type: tiendo.TypeCompletion, Station: station, TS: ts,
				Count: 1 + k%3, FingerprintRetries: k % 2, Kind: tiendo.RecordStandard}
			continue
		}
		evs[i] = tiendo.Event{ID: fmt.Sprintf("h-%d", k), Type: tiendo.TypeHeartbeat, Station: station, TS: ts,
			Queue: k % 40, Staff: 4, Lanes: 3, Status: tiendo.StatusOpen, HasPos: true, Lat: 21.853, Lon: 106.761}
	}
	return evs
}

func benchBody(evs []tiendo.Event, ndjson bool) []byte {
	var b strings.Builder
	if !ndjson {
		b.WriteByte('[')
	}
	for i, e := range evs {
		if i > 0 {
			if ndjson {
				b.WriteByte('\n')
			} else {
				b.WriteByte(',')
			}
		}
		fmt.Fprintf(&b, `{"id":%q,"type":%q,"station":%q,"ts":%q`, e.ID, e.Type, e.Station, e.TS.Format(time.RFC3339))
		if e.Type == tiendo.TypeHeartbeat {
			fmt.Fprintf(&b, `,"queue":%d,"staff":%d,"lanes":%d,"status":%q,"lat":%v,"lon":%v}`, e.Queue, e.Staff, e.Lanes, e.Status, e.Lat, e.Lon)
		} else {
			fmt.Fprintf(&b, `,"count":%d,"fingerprint_retries":%d,"kind":%q}`, e.Count, e.FingerprintRetries, e.Kind)
		}
	}
	if !ndjson {
		b.WriteByte(']')
	}
	return []byte(b.String())
}

// BenchmarkDecode decodes one 50-event batch, as a JSON array and as NDJSON.
func BenchmarkDecode(b *testing.B) { benchmarkDecoder(b, ingest.Decode) }

// benchmarkDecoder times decode on one 50-event batch in both encodings.
func benchmarkDecoder(b *testing.B, decode func([]byte, bool) ([]tiendo.Event, []tiendo.FieldError, error)) {
	evs := benchEvents("LS-TP-CHILANG", 50, 0)
	for _, ndjson := range []bool{false, true} {
		name := "array"
		if ndjson {
			name = "ndjson"
		}
		body := benchBody(evs, ndjson)
		b.Run(fmt.Sprintf("%s/events=50", name), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				got, problems, err := decode(body, ndjson)
				if err != nil || len(problems) > 0 || len(got) != 50 {
					b.Fatalf("decode: %v %v %d", err, problems, len(got))
				}
			}
			b.ReportMetric(50*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSpoolAccept runs the spool's Accept: dedupe against the ledger,
// append to the spool, one fsynced bbolt commit. A group of 50 events is
// one station's batch; larger groups show what group commit saves.
func BenchmarkSpoolAccept(b *testing.B) {
	limits := ingest.DefaultBatcherConfig.Limits
	for _, n := range []int{1, 50, 1000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			db, err := local.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			groups := make([][]tiendo.Event, 0, 64)
			next := 0
			refill := func() {
				groups = groups[:0]
				for range 64 {
					groups = append(groups, benchEvents("LS-TP-CHILANG", n, next))
					next += n
				}
			}
			refill()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == len(groups) {
					b.StopTimer()
					refill()
					i = 0
					b.StartTimer()
				}
				fresh, err := db.Accept(groups[i], limits)
				if err != nil || !fresh[0] {
					b.Fatalf("accept: %v", err)
				}
				i++
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSpoolDrain is the flusher's side of the spool for one flush of
// n events: ReadSpool (decode, a read-only transaction) and AckSpool (delete,
// the one write transaction), without the ClickHouse insert. The batcher's
// Accept waits while AckSpool holds bbolt's single writer.
func BenchmarkSpoolDrain(b *testing.B) {
	limits := ingest.DefaultBatcherConfig.Limits
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			db, err := local.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			next := 0
			var acking time.Duration
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for k := 0; k < n; k += 5000 {
					if _, err := db.Accept(benchEvents("LS-TP-CHILANG", min(5000, n-k), next), limits); err != nil {
						b.Fatal(err)
					}
					next += 5000
				}
				b.StartTimer()
				batch, err := db.ReadSpool(n)
				if err != nil || len(batch.Events) != n {
					b.Fatalf("read spool: %v (%d events)", err, len(batch.Events))
				}
				t0 := time.Now()
				if err := db.AckSpool(batch.First, batch.Last); err != nil {
					b.Fatal(err)
				}
				acking += time.Since(t0)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			// How long each flush holds bbolt's writer (Accept waits that long).
			b.ReportMetric(float64(acking.Nanoseconds())/float64(b.N), "ack-ns/op")
		})
	}
}
