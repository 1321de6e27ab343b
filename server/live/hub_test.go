package live

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeConn records what it is sent. If block is set, Write waits on it,
// modelling a client that stopped reading.
type fakeConn struct {
	mu     sync.Mutex
	got    [][]byte
	block  chan struct{}
	fail   bool
	closed atomic.Bool
	recv   chan []byte
}

func newFake() *fakeConn { return &fakeConn{recv: make(chan []byte, 1024)} }

func (f *fakeConn) Write(msg []byte) error {
	if f.block != nil {
		<-f.block
	}
	if f.fail {
		return errors.New("broken pipe")
	}
	f.mu.Lock()
	f.got = append(f.got, msg)
	f.mu.Unlock()
	f.recv <- msg
	return nil
}

func (f *fakeConn) Close() error { f.closed.Store(true); return nil }

func (f *fakeConn) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-f.recv:
		return string(m)
	case <-time.After(2 * time.Second):
		t.Fatal("no message within 2s")
		return ""
	}
}

func TestSnapshotFirstThenUpdatesInOrder(t *testing.T) {
	h := NewHub()
	c := newFake()
	cl := h.Subscribe("province|vi|light", c, []byte("snap"))
	for i := 1; i <= 5; i++ {
		h.Publish("province|vi|light", []byte(fmt.Sprintf("u%d", i)))
	}
	want := []string{"snap", "u1", "u2", "u3", "u4", "u5"}
	for _, w := range want {
		if got := c.next(t); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	cl.Close()
	<-cl.Done()
	if !c.closed.Load() {
		t.Error("conn not closed after Close")
	}
	if h.Stats().Clients != 0 || len(h.Topics()) != 0 {
		t.Errorf("stats after close = %+v, topics %v", h.Stats(), h.Topics())
	}
}

func TestPublishReachesOnlyItsTopic(t *testing.T) {
	h := NewHub()
	a, b := newFake(), newFake()
	h.Subscribe("station:A|vi|light", a, nil)
	h.Subscribe("station:B|vi|light", b, nil)
	if n := h.Publish("station:A|vi|light", []byte("x")); n != 1 {
		t.Fatalf("delivered to %d, want 1", n)
	}
	if got := a.next(t); got != "x" {
		t.Fatalf("A got %q", got)
	}
	select {
	case m := <-b.recv:
		t.Fatalf("B got %q from A's topic", m)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestSameBytesSharedByAllSubscribers(t *testing.T) {
	h := NewHub()
	conns := make([]*fakeConn, 10)
	for i := range conns {
		conns[i] = newFake()
		h.Subscribe("t", conns[i], nil)
	}
	msg := []byte("shared")
	h.Publish("t", msg)
	for _, c := range conns {
		c.next(t)
		c.mu.Lock()
		if &c.got[0][0] != &msg[0] {
			t.Error("subscriber got a copy, not the one serialised message")
		}
		c.mu.Unlock()
	}
}

// A client that stops reading is dropped once its queue is full, and the
// others keep getting every message without waiting for it.
func TestSlowClientDroppedOthersUnaffected(t *testing.T) {
	h := NewHub()
	slow := newFake()
	slow.block = make(chan struct{})
	defer close(slow.block)
	fast := newFake()
	h.Subscribe("t", slow, nil)
	h.Subscribe("t", fast, nil)
	// Publish at the pace the fast client reads: the slow one falls a
	// whole queue behind and is dropped; the fast one gets every message.
	for i := 0; i < QueueSize+10; i++ {
		start := time.Now()
		h.Publish("t", []byte{byte(i)})
		if took := time.Since(start); took > 100*time.Millisecond {
			t.Fatalf("publish %d took %v: the slow client held up the publisher", i, took)
		}
		if got := fast.next(t); got != string([]byte{byte(i)}) {
			t.Fatalf("fast client message %d = %q", i, got)
		}
	}
	if !slow.closed.Load() {
		t.Fatal("slow client was not disconnected")
	}
	st := h.Stats()
	if st.DroppedSlow != 1 || st.Clients != 1 {
		t.Fatalf("stats = %+v, want 1 slow drop and 1 client left", st)
	}
}

func TestWriteErrorDropsClient(t *testing.T) {
	h := NewHub()
	bad := newFake()
	bad.fail = true
	cl := h.Subscribe("t", bad, []byte("snap"))
	select {
	case <-cl.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("client with a failing connection was not dropped")
	}
	// Publishing to a topic whose client died must not panic or block.
	for i := 0; i < 2*QueueSize; i++ {
		h.Publish("t", []byte("x"))
	}
	if st := h.Stats(); st.DroppedError != 1 || st.Clients != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestOnSubscribeOncePerNewTopic(t *testing.T) {
	h := NewHub()
	var calls atomic.Int32
	h.OnSubscribe = func(string) { calls.Add(1) }
	h.Subscribe("t", newFake(), nil)
	h.Subscribe("t", newFake(), nil)
	h.Subscribe("u", newFake(), nil)
	if got := calls.Load(); got != 2 {
		t.Fatalf("OnSubscribe called %d times, want 2", got)
	}
}

// Concurrent subscribe, publish, send and close, for the race detector.
func TestConcurrentChurn(t *testing.T) {
	h := NewHub()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				h.Publish("t", []byte("m"))
			}
		}
	}()
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				c := newFake()
				c.recv = make(chan []byte, 1<<16)
				cl := h.Subscribe("t", c, []byte("s"))
				cl.Send([]byte("resync"))
				cl.Close()
				<-cl.Done()
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if st := h.Stats(); st.Clients != 0 {
		t.Fatalf("clients left: %+v", st)
	}
}

// discardConn is a connection that accepts everything at once.
type discardConn struct{ n atomic.Int64 }

func (d *discardConn) Write(msg []byte) error { d.n.Add(1); return nil }
func (d *discardConn) Close() error           { return nil }

// BenchmarkBroadcast publishes one 20 KB message to 1,000 subscribers per op.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := NewHub()
			conns := make([]*discardConn, n)
			for i := range conns {
				conns[i] = &discardConn{}
				h.Subscribe("t", conns[i], nil)
			}
			msg := make([]byte, 20<<10)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for h.Publish("t", msg) != n {
					b.Fatal("a subscriber was dropped")
				}
				// Let writers drain so queues never fill in the benchmark.
				for _, c := range conns {
					for c.n.Load() < int64(i+1) {
					}
				}
			}
			b.ReportMetric(float64(n), "subscribers")
		})
	}
}

// preparedConn writes Messages itself and counts how often one was prepared.
type preparedConn struct {
	fakeConn
	prepares *atomic.Int64
}

func (p *preparedConn) WritePrepared(m *Message) error {
	frame := m.Prepared(func(b []byte) any { p.prepares.Add(1); return "frame:" + string(b) }).(string)
	return p.Write([]byte(frame))
}

// A transport that prepares what it writes (a compressed frame) does it
// once per published message, whatever the number of subscribers.
func TestPreparedOncePerMessage(t *testing.T) {
	h := NewHub()
	var prepares atomic.Int64
	conns := make([]*preparedConn, 20)
	for i := range conns {
		conns[i] = &preparedConn{fakeConn: fakeConn{recv: make(chan []byte, 16)}, prepares: &prepares}
		h.Subscribe("t", conns[i], nil)
	}
	h.Publish("t", []byte("u1"))
	h.Publish("t", []byte("u2"))
	for _, c := range conns {
		for _, want := range []string{"frame:u1", "frame:u2"} {
			if got := c.next(t); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		}
	}
	if n := prepares.Load(); n != 2 {
		t.Errorf("2 messages to 20 subscribers were prepared %d times", n)
	}
}
