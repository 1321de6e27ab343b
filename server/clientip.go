package server

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// proxySet is the reverse proxies the server believes about a client's
// address (--trusted-proxies): single addresses or CIDR prefixes.
type proxySet []netip.Prefix

// parseProxySet reads --trusted-proxies entries; Config.Validate has
// already refused anything that is neither an address nor a prefix.
func parseProxySet(entries []string) (proxySet, error) {
	var set proxySet
	for _, e := range entries {
		p, err := parseProxy(e)
		if err != nil {
			return nil, err
		}
		set = append(set, p)
	}
	return set, nil
}

func parseProxy(e string) (netip.Prefix, error) {
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(e)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (ps proxySet) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address a request really comes from, for limits and
// the audit log. The peer of the TCP connection, unless that peer is a
// trusted proxy: then X-Forwarded-For is read from the right (each proxy
// appends the address it saw), skipping trusted proxies, and the first
// address that is not one is the client. Everything left of it was written
// by the client and is never believed; a header that names no usable
// address leaves the proxy's own address.
func (ps proxySet) clientAddr(c *fiber.Ctx) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	peer = peer.Unmap()
	if len(ps) == 0 || !ps.contains(peer) {
		return peer
	}
	client := peer
	hops := c.Request().Header.PeekAll(fiber.HeaderXForwardedFor)
	for h := len(hops) - 1; h >= 0; h-- {
		parts := strings.Split(string(hops[h]), ",")
		for i := len(parts) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
			if err != nil {
				return client
			}
			client = a.Unmap()
			if !ps.contains(client) {
				return client
			}
		}
	}
	return client
}

// clientIP is clientAddr as text.
func (s *Server) clientIP(c *fiber.Ctx) string { return s.proxies.clientAddr(c).String() }
