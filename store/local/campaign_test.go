package local_test

import (
	"strings"
	"testing"

	"tiendo"
)

func TestBindCampaign(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	if err := db.BindCampaign("vietnam-2021", "langson-2021"); err != nil {
		t.Fatalf("a new directory takes any campaign: %v", err)
	}
	if err := db.BindCampaign("vietnam-2021", "langson-2021"); err != nil {
		t.Fatalf("the same campaign again: %v", err)
	}
	err := db.BindCampaign("langson-2021", "langson-2021")
	if err == nil || !strings.Contains(err.Error(), `holds the campaign "vietnam-2021"`) || !strings.Contains(err.Error(), "--campaign vietnam-2021") {
		t.Fatalf("another campaign on a bound directory: %v", err)
	}
	db.Close()
	db = mustOpen(t, dir)
	if err := db.BindCampaign("langson-2021", "langson-2021"); err == nil {
		t.Fatal("the binding did not survive a reopen")
	}
}

// A directory that served before campaigns were bound holds the one the
// binary served then: it refuses another, and takes that one.
func TestBindCampaignOfAnOlderDirectory(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	mustIssue(t, db, tiendo.RoleAdmin, "")
	if err := db.BindCampaign("vietnam-2021", "langson-2021"); err == nil {
		t.Fatal("a directory with tokens and no campaign took a new campaign")
	}
	if err := db.BindCampaign("langson-2021", "langson-2021"); err != nil {
		t.Fatalf("the legacy campaign: %v", err)
	}
}
