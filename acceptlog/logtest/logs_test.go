package logtest_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"tiendo/acceptlog"
	"tiendo/acceptlog/jetstream"
	"tiendo/acceptlog/logtest"
	"tiendo/acceptlog/natstest"
	"tiendo/store"
	"tiendo/store/local"
	"tiendo/store/storetest"
)

// Real servers for every log under test: Debian's clickhouse-server (the
// flusher's target and the late checks'), a cluster of three embedded
// JetStream servers and a JetStream server alone.
var (
	chServer *storetest.ClickHouseServer
	cluster  *natstest.Cluster
	single   *natstest.Cluster
)

func TestMain(m *testing.M) {
	os.Exit(storetest.MainWithClickHouseServer(withNATS{m}, &chServer))
}

type withNATS struct{ m *testing.M }

func (w withNATS) Run() int {
	dir, err := os.MkdirTemp("", "tiendo-nats-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if cluster, err = natstest.Start(dir+"/cluster", 3, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cluster.Stop()
	if single, err = natstest.Start(dir+"/single", 1, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer single.Stop()
	return w.m.Run()
}

func openStore(t *testing.T) *store.DB { return chServer.OpenDB(t, "acceptlog") }

// The single node's log: store/local's bbolt spool in a directory of the
// test's; a restart closes the file and opens it again.
func TestBboltSpool(t *testing.T) {
	logtest.Run(t, func(t *testing.T) logtest.Rig {
		dir := t.TempDir()
		var cur *local.DB
		open := func(t *testing.T) acceptlog.Log {
			t.Helper()
			if cur != nil {
				cur.Close()
			}
			db, err := local.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			cur = db
			return db
		}
		t.Cleanup(func() { cur.Close() })
		return logtest.Rig{Log: open(t), Reopen: open, Store: openStore}
	})
}

// The cluster's log: a stream with 3 replicas on three servers; the log
// under test talks to the first, its peers (other nodes) to the others, and
// Kill stops the server that leads the stream.
func TestJetStreamCluster(t *testing.T) {
	logtest.Run(t, jetStreamRig(cluster, 3))
}

// The log on one JetStream server (1 replica).
func TestJetStreamSingle(t *testing.T) {
	logtest.Run(t, jetStreamRig(single, 1))
}

var streams atomic.Int64

// jetStreamRig opens logs on c, each test on a stream and bucket of its
// own. Connections go to server i first and fail over to the others.
func jetStreamRig(c *natstest.Cluster, replicas int) logtest.Factory {
	return func(t *testing.T) logtest.Rig {
		n := streams.Add(1)
		stream, bucket := fmt.Sprintf("T%d", n), fmt.Sprintf("flush%d", n)
		var st *store.DB
		node := 0
		open := func(t *testing.T, first int) *jetstream.Log {
			t.Helper()
			urls := c.URL(first % c.Size())
			for i := range c.Size() {
				if i != first%c.Size() {
					urls += "," + c.URL(i)
				}
			}
			nc, err := nats.Connect(urls, nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(nc.Close)
			cfg := jetstream.Config{Conn: nc, Stream: stream, Subject: "t" + stream, Bucket: bucket, Replicas: replicas,
				Timeout: 5 * time.Second}
			if st != nil {
				cfg.Stored = st
			}
			l, err := jetstream.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		return logtest.Rig{
			Log:    open(t, 0),
			Reopen: func(t *testing.T) acceptlog.Log { return open(t, 0) },
			Peer: func(t *testing.T) acceptlog.Log {
				node++
				return open(t, node)
			},
			Kill:  killLeader(c, stream),
			Store: func(t *testing.T) *store.DB { st = openStore(t); return st },
		}
	}
}

// killLeader stops the server that leads stream (nil on one server: the
// log would be down, which is no test of replication).
func killLeader(c *natstest.Cluster, stream string) func(t *testing.T) func(t *testing.T) {
	if c.Size() < 3 {
		return nil
	}
	return func(t *testing.T) func(t *testing.T) {
		t.Helper()
		nc, err := nats.Connect(c.URLs())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := natsjs.New(nc)
		s, err := js.Stream(context.Background(), stream)
		if err != nil {
			t.Fatal(err)
		}
		leader := s.CachedInfo().Cluster.Leader
		for i := range c.Size() {
			if srv := c.Server(i); srv != nil && srv.Name() == leader {
				c.Kill(i)
				t.Logf("killed %s, the stream's leader", leader)
				return func(t *testing.T) {
					if err := c.Restart(i); err != nil {
						t.Fatal(err)
					}
					t.Logf("restarted %s", leader)
				}
			}
		}
		t.Fatalf("no running server is the leader %q", leader)
		return nil
	}
}
