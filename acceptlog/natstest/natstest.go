// Package natstest runs real NATS JetStream servers inside a test process
// (github.com/nats-io/nats-server/v2/server): one alone, or a cluster of
// several joined by routes on loopback ports, each with its store in its
// own directory, so that a test can stop one and start it again with its
// data, as an operator would restart a node. Nothing is faked: the
// acceptance log's tests publish to, replicate on and fail over between
// these servers.
package natstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is a set of JetStream servers in one cluster (or one server
// without a cluster).
type Cluster struct {
	dir  string
	opts []*server.Options

	mu      sync.Mutex
	servers []*server.Server // nil while stopped
}

// Start starts n servers (n ≥ 1) with their stores under dir; n > 1 makes
// them one cluster, routes on loopback ports, every server listing every
// route. It returns once JetStream answers through every server (a meta
// leader is elected). syncAlways makes each server fsync every write, as
// production should (cluster.md §5.3); tests leave it off for speed.
func Start(dir string, n int, syncAlways bool) (*Cluster, error) {
	if n < 1 {
		return nil, errors.New("natstest: need at least one server")
	}
	clientPorts, err := freePorts(n)
	if err != nil {
		return nil, err
	}
	routePorts, err := freePorts(n)
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, servers: make([]*server.Server, n)}
	var routes []*url.URL
	for i := range n {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", routePorts[i])})
	}
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			SyncAlways: syncAlways,
			NoLog:      true,
			NoSigs:     true,
			// Small enough for a 2-core test machine to hold three.
			JetStreamMaxMemory: 64 << 20,
			JetStreamMaxStore:  1 << 30,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "tiendo-test", Host: "127.0.0.1", Port: routePorts[i]}
			o.Routes = routes
		}
		c.opts = append(c.opts, o)
	}
	for i := range n {
		if err := c.startServer(i); err != nil {
			c.Stop()
			return nil, err
		}
	}
	for i := range n {
		if err := c.WaitJetStream(i, 30*time.Second); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// freePorts finds n distinct free loopback ports (held open together, so
// that none is handed out twice).
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (c *Cluster) startServer(i int) error {
	// A copy: the server changes its options as it starts.
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		return fmt.Errorf("natstest: server %d: %w", i+1, err)
	}
	go s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("natstest: server %d not ready for connections", i+1)
	}
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
	return nil
}

// WaitJetStream waits until JetStream answers an account request through
// server i (in a cluster: a meta leader exists and i has joined it).
func (c *Cluster) WaitJetStream(i int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		nc, err := nats.Connect(c.URL(i), nats.Timeout(time.Second))
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			nc.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("natstest: JetStream on server %d did not answer within %v: %v", i+1, timeout, last)
}

// Size is the number of servers.
func (c *Cluster) Size() int { return len(c.opts) }

// URL is server i's client URL (it keeps its port across a restart).
func (c *Cluster) URL(i int) string {
	return fmt.Sprintf("nats://127.0.0.1:%d", c.opts[i].Port)
}

// URLs lists every server's client URL, comma-separated (nats.Connect
// takes that form and fails over between them).
func (c *Cluster) URLs() string {
	var us []string
	for i := range c.opts {
		us = append(us, c.URL(i))
	}
	return strings.Join(us, ",")
}

// Kill stops server i at once (its clients are cut, the others see the
// route drop) and keeps its store for Restart. In-process a server cannot
// be sent SIGKILL; Shutdown without a lame-duck period is the closest.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Restart starts a killed server i again on its port and store, and
// returns once JetStream answers through it.
func (c *Cluster) Restart(i int) error {
	if err := c.startServer(i); err != nil {
		return err
	}
	return c.WaitJetStream(i, 30*time.Second)
}

// Server is server i while it runs, or nil.
func (c *Cluster) Server(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.servers[i]
}

// Stop stops every server; the stores stay in dir.
func (c *Cluster) Stop() {
	for i := range c.opts {
		c.Kill(i)
	}
}

// Remove stops every server and removes dir.
func (c *Cluster) Remove() {
	c.Stop()
	os.RemoveAll(c.dir)
}
