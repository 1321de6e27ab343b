package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Sign-in is guarded in three ways before a password is ever hashed:
//
//   - input bounds: a name that cannot be a user name, or a password over
//     maxPasswordLen, is refused at once (no hash, no limiter entry), so a
//     4 MB name costs nothing to keep;
//   - token buckets per (address, name), per address and per name, held in
//     maps of fixed capacity (boundedBuckets), so no stream of new names
//     or addresses can grow memory;
//   - a pool of hashPoolSize concurrent PBKDF2 computations (about 80 ms of
//     CPU each): past it a request gets 429 at once, never a queue.
//
// The numbers (signinTiers) and why they are what they are:
//
//   - (address, name): 10 at once, then 1 a minute. A person mistyping gets
//     ten tries; one address can guess at one account about 1,450 times a
//     day, against 115-bit generated or ≥10-character chosen passwords.
//   - address: 30 at once, then 1 every 10 s (360 an hour). A command room
//     or office behind one NAT can sign 30 people in at a shift change;
//     spraying many names from one address is held to 360 guesses an hour.
//   - name: 30 at once, then 1 every 2 s, across all addresses. It slows a
//     distributed guesser to 1,800 an hour per account, but one address
//     can never empty it (it refills 30 a minute, one address adds at most
//     1 a minute after its first 10), so a single person cannot lock a
//     real user out from anywhere else; keeping an account locked takes
//     more than 30 addresses busy all the time, and the lock lifts within
//     a minute of them stopping.
//   - device: a browser that signed in as a name before carries a device
//     cookie for it (HMAC, tiendo_device); its tries at that name count
//     against its own bucket (10, then 1 a minute) instead of the address
//     and name buckets. A real user on a known phone or PC therefore gets
//     in even while the account is under attack, or from behind a carrier
//     NAT address shared with an attacker. The key lives in memory: after
//     a restart devices are unknown again and fall back to the other
//     limits, which is safe.
//
// IPv6 clients are keyed by their /64, which one subscriber usually holds
// whole: per-address limits would mean nothing if each of 2^64 addresses
// had its own.

// maxPasswordLen bounds a password before it is hashed: far beyond any
// real one, far below the 4 MB body limit.
const maxPasswordLen = 1024

type tierName string

const (
	tierAddrName tierName = "address+name"
	tierAddr     tierName = "address"
	tierUser     tierName = "name"
	tierDevice   tierName = "device"
)

// tierLimit is one token bucket: rate per second, and the burst.
type tierLimit struct {
	rate, burst float64
}

var signinTiers = map[tierName]tierLimit{
	tierAddrName: {rate: 1.0 / 60, burst: 10},
	tierAddr:     {rate: 1.0 / 10, burst: 30},
	tierUser:     {rate: 1.0 / 2, burst: 30},
	tierDevice:   {rate: 1.0 / 60, burst: 10},
}

// limiterCapacity is how many keys each tier keeps. A key's bucket is
// about 200 bytes with its map entry, so the four tiers together stay
// under 15 MB whatever arrives. When a tier is full its least recently
// used key goes: an idle one has refilled and holds no state; evicting a
// busy one returns a few tries to somebody, and pushing a key out takes
// limiterCapacity newer ones, which the address limit makes expensive.
const limiterCapacity = 16_384

// bucket is one key's tokens, linked in its tier's recency list.
type lruBucket struct {
	key        string
	tokens     float64
	last       time.Time
	prev, next *lruBucket
}

// boundedBuckets is a token-bucket limiter with a fixed number of keys,
// evicting the least recently used. It is not safe for concurrent use;
// signinGuard locks around it.
type boundedBuckets struct {
	limit      tierLimit
	capacity   int
	keys       map[string]*lruBucket
	head, tail *lruBucket // head is the most recently used
}

func newBoundedBuckets(limit tierLimit, capacity int) *boundedBuckets {
	return &boundedBuckets{limit: limit, capacity: capacity, keys: make(map[string]*lruBucket)}
}

// available is how many tokens key has at now (burst for an unknown key).
func (b *boundedBuckets) available(key string, now time.Time) float64 {
	e := b.keys[key]
	if e == nil {
		return b.limit.burst
	}
	return min(b.limit.burst, e.tokens+now.Sub(e.last).Seconds()*b.limit.rate)
}

// wait is how long until key has a whole token, given it has tokens now.
func (b *boundedBuckets) wait(tokens float64) time.Duration {
	return time.Duration((1 - tokens) / b.limit.rate * float64(time.Second))
}

// take removes one token from key (which must have one), making key the
// most recently used.
func (b *boundedBuckets) take(key string, now time.Time) {
	tokens := b.available(key, now) - 1
	e := b.keys[key]
	if e == nil {
		if len(b.keys) >= b.capacity {
			b.evict()
		}
		e = &lruBucket{key: key}
		b.keys[key] = e
	} else {
		b.unlink(e)
	}
	e.tokens, e.last = tokens, now
	b.pushFront(e)
}

