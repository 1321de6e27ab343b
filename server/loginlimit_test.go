package server

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// fakeClock is a settable now for the guard.
type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time      { return f.t }
func (f *fakeClock) add(d time.Duration) { f.t = f.t.Add(d) }
func newTestGuard(capacity int) (*signinGuard, *fakeClock) {
	clk := &fakeClock{t: time.Date(2021, 3, 20, 21, 0, 0, 0, time.UTC)}
	g := newSigninGuard(2, capacity)
	g.now = clk.now
	return g, clk
}

// H2: 100,000 distinct names (from as many addresses, so no limit stops
// them) leave at most the fixed capacity of keys, and the heap does not
// keep them. Before, every name stayed in the limiter's map.
func TestSigninLimiterStaysBoundedUnder100kNames(t *testing.T) {
	g, _ := newTestGuard(limiterCapacity)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 100_000; i++ {
		a := signinAttempt{addr: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), name: fmt.Sprintf("name-%06d-%s", i, "padding-to-forty-eight-characters-x")}
		if _, _, ok := g.allow(a); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	keys := g.limiterKeys()
	if keys > 3*limiterCapacity {
		t.Fatalf("%d keys after 100k names, want at most %d", keys, 3*limiterCapacity)
	}
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("100k names: %d keys held, heap %+.1f MB", keys, float64(grew)/(1<<20))
	if grew > 16<<20 {
		t.Errorf("heap grew %.1f MB for a bounded limiter", float64(grew)/(1<<20))
	}
	runtime.KeepAlive(g)
}

// The least recently used key is the one that goes; a key in use stays,
// with its spent tokens.
func TestBoundedBucketsEvictLeastRecentlyUsed(t *testing.T) {
	now := time.Date(2021, 3, 20, 0, 0, 0, 0, time.UTC)
	b := newBoundedBuckets(tierLimit{rate: 1.0 / 60, burst: 2}, 3)
	b.take("a", now)
	b.take("a", now) // a is empty
	b.take("b", now)
	b.take("c", now)
	b.take("a", now.Add(60*time.Second)) // a refilled one and spent it: a is the newest
	b.take("d", now.Add(60*time.Second)) // full: b, the least recently used, goes
	if b.len() != 3 {
		t.Fatalf("len = %d, want 3", b.len())
	}
	if _, ok := b.keys["b"]; ok {
		t.Error("b was kept; it was the least recently used")
	}
	if got := b.available("a", now.Add(60*time.Second)); got >= 1 {
		t.Errorf("a has %.2f tokens; its spent bucket must survive eviction of others", got)
	}
	b.forget("a")
	if got := b.available("a", now); got != 2 {
		t.Errorf("forgotten a has %.2f tokens, want a full bucket", got)
	}
}

