package local_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"tiendo"
	"tiendo/store/local"
)

// openUsers opens a state whose password hashes are cheap: the cost is
// not what these tests are about, and under -race the default takes 1.5 s.
func openUsers(tb testing.TB) *local.DB {
	db := mustOpen(tb, tb.TempDir())
	db.SetPasswordIterations(1000)
	return db
}

func mustPutUser(tb testing.TB, db *local.DB, name string, role tiendo.Role, subject, password string) local.User {
	tb.Helper()
	u, _, err := db.PutUser(name, role, subject, password)
	if err != nil {
		tb.Fatalf("PutUser(%s): %v", name, err)
	}
	return u
}

// signInAs is what the server does on a good password: a session that
// carries the user record's generation.
func signInAs(tb testing.TB, db *local.DB, name, password string) string {
	tb.Helper()
	u, err := db.CheckPassword(name, password)
	if err != nil {
		tb.Fatalf("CheckPassword(%s): %v", name, err)
	}
	id, err := db.NewSession(local.Session{Role: u.Role, Subject: u.Subject, User: u.Name, Gen: u.Gen, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// M2: a password reset or a role change ends the user's existing
// sessions; before, PutUser left them valid with the role of sign-in.
func TestRewritingAUserEndsTheirSessions(t *testing.T) {
	db := openUsers(t)
	mustPutUser(t, db, "lan", "leader", "", "first password")
	mustPutUser(t, db, "other", "leader", "", "other password")
	old := signInAs(t, db, "lan", "first password")
	keep := signInAs(t, db, "other", "other password")
	if s, err := db.LookupSession(old); err != nil || s.Role != "leader" {
		t.Fatalf("fresh session = %+v, %v", s, err)
	}

	u, replaced, err := db.PutUser("lan", "district", "LS-BG", "second password")
	if err != nil || !replaced {
		t.Fatalf("reset: replaced=%v err=%v", replaced, err)
	}
	_, err = db.LookupSession(old)
	wantCode(t, err, tiendo.EUnauthorized)
	if _, err := db.LookupSession(keep); err != nil {
		t.Errorf("another user's session ended too: %v", err)
	}
	if _, err := db.CheckPassword("lan", "first password"); err == nil {
		t.Error("the old password still works")
	}
	fresh := signInAs(t, db, "lan", "second password")
	if s, err := db.LookupSession(fresh); err != nil || s.Role != "district" || s.Subject != "LS-BG" || s.Gen != u.Gen {
		t.Errorf("session after reset = %+v, %v", s, err)
	}
}

// A sign-in that checked the password just before a reset must not get a
// session that outlives it: its session carries the old generation.
func TestSessionMadeUnderAnOldRecordIsRefused(t *testing.T) {
	db := openUsers(t)
	u := mustPutUser(t, db, "lan", "leader", "", "first password")
	mustPutUser(t, db, "lan", "leader", "", "second password")
	id, err := db.NewSession(local.Session{Role: u.Role, User: u.Name, Gen: u.Gen, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.LookupSession(id)
	wantCode(t, err, tiendo.EUnauthorized)
}

// The session's role and subject are the user record's, not a copy taken
// at sign-in (a session written with other values cannot widen access).
func TestSessionRoleComesFromTheUserRecord(t *testing.T) {
	db := openUsers(t)
	u := mustPutUser(t, db, "huong", "district", "LS-BG", "a password!")
	id, err := db.NewSession(local.Session{Role: "leader", User: u.Name, Gen: u.Gen, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := db.LookupSession(id); err != nil || s.Role != "district" || s.Subject != "LS-BG" {
		t.Errorf("session = %+v, %v; want the record's role district:LS-BG", s, err)
	}
}

func TestRemoveUser(t *testing.T) {
	db := openUsers(t)
	mustPutUser(t, db, "lan", "leader", "", "first password")
	id := signInAs(t, db, "lan", "first password")
	if err := db.RemoveUser("lan"); err != nil {
		t.Fatal(err)
	}
	_, err := db.LookupSession(id)
	wantCode(t, err, tiendo.EUnauthorized)
	_, err = db.CheckPassword("lan", "first password")
	if !errors.Is(err, local.ErrUnknownUser) {
		t.Errorf("CheckPassword after removal = %v, want ErrUnknownUser", err)
	}
	wantCode(t, db.RemoveUser("lan"), tiendo.ENotFound)

	// A new account of the same name does not revive the old sessions.
	mustPutUser(t, db, "lan", "leader", "", "first password")
	_, err = db.LookupSession(id)
	wantCode(t, err, tiendo.EUnauthorized)
}

// The audit log tells an unknown name from a wrong password; the client
// gets the same message for both.
func TestCheckPasswordReasons(t *testing.T) {
	db := openUsers(t)
	mustPutUser(t, db, "lan", "leader", "", "first password")
	_, errWrong := db.CheckPassword("lan", "nope")
	_, errUnknown := db.CheckPassword("nobody", "nope")
	if !errors.Is(errWrong, local.ErrWrongPassword) || !errors.Is(errUnknown, local.ErrUnknownUser) {
		t.Fatalf("wrong password: %v, unknown user: %v", errWrong, errUnknown)
	}
	if tiendo.ErrorMessage(errWrong) != tiendo.ErrorMessage(errUnknown) {
		t.Errorf("the client could tell them apart: %q vs %q", tiendo.ErrorMessage(errWrong), tiendo.ErrorMessage(errUnknown))
	}
}

// A screen session ends when its token is revoked, and is found among
// many tokens by id.
func TestScreenSessionFollowsItsToken(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	for i := 0; i < 50; i++ {
		mustIssue(t, db, "station", fmt.Sprintf("S%d", i))
	}
	_, screen := mustIssue(t, db, "screen", "")
	id, err := db.NewSession(local.Session{Role: "screen", TokenID: screen.ID, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.LookupSession(id); err != nil {
		t.Fatalf("live screen session: %v", err)
	}
	if got, err := db.TokenByID(screen.ID); err != nil || got != screen {
		t.Errorf("TokenByID = %+v, %v; want %+v", got, err, screen)
	}
	_, err = db.TokenByID("000000000000")
	wantCode(t, err, tiendo.ENotFound)
	_, err = db.TokenByID("not hex")
	wantCode(t, err, tiendo.ENotFound)
	if _, err := db.RevokeToken(screen.ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.LookupSession(id)
	wantCode(t, err, tiendo.EUnauthorized)
	// A session naming a token that never existed is no session.
	ghost, _ := db.NewSession(local.Session{Role: "screen", TokenID: "0123456789ab", Expires: time.Now().Add(time.Hour)})
	_, err = db.LookupSession(ghost)
	wantCode(t, err, tiendo.EUnauthorized)
}

// BenchmarkLookupScreenSession shows that a screen session's lookup does
// not grow with the number of tokens (it used to read every token).
func BenchmarkLookupScreenSession(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			db := mustOpen(b, b.TempDir())
			for i := 0; i < n; i++ {
				mustIssue(b, db, "station", fmt.Sprintf("S%d", i))
			}
			_, screen := mustIssue(b, db, "screen", "")
			id, _ := db.NewSession(local.Session{Role: "screen", TokenID: screen.ID, Expires: time.Now().Add(time.Hour)})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := db.LookupSession(id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A record keeps the cost it was hashed with: lowering or raising the
// cost later still checks older passwords.
func TestPasswordCostIsPerRecord(t *testing.T) {
	db := openUsers(t)
	u := mustPutUser(t, db, "lan", "leader", "", "first password")
	if u.Iter != 1000 {
		t.Fatalf("Iter = %d, want 1000", u.Iter)
	}
	db.SetPasswordIterations(2000)
	if _, err := db.CheckPassword("lan", "first password"); err != nil {
		t.Errorf("a password hashed at another cost no longer checks: %v", err)
	}
}
