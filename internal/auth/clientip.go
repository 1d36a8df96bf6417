package auth

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the networks of the reverse proxies trusted to say, in
// X-Forwarded-For, which client they forward. Without them every login
// behind a proxy comes from the proxy's address, and the per-address login
// limits then hold back everyone at once. The zero value trusts nobody.
type Proxies []netip.Prefix

// ParseProxies reads addresses ("10.0.0.7") and networks ("10.0.0.0/8",
// "fd00::/8").
func ParseProxies(list []string) (Proxies, error) {
	p := make(Proxies, 0, len(list))
	for _, s := range list {
		pfx, err := parseProxy(s)
		if err != nil {
			return nil, err
		}
		p = append(p, pfx)
	}
	return p, nil
}

func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or network, e.g. 10.0.0.0/8 or 10.0.0.7", s)
		}
		return pfx.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or network, e.g. 10.0.0.0/8 or 10.0.0.7", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

func (p Proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, pfx := range p {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the address of the client behind r. When r comes from a
// trusted proxy, that is the right-most address of X-Forwarded-For that is
// not itself a trusted proxy: each proxy appends the address it got the
// request from, so entries to its left were written by the client and
// prove nothing. Otherwise, or when the header is absent or malformed, it
// is the peer's own address.
func (p Proxies) ClientIP(r *http.Request) string {
	peer := remoteHost(r)
	a, err := netip.ParseAddr(peer)
	if err != nil || len(p) == 0 || !p.trusted(a) {
		return peer
	}
	hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(hops[i])
		if err != nil {
			return peer // a proxy we trust wrote nonsense: do not guess
		}
		if !p.trusted(h) {
			return h.Unmap().String()
		}
		peer = h.Unmap().String()
	}
	return peer
}

// forwardedFor splits X-Forwarded-For lines into addresses, in order.
func forwardedFor(lines []string) []string {
	var out []string
	for _, l := range lines {
		for part := range strings.SplitSeq(l, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}
