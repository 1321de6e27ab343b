// Package local keeps the server's own state in DIR/state.db (bbolt), next
// to whichever ClickHouse engine holds the events: the station registry,
// hashed access tokens, the event ledger that makes acceptance exactly-once
// across retries and restarts, and the spool that holds accepted events
// until they are in ClickHouse.
package local

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"tiendo"
)

var (
	bucketStations = []byte("stations")
	bucketTokens   = []byte("tokens") // sha256(token) -> Token JSON
	bucketLedger   = []byte("ledger") // station\x00id of every accepted event
)

// Committed marks a key in the ledger: the event was accepted (spooled).
const Committed byte = 'c'

// DB is the server's local state database.
type DB struct {
	bolt *bolt.DB
	// shared, in a cluster, is where writes to the shared buckets go first (shared.go).
	shared Shared
	// passwordIter is the PBKDF2 cost of new password hashes; 0 means
	// pbkdf2Iterations (see SetPasswordIterations).
	passwordIter atomic.Int64
}

// Open opens (creating) dir/state.db.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open state: %w", err)
	}
	b, err := bolt.Open(filepath.Join(dir, "state.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open state %s: another tiendo process holds it", dir)
		}
		return nil, fmt.Errorf("open state: %w", err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketStations, bucketTokens, bucketLedger, bucketSpool, bucketMeta, bucketCorrupt, bucketUsers, bucketSessions, bucketOneTime, bucketMoveAnswers, bucketDistrictQuotas, bucketNotes,
			bucketAlerts, bucketAlertsOpen, bucketAlertDays, bucketAlertHook} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("open state: %w", err)
	}
	return &DB{bolt: b}, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.bolt.Close() }

// SaveStations replaces the station registry.
func (db *DB) SaveStations(stations []tiendo.Station) error {
	return db.update(func(w *writeTx) error { return putStations(w, stations) })
}

// Stations returns the saved registry, empty if none was saved.
func (db *DB) Stations() ([]tiendo.Station, error) {
	var out []tiendo.Station
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStations).ForEach(func(_, v []byte) error {
			var s tiendo.Station
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out = append(out, s)
			return nil
		})
	})
	return out, err
}

// Token is what the server knows of an issued token; the secret itself is
// never stored, only its SHA-256.
type Token struct {
	ID      string      `json:"id"` // short public id, for listing and revoking
	Role    tiendo.Role `json:"role"`
	Subject string      `json:"subject,omitempty"` // station or district id, per role
	Created time.Time   `json:"created"`
	Revoked bool        `json:"revoked,omitempty"`
}

// TokenPrefix starts every token, so a leaked one is easy to recognise in logs and scanners.
const TokenPrefix = "tdo_"

func hashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// IssueToken creates a token for role and subject and returns its secret,
// shown once, and its record.
func (db *DB) IssueToken(role tiendo.Role, subject string) (string, Token, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Token{}, err
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	h := hashToken(secret)
	t := Token{ID: hex.EncodeToString(h[:6]), Role: role, Subject: subject, Created: time.Now().UTC()}
	v, _ := json.Marshal(t)
	err := db.update(func(w *writeTx) error { return w.put(bucketTokens, h, v) })
	if err != nil {
		return "", Token{}, fmt.Errorf("issue token: %w", err)
	}
	return secret, t, nil
}

// LookupToken returns the record of a live token. It returns an
// EUnauthorized *tiendo.Error for unknown or revoked tokens.
func (db *DB) LookupToken(secret string) (Token, error) {
	var t Token
	if !strings.HasPrefix(secret, TokenPrefix) {
		return t, tiendo.Errorf(tiendo.EUnauthorized, "unknown token")
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTokens).Get(hashToken(secret))
		if v == nil {
			return tiendo.Errorf(tiendo.EUnauthorized, "unknown token")
		}
		return json.Unmarshal(v, &t)
	})
	if err == nil && t.Revoked {
		err = tiendo.Errorf(tiendo.EUnauthorized, "token revoked")
	}
	return t, err
}

// RevokeToken revokes the token whose secret or public id is given. It
// returns ENotFound when none matches.
func (db *DB) RevokeToken(secretOrID string) (Token, error) {
	var t Token
	err := db.update(func(w *writeTx) error {
		key := hashToken(secretOrID)
		v := w.Bucket(bucketTokens).Get(key)
		if v != nil {
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
		} else {
			var ok bool
			if key, t, ok = tokenByID(w.Tx, secretOrID); !ok {
				return tiendo.Errorf(tiendo.ENotFound, "no token with that id")
			}
		}
		t.Revoked = true
		nv, _ := json.Marshal(t)
		return w.put(bucketTokens, key, nv)
	})
	return t, err
}

// TokenByID returns the record of the token with public id id (revoked
// or not); ENotFound if there is none.
func (db *DB) TokenByID(id string) (Token, error) {
	var t Token
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		_, t, ok = tokenByID(tx, id)
		return nil
	})
	if err == nil && !ok {
		err = tiendo.Errorf(tiendo.ENotFound, "no token with id %q", id)
	}
	return t, err
}

// tokenByID finds a token by its public id. The id is the hex of the first
// six bytes of the token's hash, which is the key, so a cursor seek finds
// it in one B-tree descent rather than a scan of every token: screen
// sessions look their token up on every request.
func tokenByID(tx *bolt.Tx, id string) ([]byte, Token, bool) {
	prefix, err := hex.DecodeString(id)
	if err != nil || len(prefix) != 6 {
		return nil, Token{}, false
	}
	c := tx.Bucket(bucketTokens).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var t Token
		if json.Unmarshal(v, &t) == nil && t.ID == id {
			return bytes.Clone(k), t, true
		}
	}
	return nil, Token{}, false
}

// Tokens lists all token records.
func (db *DB) Tokens() ([]Token, error) {
	var out []Token
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(_, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

var keyCampaign = []byte("campaign")

// BindCampaign ties the data directory to one campaign: the first call
// records id; a later one with another id fails, naming both. A directory
// holds one campaign's tokens, ledger and events, and serving it as
// another would count the other campaign's events under this one's
// stations (and the other way round). A directory written before the
// binding (it has tokens or a ledger but no campaign) holds legacy, the
// one campaign the binary served then.
func (db *DB) BindCampaign(id, legacy string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		had := meta.Get(keyCampaign)
		if had == nil {
			if k, _ := tx.Bucket(bucketTokens).Cursor().First(); k == nil {
				if k, _ := tx.Bucket(bucketLedger).Cursor().First(); k == nil {
					return meta.Put(keyCampaign, []byte(id))
				}
			}
			had = []byte(legacy)
			if err := meta.Put(keyCampaign, had); err != nil {
				return err
			}
		}
		if string(had) != id {
			return tiendo.Errorf(tiendo.EInvalid, "this data directory holds the campaign %q, not %q: serve it with --campaign %s, or give another --data for %s",
				had, id, had, id)
		}
		return nil
	})
}
