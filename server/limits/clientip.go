package limits

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies is the set of trusted reverse proxies (TRUSTED_PROXIES).
type Proxies []netip.Prefix

// ParseProxies parses a comma-separated list of CIDRs or addresses.
func ParseProxies(s string) (Proxies, error) {
	var out Proxies
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR", f)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Trusts reports whether addr is a trusted proxy.
func (p Proxies) Trusts(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, pr := range p {
		if pr.Contains(addr) {
			return true
		}
	}
	return false
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// FromTrustedProxy reports whether the request's peer is a trusted proxy.
func (p Proxies) FromTrustedProxy(r *http.Request) bool { return p.Trusts(remoteAddr(r)) }

// ClientIP is the peer address, or, when the peer is a trusted proxy, the
// right-most X-Forwarded-For address that is not itself a trusted proxy.
func (p Proxies) ClientIP(r *http.Request) string {
	addr := remoteAddr(r)
	if !p.Trusts(addr) {
		return addr.String()
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !p.Trusts(a) {
			return a.Unmap().String()
		}
	}
	return addr.String()
}

// Secure reports whether the client reached us over HTTPS: TLS on this
// connection, or X-Forwarded-Proto: https set by a trusted proxy.
func (p Proxies) Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return p.FromTrustedProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

type clientIPKey struct{}

// NewContextWithClientIP returns ctx carrying the client IP.
func NewContextWithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIPFromContext returns the client IP set by the middleware.
func ClientIPFromContext(ctx context.Context) string {
	s, _ := ctx.Value(clientIPKey{}).(string)
	return s
}
