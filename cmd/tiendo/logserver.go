package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// runLogServer is `tiendo log-server`: one NATS JetStream server of the
// cluster's acceptance log (github.com/nats-io/nats-server/v2, in this
// process), its store in --data. Three of them, each with --routes to the
// others' --cluster addresses, are one JetStream cluster: the log's stream
// and buckets then keep 3 replicas. It prints its client URL on stdout
// once JetStream answers through it (in a cluster: once a quorum has met
// and elected its leader), and stops cleanly on SIGTERM or SIGINT.
func runLogServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("log-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "directory of this server's JetStream store (required)")
	addr := fs.String("addr", "127.0.0.1:4222", "client listen address HOST:PORT (port 0: any free port)")
	clusterAddr := fs.String("cluster", "", "cluster (route) listen address HOST:PORT; empty: a server alone")
	routes := fs.String("routes", "", "comma-separated nats://HOST:PORT of the other servers' --cluster addresses")
	name := fs.String("name", "", "server name, unique in the cluster (default: from --addr)")
	clusterName := fs.String("cluster-name", "tiendo", "cluster name, the same on every server")
	syncAlways := fs.Bool("sync", true, "fsync every write before acknowledging it (the 202 promise; cluster.md §5.3)")
	maxStore := fs.Int64("max-store", 0, "most bytes of file storage (0: the server's default, 75% of the disk)")
	maxMem := fs.Int64("max-memory", 256<<20, "most bytes of memory storage")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for JetStream (a cluster's quorum) before giving up")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *data == "" {
		return usageError{"log-server: --data DIR is required"}
	}
	host, port, err := splitHostPort(*addr)
	if err != nil {
		return usageError{"log-server: --addr: " + err.Error()}
	}
	if *name == "" {
		*name = fmt.Sprintf("tiendo-log-%s-%d", host, port)
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return err
	}
	store, err := filepath.Abs(*data)
	if err != nil {
		return err
	}
	o := &natsserver.Options{
		ServerName:         *name,
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           store,
		SyncAlways:         *syncAlways,
		JetStreamMaxMemory: *maxMem,
		JetStreamMaxStore:  *maxStore,
		NoSigs:             true, // this process's signals stop it (main's context)
		Logtime:            true,
	}
	if port == 0 {
		o.Port = natsserver.RANDOM_PORT // nats-server's 0 is its default port, 4222
	}
	if *clusterAddr != "" {
		ch, cp, err := splitHostPort(*clusterAddr)
		if err != nil || cp == 0 {
			return usageError{"log-server: --cluster: want HOST:PORT with a fixed port (the others' --routes name it)"}
		}
		o.Cluster = natsserver.ClusterOpts{Name: *clusterName, Host: ch, Port: cp}
		o.Routes = natsserver.RoutesFromStr(*routes)
	} else if *routes != "" {
		return usageError{"log-server: --routes needs --cluster"}
	}
	s, err := natsserver.NewServer(o)
	if err != nil {
		return fmt.Errorf("log-server: %w", err)
	}
	s.ConfigureLogger()
	go s.Start()
	defer func() {
		s.Shutdown()
		s.WaitForShutdown()
		fmt.Fprintln(stderr, "tiendo log-server: stopped")
	}()
	if !s.ReadyForConnections(30 * time.Second) {
		return errors.New("log-server: not listening within 30 s")
	}
	url := s.ClientURL()
	if err := waitJetStream(ctx, url, *wait); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting
		}
		return err
	}
	fmt.Fprintln(stdout, url)
	<-ctx.Done()
	return nil
}

// waitJetStream asks JetStream for the account's figures through url until
// it answers (a cluster has a meta leader and this server has joined it).
func waitJetStream(ctx context.Context, url string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	var last error
	for {
		nc, err := nats.Connect(url, nats.Timeout(time.Second))
		if err == nil {
			js, jerr := nc.JetStream()
			if jerr == nil {
				_, jerr = js.AccountInfo(nats.MaxWait(time.Second))
			}
			nc.Close()
			if err = jerr; err == nil {
				return nil
			}
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("log-server: JetStream did not answer within %v (are the other servers of --routes up?): %v", wait, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func splitHostPort(s string) (string, int, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return h, port, nil
}
