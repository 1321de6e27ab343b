package local

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"tiendo"
)

// People sign in to the pages with a name and password; the server then
// keeps a session, referred to by a random cookie. A command-room screen gets
// a session from a one-time link made for its screen token instead.
var (
	bucketUsers    = []byte("users")    // name -> User JSON
	bucketSessions = []byte("sessions") // sha256(session id) -> Session JSON
	bucketOneTime  = []byte("onetime")  // sha256(code) -> OneTime JSON
)

// User is a person who signs in to the pages.
type User struct {
	Name    string      `json:"name"`
	Role    tiendo.Role `json:"role"`
	Subject string      `json:"subject,omitempty"`
	Salt    []byte      `json:"salt"`
	Hash    []byte      `json:"hash"`           // PBKDF2-SHA256 of the password
	Iter    int         `json:"iter,omitempty"` // its iterations; 0 (older records) means pbkdf2Iterations
	Created time.Time   `json:"created"`
	// Gen is new (random) on every write of the record: each session
	// keeps the Gen it was made under, so a reset, a role change or a
	// removal followed by a new account of the same name ends it. Random
	// rather than a counter, because a removed and re-added user would
	// count from zero again. Records from before it have "", as do their
	// sessions, which therefore stay valid across the upgrade.
	Gen string `json:"gen,omitempty"`
}

// pbkdf2Iterations follows OWASP's 2023 advice for PBKDF2-HMAC-SHA256.
const pbkdf2Iterations = 600_000

func passwordHash(password string, salt []byte, iter int) []byte {
	if iter <= 0 {
		iter = pbkdf2Iterations
	}
	h, _ := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	return h
}

// SetPasswordIterations sets the PBKDF2 cost of hashes made from now on
// (each record keeps its own, so older ones still check). Only tests lower
// it: a hash takes about 80 ms at the default, 1.5 s under the race
// detector, and tests of the sign-in limits make dozens.
func (db *DB) SetPasswordIterations(n int) { db.passwordIter.Store(int64(n)) }

func (db *DB) iterations() int {
	if n := db.passwordIter.Load(); n > 0 {
		return int(n)
	}
	return pbkdf2Iterations
}

// PutUser creates or replaces a user with the given password. Replacing
// one (a reset, a new role or subject) ends all of their sessions: they
// are deleted, and any made in the meantime carry the old Gen. replaced
// says whether the name existed.
func (db *DB) PutUser(name string, role tiendo.Role, subject, password string) (u User, replaced bool, err error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return User{}, false, err
	}
	iter := db.iterations()
	u = User{Name: name, Role: role, Subject: subject, Salt: salt, Hash: passwordHash(password, salt, iter), Iter: iter,
		Created: time.Now().UTC(), Gen: randomString(9)}
	v, _ := json.Marshal(u)
	err = db.update(func(w *writeTx) error {
		replaced = w.Bucket(bucketUsers).Get([]byte(name)) != nil
		if replaced {
			if err := deleteSessions(w, func(s *Session) bool { return s.User == name }); err != nil {
				return err
			}
		}
		return w.put(bucketUsers, []byte(name), v)
	})
	return u, replaced, err
}

// RemoveUser deletes a user and all of their sessions; ENotFound if there
// is no such user.
func (db *DB) RemoveUser(name string) error {
	return db.update(func(w *writeTx) error {
		if w.Bucket(bucketUsers).Get([]byte(name)) == nil {
			return tiendo.Errorf(tiendo.ENotFound, "no user %q", name)
		}
		if err := deleteSessions(w, func(s *Session) bool { return s.User == name }); err != nil {
			return err
		}
		return w.del(bucketUsers, []byte(name))
	})
}

// deleteSessions deletes the sessions that match, and on the way every
// session past its expiry (nothing else ever removes those). Sessions are
// keyed by the hash of their id, so finding a user's means a scan: an
// admin action, rare, over at most a few thousand records.
func deleteSessions(w *writeTx, match func(*Session) bool) error {
	b := w.Bucket(bucketSessions)
	now := time.Now()
	var dead [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var s Session
		if json.Unmarshal(v, &s) != nil || now.After(s.Expires) || match(&s) {
			dead = append(dead, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := w.del(bucketSessions, bytes.Clone(k)); err != nil {
			return err
		}
	}
	return nil
}

// CheckPassword returns the user if name and password match; otherwise an
// EUnauthorized error that does not say which of the two was wrong.
func (db *DB) CheckPassword(name, password string) (User, error) {
	var u User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketUsers).Get([]byte(name))
		if v == nil {
			return ErrUnknownUser
		}
		return json.Unmarshal(v, &u)
	})
	if err != nil {
		passwordHash(password, []byte("timing-equaliser"), db.iterations()) // same cost whether or not the user exists
		return User{}, ErrUnknownUser
	}
	if subtle.ConstantTimeCompare(passwordHash(password, u.Salt, u.Iter), u.Hash) != 1 {
		return User{}, ErrWrongPassword
	}
	return u, nil
}

