package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"tiendo/cmd/tiendo/shipped"
	"tiendo/server"
	"tiendo/store/local"
)

// serve --campaign picks a shipped campaign, and a data directory keeps
// the campaign it was first served with.
func TestServeKeepsTheDirectorysCampaign(t *testing.T) {
	var errb strings.Builder
	if err := run(context.Background(), []string{"serve", "--campaign", "hanoi-2021", "--data", t.TempDir()}, io.Discard, &errb); err == nil ||
		!strings.Contains(err.Error(), "vietnam-2021") {
		t.Fatalf("an unknown campaign: %v (want the list of shipped ones)", err)
	}
	// A directory first served with vietnam-2021 (bound as Open binds
	// it; a full Open would start chDB, which runs once per process).
	cfg := server.Default()
	cfg.DataDir = t.TempDir()
	db, err := local.Open(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.BindCampaign("vietnam-2021", shipped.Default); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c, stations, err := shipped.Lookup("langson-2021")
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Campaign: c, Stations: stations, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	err = m.Open(context.Background())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "--campaign vietnam-2021") {
		t.Fatalf("serving langson-2021 from a vietnam-2021 directory: %v", err)
	}
}