// forget drops key: its next use starts with a full bucket.
func (b *boundedBuckets) forget(key string) {
	if e := b.keys[key]; e != nil {
		b.unlink(e)
		delete(b.keys, key)
	}
}

func (b *boundedBuckets) evict() {
	if e := b.tail; e != nil {
		b.unlink(e)
		delete(b.keys, e.key)
	}
}

func (b *boundedBuckets) unlink(e *lruBucket) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		b.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		b.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (b *boundedBuckets) pushFront(e *lruBucket) {
	e.next = b.head
	if b.head != nil {
		b.head.prev = e
	}
	b.head = e
	if b.tail == nil {
		b.tail = e
	}
}

func (b *boundedBuckets) len() int { return len(b.keys) }

// signinGuard holds the sign-in limits, the hash pool and the device key.
type signinGuard struct {
	mu    sync.Mutex
	tiers map[tierName]*boundedBuckets
	now   func() time.Time
	// hashes has one slot per password hashing allowed at once.
	hashes    chan struct{}
	deviceKey []byte
}

func newSigninGuard(poolSize, capacity int) *signinGuard {
	g := &signinGuard{tiers: map[tierName]*boundedBuckets{}, now: time.Now,
		hashes: make(chan struct{}, max(poolSize, 1)), deviceKey: make([]byte, 32)}
	for name, l := range signinTiers {
		g.tiers[name] = newBoundedBuckets(l, capacity)
	}
	if _, err := rand.Read(g.deviceKey); err != nil {
		panic(err)
	}
	return g
}

// signinAttempt names the buckets one try at a name is counted in.
type signinAttempt struct {
	addr, name string
	device     string // the device cookie's id when it is valid for name, else ""
}

// keys are the (tier, key) pairs an attempt is counted against.
func (a signinAttempt) keys() [][2]string {
	if a.device != "" {
		return [][2]string{{string(tierDevice), a.device}}
	}
	return [][2]string{
		{string(tierAddrName), a.addr + "|" + a.name},
		{string(tierAddr), a.addr},
		{string(tierUser), a.name},
	}
}

// allow counts an attempt in every bucket it belongs to, or in none: when
// one of them is empty it returns false, that tier and how long until a
// retry can pass. A refused attempt adds no key anywhere.
func (g *signinGuard) allow(a signinAttempt) (tierName, time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	var blocked tierName
	var wait time.Duration
	keys := a.keys()
	for _, k := range keys {
		b := g.tiers[tierName(k[0])]
		if tokens := b.available(k[1], now); tokens < 1 {
			if w := b.wait(tokens); w > wait || blocked == "" {
				blocked, wait = tierName(k[0]), w
			}
		}
	}
	if blocked != "" {
		return blocked, wait, false
	}
	for _, k := range keys {
		g.tiers[tierName(k[0])].take(k[1], now)
	}
	return "", 0, true
}

// succeeded resets the attempt's own (address, name) or device bucket: the
// person who mistyped nine times and then got it right starts afresh. The
// address and name buckets keep what others spent.
func (g *signinGuard) succeeded(a signinAttempt) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if a.device != "" {
		g.tiers[tierDevice].forget(a.device)
		return
	}
	g.tiers[tierAddrName].forget(a.addr + "|" + a.name)
}

// tryHash takes a hashing slot if one is free; release gives it back.
func (g *signinGuard) tryHash() bool {
	select {
	case g.hashes <- struct{}{}:
		return true
	default:
		return false
	}
}

func (g *signinGuard) release() { <-g.hashes }

// hashing is how many slots are taken now.
func (g *signinGuard) hashing() int { return len(g.hashes) }

// limiterKeys is how many keys the tiers hold, for tests and metrics.
func (g *signinGuard) limiterKeys() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, b := range g.tiers {
		n += b.len()
	}
	return n
}

// addrKey is the limiter's key for a client address: IPv4 as it is, IPv6
// by its /64.
func addrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}

// deviceCookie remembers that this browser signed in as a name: it lets
// the browser's later tries at that name skip the address and name limits
// (see above). It proves only that; it never authenticates anything.
const deviceCookie = "tiendo_device"

// deviceTTL is how long a browser stays a known device for its name.
const deviceTTL = 180 * 24 * time.Hour

// deviceToken makes a cookie value for name: random id "." MAC(id, name).
func (g *signinGuard) deviceToken(name string) string {
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		panic(err)
	}
	sid := base64.RawURLEncoding.EncodeToString(id)
	return sid + "." + g.deviceMAC(sid, name)
}

func (g *signinGuard) deviceMAC(id, name string) string {
	m := hmac.New(sha256.New, g.deviceKey)
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(name))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// deviceFor returns the device id of a cookie value that was made for
// name by this process, or "".
func (g *signinGuard) deviceFor(cookie, name string) string {
	id, mac, ok := strings.Cut(cookie, ".")
	if !ok || len(id) != 16 || len(mac) > 32 {
		return ""
	}
	if subtle.ConstantTimeCompare([]byte(mac), []byte(g.deviceMAC(id, name))) != 1 {
		return ""
	}
	return id
}

// retryAfterSeconds is Retry-After for a wait: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