// M5 and M3(b): the tiers. One address at one name is held after 10; the
// same name from another address still gets through; one address spraying
// names is held after 30; and one name is held after 30 tries from 30
// addresses, for 2 s.
func TestSigninTiers(t *testing.T) {
	g, clk := newTestGuard(limiterCapacity)
	attacker := signinAttempt{addr: "203.0.113.9", name: "chief1"}
	for i := 0; i < 10; i++ {
		if _, _, ok := g.allow(attacker); !ok {
			t.Fatalf("try %d refused", i)
		}
	}
	tier, wait, ok := g.allow(attacker)
	if ok || tier != tierAddrName || wait <= 0 || wait > time.Minute {
		t.Fatalf("11th try: ok=%v tier=%s wait=%v; want refused by %s within a minute", ok, tier, wait, tierAddrName)
	}
	if _, _, ok := g.allow(signinAttempt{addr: "198.51.100.7", name: "chief1"}); !ok {
		t.Fatal("the real user from another address was locked out by one attacker")
	}

	sprayer := "192.0.2.1"
	for i := 0; i < 30; i++ {
		if _, _, ok := g.allow(signinAttempt{addr: sprayer, name: fmt.Sprintf("u%d", i)}); !ok {
			t.Fatalf("spray %d refused", i)
		}
	}
	if tier, _, ok := g.allow(signinAttempt{addr: sprayer, name: "u30"}); ok || tier != tierAddr {
		t.Fatalf("31st name from one address: ok=%v tier=%s; want refused by %s", ok, tier, tierAddr)
	}

	// "target" already had none; 30 addresses take the name's burst.
	for i := 0; i < 30; i++ {
		if _, _, ok := g.allow(signinAttempt{addr: fmt.Sprintf("10.0.0.%d", i), name: "target"}); !ok {
			t.Fatalf("distributed try %d refused", i)
		}
	}
	tier, wait, ok = g.allow(signinAttempt{addr: "10.0.1.1", name: "target"})
	if ok || tier != tierUser || wait > 2*time.Second {
		t.Fatalf("31st address at one name: ok=%v tier=%s wait=%v; want refused by %s for at most 2 s", ok, tier, wait, tierUser)
	}
	clk.add(2 * time.Second)
	if _, _, ok := g.allow(signinAttempt{addr: "10.0.1.1", name: "target"}); !ok {
		t.Fatal("the name limit did not lift after 2 s")
	}
	// A refused try spent nothing: the refused address still has its burst.
	if got := g.tiers[tierAddr].available("10.0.1.1", clk.t); got != 29 {
		t.Errorf("address bucket after one counted try = %.0f, want 29", got)
	}
}

// A browser that signed in as a name before is counted on its own: the
// locked name and a busy shared address do not stop it; a cookie made for
// another name, or forged, is ignored.
func TestDeviceCookieBypassesSharedLimits(t *testing.T) {
	g, _ := newTestGuard(limiterCapacity)
	nat := "100.64.0.1" // a carrier NAT address shared with the attacker
	for i := 0; i < 10; i++ {
		g.allow(signinAttempt{addr: nat, name: "lan"})
	}
	if _, _, ok := g.allow(signinAttempt{addr: nat, name: "lan"}); ok {
		t.Fatal("setup: the (address, name) bucket is not empty")
	}
	cookie := g.deviceToken("lan")
	dev := g.deviceFor(cookie, "lan")
	if dev == "" {
		t.Fatal("a fresh device cookie was not recognised")
	}
	if _, _, ok := g.allow(signinAttempt{addr: nat, name: "lan", device: dev}); !ok {
		t.Fatal("the known device was locked out with the attacker")
	}
	if g.deviceFor(cookie, "other") != "" {
		t.Error("a device cookie made for lan counts for another name")
	}
	if g.deviceFor(cookie[:17]+"AAAAAAAAAAAAAAAAAAAAAA", "lan") != "" || g.deviceFor("garbage", "lan") != "" {
		t.Error("a forged device cookie was accepted")
	}
	other, _ := newTestGuard(limiterCapacity)
	if other.deviceFor(cookie, "lan") != "" {
		t.Error("another server's key accepted the cookie")
	}
}

// IPv6 clients are one client per /64.
func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":          "203.0.113.9",
		"::ffff:203.0.113.9":   "203.0.113.9",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"not an address":       "not an address",
	} {
		if got := addrKey(in); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// The pool hands out exactly its size, and never blocks.
func TestHashPool(t *testing.T) {
	g := newSigninGuard(2, 10)
	first, second := g.tryHash(), g.tryHash()
	if !first || !second {
		t.Fatal("the pool refused under its size")
	}
	start := time.Now()
	if g.tryHash() {
		t.Fatal("a third hashing got a slot in a pool of 2")
	}
	if d := time.Since(start); d > 10*time.Millisecond {
		t.Errorf("a full pool took %v to refuse", d)
	}
	g.release()
	if !g.tryHash() {
		t.Fatal("a released slot was not reusable")
	}
}
