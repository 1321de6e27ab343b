// Package live fans state out to screens. The Hub knows nothing of
// WebSockets or Fiber: a connection is anything with Write and Close, each
// gets a bounded queue and one writer goroutine, and a connection whose queue
// overflows is dropped as slow instead of holding up the others. Messages are
// serialised once per topic and the same bytes are queued to every
// subscriber, as one Message, so that a transport that frames or compresses
// them (a PreparedWriter) does that once for all of them.
package live

import (
	"sync"
	"sync/atomic"
)

// Conn is one subscriber's transport.
type Conn interface {
	// Write sends one message. It is only ever called from the
	// connection's writer goroutine, never concurrently.
	Write(msg []byte) error
	// Close ends the connection; it may be called from any goroutine.
	Close() error
}

// PreparedWriter is a Conn that writes a published Message itself: the
// writer calls WritePrepared instead of Write, and the transport can make
// what it writes (a WebSocket frame, compressed) once per Message with
// Message.Prepared, for every subscriber. Called from the connection's
// writer goroutine only.
type PreparedWriter interface {
	WritePrepared(m *Message) error
}

// Message is one message as queued to subscribers: the same bytes for
// all of them, and what a transport prepared from them.
type Message struct {
	Bytes    []byte
	once     sync.Once
	prepared any
}

// Prepared returns prepare(m.Bytes), calling prepare once for all the
// connections that write m (with one transport per hub, one prepare func).
func (m *Message) Prepared(prepare func([]byte) any) any {
	m.once.Do(func() { m.prepared = prepare(m.Bytes) })
	return m.prepared
}

// QueueSize is how many messages may wait for one connection before it is
// dropped as slow. Updates come about once a second, so 32 is half a minute
// of lag: a screen further behind is better off reconnecting for a snapshot.
const QueueSize = 32

// Client is one subscription of a Conn to a topic.
type Client struct {
	hub    *Hub
	topic  string
	conn   Conn
	queue  chan *Message
	closed atomic.Bool
	done   chan struct{}
}

// Done is closed when the client's writer has stopped.
func (c *Client) Done() <-chan struct{} { return c.done }

// Send queues msg for this client alone (a snapshot after a resync). It
// drops the client if its queue is full.
func (c *Client) Send(msg []byte) {
	c.hub.mu.RLock()
	if c.closed.Load() {
		c.hub.mu.RUnlock()
		return
	}
	var full bool
	select {
	case c.queue <- &Message{Bytes: msg}:
	default:
		full = true
	}
	c.hub.mu.RUnlock()
	if full {
		c.hub.drop(c, "slow")
	}
}

// Close unsubscribes the client and closes its connection.
func (c *Client) Close() { c.hub.drop(c, "closed") }

func (c *Client) writeLoop() {
	defer close(c.done)
	pw, _ := c.conn.(PreparedWriter)
	for msg := range c.queue {
		var err error
		if pw != nil {
			err = pw.WritePrepared(msg)
		} else {
			err = c.conn.Write(msg.Bytes)
		}
		if err != nil {
			c.hub.drop(c, "write error")
			// Keep draining so that senders never see a full queue on a dead client.
			for range c.queue {
			}
			return
		}
	}
}

// Stats counts the hub's connections and drops.
type Stats struct {
	Clients      int64
	Topics       int
	DroppedSlow  int64
	DroppedError int64
}

// Hub holds topics and their subscribers.
type Hub struct {
	mu     sync.RWMutex
	topics map[string]map[*Client]struct{}

	clients      atomic.Int64
	droppedSlow  atomic.Int64
	droppedError atomic.Int64

	// OnSubscribe, if set, is called (outside the hub's lock) when a topic
	// gets its first subscriber, so the producer can start computing it.
	OnSubscribe func(topic string)
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{topics: map[string]map[*Client]struct{}{}} }

// Subscribe adds conn to topic, queues first (the topic's current snapshot,
// if any) and starts the connection's writer.
func (h *Hub) Subscribe(topic string, conn Conn, first []byte) *Client {
	c := &Client{hub: h, topic: topic, conn: conn, queue: make(chan *Message, QueueSize), done: make(chan struct{})}
	if first != nil {
		c.queue <- &Message{Bytes: first}
	}
	h.mu.Lock()
	subs := h.topics[topic]
	isNew := subs == nil
	if isNew {
		subs = map[*Client]struct{}{}
		h.topics[topic] = subs
	}
	subs[c] = struct{}{}
	h.mu.Unlock()
	h.clients.Add(1)
	go c.writeLoop()
	if isNew && h.OnSubscribe != nil {
		h.OnSubscribe(topic)
	}
	return c
}

// Publish queues msg to every subscriber of topic without waiting for any;
// subscribers whose queue is full are dropped. It returns how many got it.
func (h *Hub) Publish(topic string, msg []byte) int {
	m := &Message{Bytes: msg}
	h.mu.RLock()
	subs := h.topics[topic]
	var slow []*Client
	n := 0
	for c := range subs {
		select {
		case c.queue <- m:
			n++
		default:
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range slow {
		h.drop(c, "slow")
	}
	return n
}

// Topics lists topics that have subscribers.
func (h *Hub) Topics() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.topics))
	for t := range h.topics {
		out = append(out, t)
	}
	return out
}

// Subscribers counts the subscribers of topic.
func (h *Hub) Subscribers(topic string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.topics[topic])
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	topics := len(h.topics)
	h.mu.RUnlock()
	return Stats{Clients: h.clients.Load(), Topics: topics, DroppedSlow: h.droppedSlow.Load(), DroppedError: h.droppedError.Load()}
}

// drop removes c once: unsubscribes, stops its writer, closes its conn.
func (h *Hub) drop(c *Client, reason string) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	h.mu.Lock()
	if subs := h.topics[c.topic]; subs != nil {
		delete(subs, c)
		if len(subs) == 0 {
			delete(h.topics, c.topic)
		}
	}
	// Closing the queue under the write lock: Publish holds the read lock
	// while sending, so no send can race with this close.
	close(c.queue)
	h.mu.Unlock()
	h.clients.Add(-1)
	switch reason {
	case "slow":
		h.droppedSlow.Add(1)
	case "write error":
		h.droppedError.Add(1)
	}
	_ = c.conn.Close()
}
