package kvstate

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"tiendo"
	"tiendo/acceptlog/natstest"
	"tiendo/store/local"
)

// Every test runs on one 3-server JetStream cluster (embedded, real
// servers on loopback), each with a bucket of its own.
var cluster *natstest.Cluster

// buckets numbers the tests' buckets: each run of a test (go test
// -count=N) has its own.
var buckets atomic.Int64

func unique(name string) string { return fmt.Sprintf("%s_%d", name, buckets.Add(1)) }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kvstate-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if cluster, err = natstest.Start(dir, 3, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	cluster.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// node is one tiendo node's state: its state.db and its shared State,
// connected to server i of the cluster.
type node struct {
	db      *local.DB
	st      *State
	changes atomic.Int64 // OnChange calls
	mu      sync.Mutex
	touched map[string]bool
}

func openNode(t *testing.T, bucket string, server int, db *local.DB) *node {
	t.Helper()
	if db == nil {
		var err error
		if db, err = local.Open(t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	nc, err := nats.Connect(cluster.URL(server))
	if err != nil {
		t.Fatal(err)
	}
	n := &node{db: db, touched: map[string]bool{}}
	n.st, err = Open(context.Background(), Config{Conn: nc, Bucket: bucket, DB: db, OnChange: func(b map[string]bool) {
		n.mu.Lock()
		for k := range b {
			n.touched[k] = true
		}
		n.mu.Unlock()
		n.changes.Add(1)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = n.st.Close()
		nc.Close()
		_ = db.Close()
	})
	return n
}

func (n *node) saw(bucket string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.touched[bucket]
}

// within polls cond for up to 2 s (the cluster's promise) and says how
// long it took.
func within(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("%s: not within 2 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func TestTokensIssuedAndRevokedOnOneNodeHoldOnTheOthers(t *testing.T) {
	bucket := unique("t_tokens")
	a, b := openNode(t, bucket, 0, nil), openNode(t, bucket, 1, nil)
	secret, tok, err := a.db.IssueToken(tiendo.RoleLeader, "")
	if err != nil {
		t.Fatal(err)
	}
	took := within(t, "a token issued on A is known on B", func() bool {
		got, err := b.db.LookupToken(secret)
		return err == nil && got.ID == tok.ID && got.Role == tiendo.RoleLeader
	})
	t.Logf("issued on A, known on B after %v", took)
	within(t, "B's OnChange names the tokens bucket", func() bool { return b.saw("tokens") })
	if _, err := b.db.RevokeToken(tok.ID); err != nil {
		t.Fatal(err)
	}
	took = within(t, "a token revoked on B is refused on A", func() bool {
		_, err := a.db.LookupToken(secret)
		return tiendo.ErrorCode(err) == tiendo.EUnauthorized
	})
	t.Logf("revoked on B, refused on A after %v", took)
	if _, err := b.db.LookupToken(secret); tiendo.ErrorCode(err) != tiendo.EUnauthorized {
		t.Errorf("B itself: %v, want the token refused", err)
	}
}

func TestUsersAndSessionsFollowEveryNode(t *testing.T) {
	bucket := unique("t_users")
	a, b := openNode(t, bucket, 0, nil), openNode(t, bucket, 2, nil)
	a.db.SetPasswordIterations(1000)
	b.db.SetPasswordIterations(1000)
	u, _, err := a.db.PutUser("chi", tiendo.RoleChief, "LS-BS-VULE", "mat-khau-1")
	if err != nil {
		t.Fatal(err)
	}
	within(t, "a user made on A signs in on B", func() bool {
		_, err := b.db.CheckPassword("chi", "mat-khau-1")
		return err == nil
	})
	sid, err := b.db.NewSession(local.Session{Role: u.Role, Subject: u.Subject, User: "chi", Gen: u.Gen, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	within(t, "a session begun on B holds on A", func() bool {
		s, err := a.db.LookupSession(sid)
		return err == nil && s.User == "chi"
	})
	// A password reset on A ends the session on B.
	if _, _, err := a.db.PutUser("chi", tiendo.RoleChief, "LS-BS-VULE", "mat-khau-2"); err != nil {
		t.Fatal(err)
	}
	within(t, "a reset on A ends the session on B", func() bool {
		_, err := b.db.LookupSession(sid)
		return err != nil
	})
	within(t, "the new password signs in on B", func() bool {
		_, err := b.db.CheckPassword("chi", "mat-khau-2")
		return err == nil
	})
	if _, err := b.db.CheckPassword("chi", "mat-khau-1"); err == nil {
		t.Error("the old password still signs in on B")
	}
	if err := b.db.RemoveUser("chi"); err != nil {
		t.Fatal(err)
	}
	within(t, "a user removed on B is gone on A", func() bool {
		_, err := a.db.CheckPassword("chi", "mat-khau-2")
		return err != nil
	})
}

// A one-time screen link is used once, whichever nodes try it at the same
// instant (compare and swap on the key's revision).
func TestOneTimeLinkIsUsedOnceAcrossNodes(t *testing.T) {
	bucket := unique("t_links")
	a, b := openNode(t, bucket, 0, nil), openNode(t, bucket, 1, nil)
	for round := range 20 {
		code, err := a.db.NewOneTimeCode(local.OneTime{Session: local.Session{Role: tiendo.RoleScreen}, Expires: time.Now().Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		within(t, "the link is known on B", func() bool {
			var present bool
			_ = b.db.SharedKeys(func(bucket string, _, _ []byte) error {
				present = present || bucket == "onetime"
				return nil
			})
			return present
		})
		var wg sync.WaitGroup
		var ok atomic.Int64
		var refusals []error
		var mu sync.Mutex
		for _, n := range []*node{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := n.db.UseOneTimeCode(code); err == nil {
					ok.Add(1)
				} else {
					mu.Lock()
					refusals = append(refusals, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("round %d: the link was used %d times (refusals %v)", round, ok.Load(), refusals)
		}
		for _, err := range refusals {
			if tiendo.ErrorCode(err) != tiendo.EUnauthorized {
				t.Errorf("round %d: the second use got %v, want 'link unknown or already used'", round, err)
			}
		}
		within(t, "the used link is gone on both", func() bool {
			n := 0
			for _, x := range []*node{a, b} {
				_ = x.db.SharedKeys(func(bucket string, _, _ []byte) error {
					if bucket == "onetime" {
						n++
					}
					return nil
				})
			}
			return n == 0
		})
	}
}

// The moment a link reaches a node's copy it is used there: the write
// that sees it must find the revision it came with, to compare and swap on
// (found none, its delete was unconditional, and a link used on two nodes
// at once was used twice). A Shared in front of B's State notes what the
// delete is made against.
func TestOneTimeLinkUsedTheMomentItArrives(t *testing.T) {
	bucket := unique("t_arrives")
	a, b := openNode(t, bucket, 0, nil), openNode(t, bucket, 1, nil)
	spy := &revisionSpy{st: b.st}
	b.db.SetShared(spy)
	pause := func() { time.Sleep(20 * time.Millisecond) }
	b.st.afterApply.Store(&pause)
	for round := range 40 {
		code, err := a.db.NewOneTimeCode(local.OneTime{Session: local.Session{Role: tiendo.RoleScreen}, Expires: time.Now().Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		used := false
		for deadline := time.Now().Add(2 * time.Second); !used && time.Now().Before(deadline); {
			_, err := b.db.UseOneTimeCode(code)
			used = err == nil
		}
		if !used {
			t.Fatalf("round %d: the link never reached B", round)
		}
		spy.mu.Lock()
		rev := spy.rev
		spy.mu.Unlock()
		if rev == 0 {
			t.Fatalf("round %d: B deleted the link it had just been sent against no revision (unconditionally)", round)
		}
	}
}

// revisionSpy is a Shared that notes the revision a Once delete is made
// against, as the write transaction asking sees it.
type revisionSpy struct {
	st  *State
	mu  sync.Mutex
	rev uint64
}

func (s *revisionSpy) Publish(changes []local.Change) error {
	for _, c := range changes {
		if c.Once {
			s.st.mu.Lock()
			rev := s.st.applied[c.Bucket+"."+hex.EncodeToString(c.Key)]
			s.st.mu.Unlock()
			s.mu.Lock()
			s.rev = rev
			s.mu.Unlock()
		}
	}
	return s.st.Publish(changes)
}

func stations(ids ...string) []tiendo.Station {
	var out []tiendo.Station
	for _, id := range ids {
		out = append(out, tiendo.Station{ID: id, Name: "Điểm " + id, District: "LS-BS", Kind: tiendo.KindFixed, Quota: 100})
	}
	return out
}

// The first node seeds an empty bucket; a node joining later takes the
// bucket's state, whatever its own copy held; imports reach every node,
// removals included.
func TestJoinTakesTheSharedStateAndImportsReachEveryNode(t *testing.T) {
	dbA, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := dbA.SaveStations(stations("S1", "S2", "S3")); err != nil {
		t.Fatal(err)
	}
	secretA, _, _ := dbA.IssueToken(tiendo.RoleAdmin, "")
	dbB, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := dbB.SaveStations(stations("OLD")); err != nil {
		t.Fatal(err)
	}
	secretB, _, _ := dbB.IssueToken(tiendo.RoleAdmin, "")

	bucket := unique("t_join")
	a := openNode(t, bucket, 0, dbA)
	b := openNode(t, bucket, 1, dbB)
	got, err := b.db.Stations()
	if err != nil || !reflect.DeepEqual(got, stations("S1", "S2", "S3")) {
		t.Fatalf("B after joining: %v, %v; want A's registry", got, err)
	}
	if _, err := b.db.LookupToken(secretA); err != nil {
		t.Errorf("A's token on B after joining: %v", err)
	}
	if _, err := b.db.LookupToken(secretB); err == nil {
		t.Error("B's own token, never in the shared state, still holds after joining")
	}
	if err := a.db.SaveQuotas(map[string]int64{"LS-BS": 5000}, stations("S1", "S3", "S4")); err != nil {
		t.Fatal(err)
	}
	took := within(t, "an import on A is B's registry", func() bool {
		got, _ := b.db.Stations()
		q, _ := b.db.DistrictQuotas()
		return reflect.DeepEqual(got, stations("S1", "S3", "S4")) && q["LS-BS"] == 5000
	})
	t.Logf("import on A, B's registry after %v", took)
	within(t, "B's OnChange names stations and district_quotas", func() bool { return b.saw("stations") && b.saw("district_quotas") })
}

// A write the shared state does not take is not made locally either (a
// server of its own: the test stops it).
func TestAWriteTheBucketRefusesIsNotMade(t *testing.T) {
	alone, err := natstest.Start(t.TempDir(), 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer alone.Stop()
	db, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	nc, err := nats.Connect(alone.URL(0))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	st, err := Open(context.Background(), Config{Conn: nc, Bucket: "t_refused", DB: db, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	alone.Kill(0)
	_, _, err = db.IssueToken(tiendo.RoleLeader, "")
	if err == nil {
		t.Fatal("a token was issued with the log server down")
	}
	if errors.Is(err, local.ErrConflict) {
		t.Errorf("err = %v: an outage is not a conflict", err)
	}
	if toks, _ := db.Tokens(); len(toks) != 0 {
		t.Errorf("%d tokens in the local copy after a refused issue, want 0", len(toks))
	}
}
