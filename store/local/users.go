package local

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
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
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Subject string    `json:"subject,omitempty"`
	Salt    []byte    `json:"salt"`
	Hash    []byte    `json:"hash"` // PBKDF2-SHA256 of the password
	Created time.Time `json:"created"`
}

// pbkdf2Iterations follows OWASP's 2023 advice for PBKDF2-HMAC-SHA256.
const pbkdf2Iterations = 600_000

func passwordHash(password string, salt []byte) []byte {
	h, _ := pbkdf2.Key(sha256.New, password, salt, pbkdf2Iterations, 32)
	return h
}

// PutUser creates or replaces a user with the given password.
func (db *DB) PutUser(name, role, subject, password string) (User, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return User{}, err
	}
	u := User{Name: name, Role: role, Subject: subject, Salt: salt, Hash: passwordHash(password, salt), Created: time.Now().UTC()}
	v, _ := json.Marshal(u)
	err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketUsers).Put([]byte(name), v) })
	return u, err
}

// CheckPassword returns the user if name and password match; otherwise an
// EUnauthorized error that does not say which of the two was wrong.
func (db *DB) CheckPassword(name, password string) (User, error) {
	var u User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketUsers).Get([]byte(name))
		if v == nil {
			return errBadLogin
		}
		return json.Unmarshal(v, &u)
	})
	if err != nil {
		passwordHash(password, []byte("timing-equaliser")) // same cost whether or not the user exists
		return User{}, errBadLogin
	}
	if subtle.ConstantTimeCompare(passwordHash(password, u.Salt), u.Hash) != 1 {
		return User{}, errBadLogin
	}
	return u, nil
}

var errBadLogin = tiendo.Errorf(tiendo.EUnauthorized, "wrong name or password")

// Session is a signed-in browser: a person, or a screen opened by a link.
type Session struct {
	Role    string    `json:"role"`
	Subject string    `json:"subject,omitempty"`
	User    string    `json:"user,omitempty"`     // the person, for a login session
	TokenID string    `json:"token_id,omitempty"` // the screen token, for a link session: revoking it ends the session
	Expires time.Time `json:"expires"`
}

// NewSession stores s and returns the random id that the cookie carries.
func (db *DB) NewSession(s Session) (string, error) {
	id := randomString(32)
	v, _ := json.Marshal(s)
	err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Put(hashToken(id), v) })
	return id, err
}

// LookupSession returns a live session. Sessions past their expiry, or made
// from a screen token since revoked, are refused (EUnauthorized).
func (db *DB) LookupSession(id string) (Session, error) {
	var s Session
	var tokenRevoked bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get(hashToken(id))
		if v == nil {
			return tiendo.Errorf(tiendo.EUnauthorized, "not signed in")
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		if s.TokenID != "" {
			tokenRevoked = true
			_ = tx.Bucket(bucketTokens).ForEach(func(_, tv []byte) error {
				var t Token
				if json.Unmarshal(tv, &t) == nil && t.ID == s.TokenID && !t.Revoked {
					tokenRevoked = false
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return Session{}, err
	}
	if tokenRevoked || time.Now().After(s.Expires) {
		return Session{}, tiendo.Errorf(tiendo.EUnauthorized, "session ended; sign in again")
	}
	return s, nil
}

// EndSession deletes a session (sign out).
func (db *DB) EndSession(id string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete(hashToken(id)) })
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
	err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOneTime).Put(hashToken(code), v) })
	return code, err
}

// UseOneTimeCode consumes a code and returns the session it grants.
func (db *DB) UseOneTimeCode(code string) (Session, error) {
	var o OneTime
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOneTime)
		key := hashToken(code)
		v := b.Get(key)
		if v == nil {
			return tiendo.Errorf(tiendo.EUnauthorized, "link unknown or already used")
		}
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		return b.Delete(key)
	})
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