// CheckPassword's refusals. Both say the same to the client; the server's
// audit log tells them apart (a spray of unknown names looks different
// from guesses at one real account).
var (
	ErrUnknownUser   = tiendo.Errorf(tiendo.EUnauthorized, "wrong name or password")
	ErrWrongPassword = tiendo.Errorf(tiendo.EUnauthorized, "wrong name or password")
)

// Session is a signed-in browser: a person, or a screen opened by a link.
type Session struct {
	Role    tiendo.Role `json:"role"`
	Subject string      `json:"subject,omitempty"`
	User    string      `json:"user,omitempty"`     // the person, for a login session
	TokenID string      `json:"token_id,omitempty"` // the screen token, for a link session: revoking it ends the session
	Gen     string      `json:"gen,omitempty"`      // the user record's Gen at sign-in; a changed record ends the session
	Expires time.Time   `json:"expires"`
}

// NewSession stores s and returns the random id that the cookie carries.
func (db *DB) NewSession(s Session) (string, error) {
	id := randomString(32)
	v, _ := json.Marshal(s)
	err := db.update(func(w *writeTx) error { return w.put(bucketSessions, hashToken(id), v) })
	return id, err
}

// LookupSession returns a live session. Sessions past their expiry, made
// from a screen token since revoked, or of a user since removed or
// rewritten (User.Gen) are refused (EUnauthorized). A user session's role
// and subject are the user record's now, not those copied at sign-in.
// Both checks are single key reads: the screen token is found by its id's
// prefix of the token hash (tokenByID), not by a scan of all tokens.
func (db *DB) LookupSession(id string) (Session, error) {
	var s Session
	ended := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get(hashToken(id))
		if v == nil {
			return tiendo.Errorf(tiendo.EUnauthorized, "not signed in")
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		if s.TokenID != "" {
			_, t, ok := tokenByID(tx, s.TokenID)
			ended = !ok || t.Revoked
		}
		if s.User != "" {
			uv := tx.Bucket(bucketUsers).Get([]byte(s.User))
			var u User
			if uv == nil || json.Unmarshal(uv, &u) != nil || u.Gen != s.Gen {
				ended = true
			} else {
				s.Role, s.Subject = u.Role, u.Subject
			}
		}
		return nil
	})
	if err != nil {
		return Session{}, err
	}
	if ended || time.Now().After(s.Expires) {
		return Session{}, tiendo.Errorf(tiendo.EUnauthorized, "session ended; sign in again")
	}
	return s, nil
}

// EndSession deletes a session (sign out).
func (db *DB) EndSession(id string) error {
	return db.update(func(w *writeTx) error { return w.del(bucketSessions, hashToken(id)) })
}

// OneTime is a short-lived, single-use code that turns into a session: how a
// command-room screen signs in without anyone typing a password.
type OneTime struct {
	Session Session   `json:"session"`
	Expires time.Time `json:"expires"`
}

// NewOneTimeCode stores a code valid until expires for one use.
func (db *DB) NewOneTimeCode(o OneTime) (string, error) {
	code := randomString(24)
	v, _ := json.Marshal(o)
	err := db.update(func(w *writeTx) error { return w.put(bucketOneTime, hashToken(code), v) })
	return code, err
}

// UseOneTimeCode consumes a code and returns the session it grants.
func (db *DB) UseOneTimeCode(code string) (Session, error) {
	var o OneTime
	err := db.update(func(w *writeTx) error {
		key := hashToken(code)
		v := w.Bucket(bucketOneTime).Get(key)
		if v == nil {
			return tiendo.Errorf(tiendo.EUnauthorized, "link unknown or already used")
		}
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		return w.delOnce(bucketOneTime, key, true)
	})
	if errors.Is(err, ErrConflict) {
		err = tiendo.Errorf(tiendo.EUnauthorized, "link unknown or already used")
	}
	if err != nil {
		return Session{}, err
	}
	if time.Now().After(o.Expires) {
		return Session{}, tiendo.Errorf(tiendo.EUnauthorized, "link expired; ask for a new one")
	}
	return o.Session, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
