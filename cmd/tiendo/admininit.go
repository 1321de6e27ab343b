package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"tiendo"
	"tiendo/store/kvstate"
	"tiendo/store/local"
)

// runAdminInit is tiendo admin init: an admin token for a whole cluster,
// issued straight into the shared state (store/kvstate) through the log
// servers, before or without any node, and printed once. A single node
// needs none: it writes DIR/admin.token at its first start.
func runAdminInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logURLs := fs.String("log", os.Getenv("TIENDO_LOG"), "the cluster's log servers: nats://H1:P1,H2:P2,... (as tiendo serve --log)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *logURLs == "" {
		return usageError{"admin init: --log nats://... is required (a single node makes DIR/admin.token itself)"}
	}
	nc, err := connectNATS(ctx, *logURLs, "admin-init", time.Minute, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer nc.Close()
	// A throwaway copy of the shared state: the token goes to the bucket
	// through it, as a node's writes do.
	dir, err := os.MkdirTemp("", "tiendo-admin-init-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := local.Open(dir)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := kvstate.Open(ctx, kvstate.Config{Conn: nc, DB: db})
	if err != nil {
		return fmt.Errorf("shared state: %w", err)
	}
	defer st.Close()
	secret, tok, err := db.IssueToken(tiendo.RoleAdmin, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "# admin token %s for every node of the cluster (shown once; revoke with: tiendo token revoke --id %s)\n", tok.ID, tok.ID)
	fmt.Fprintln(stdout, secret)
	return nil
}
