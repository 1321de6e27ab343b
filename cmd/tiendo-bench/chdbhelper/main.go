// Command chdbhelper is tiendo-bench's helper for the embedded engine. chDB
// allows one instance per process (and loading libchdb.so costs memory), so
// the load generator never links it: it runs this helper in its own process
// for the direct chDB insert, for reading system tables of a stopped
// server's chDB directory, and for the query benchmark at scale.
//
//	chdbhelper direct --dir DIR --events FILE   insert gob-encoded events through store/chdb; prints JSON
//	chdbhelper sql --dir DIR --query Q          prints the rows of Q as JSON
//	chdbhelper scale --dir DIR [flags]          see scale.go
package main

import (
	"context"
	"encoding/gob"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"tiendo"
	"tiendo/store"
	"tiendo/store/chdb"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: chdbhelper direct|sql|scale --dir DIR ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "direct":
		err = direct(os.Args[2:])
	case "sql":
		err = sql(os.Args[2:])
	case "scale":
		err = scale(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		fmt.Println(string(b))
		fmt.Fprintln(os.Stderr, "chdbhelper:", err)
		os.Exit(1)
	}
}

func direct(args []string) error {
	fs := flag.NewFlagSet("direct", flag.ContinueOnError)
	dir := fs.String("dir", "", "chDB directory (created)")
	file := fs.String("events", "", "gob-encoded []tiendo.Event")
	chunk := fs.Int("chunk", 100_000, "events per WriteEvents call (the flusher's largest batch)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	var events []tiendo.Event
	err = gob.NewDecoder(f).Decode(&events)
	f.Close()
	if err != nil {
		return err
	}
	ctx := context.Background()
	eng, err := chdb.Open(*dir)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, eng, "tiendo")
	if err != nil {
		return err
	}
	defer db.Close()
	version, _ := db.Version(ctx)
	start := time.Now()
	for i := 0; i < len(events); i += *chunk {
		if err := db.WriteEvents(ctx, events[i:min(i+*chunk, len(events))]); err != nil {
			return err
		}
	}
	took := time.Since(start)
	b, _ := json.Marshal(map[string]any{"rows": len(events), "seconds": took.Seconds(), "inserts": db.InsertQueries(), "version": version})
	fmt.Println(string(b))
	return nil
}

func sql(args []string) error {
	fs := flag.NewFlagSet("sql", flag.ContinueOnError)
	dir := fs.String("dir", "", "chDB directory")
	query := fs.String("query", "", "a SELECT")
	if err := fs.Parse(args); err != nil {
		return err
	}
	eng, err := chdb.Open(*dir)
	if err != nil {
		return err
	}
	defer eng.Close()
	rows, err := eng.Query(context.Background(), *query)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = [][]any{}
	}
	b, _ := json.Marshal(map[string]any{"rows": rows})
	fmt.Println(string(b))
	return nil
}
