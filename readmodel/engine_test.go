package readmodel_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"tiendo/store/chdb"
)

// A process runs one chDB session, so the tests that need the embedded
// engine share one, each in its own database; TestMain removes its files.
var (
	engineOnce sync.Once
	engine     *chdb.Engine
	engineErr  error
	engineDir  string
)

func testEngine(t *testing.T) *chdb.Engine {
	t.Helper()
	engineOnce.Do(func() {
		if engineDir, engineErr = os.MkdirTemp("", "readmodel-chdb-"); engineErr == nil {
			engine, engineErr = chdb.Open(filepath.Join(engineDir, "chdb"))
		}
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

func TestMain(m *testing.M) {
	code := m.Run()
	if engine != nil {
		_ = engine.Close()
	}
	if engineDir != "" {
		_ = os.RemoveAll(engineDir)
	}
	os.Exit(code)
}
