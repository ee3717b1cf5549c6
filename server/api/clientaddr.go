package api

import (
	"net"
	"net/netip"

	"github.com/labstack/echo/v4"
)

// clientAddress is the one rule for a request's client address, which the
// access log shows and failed logins are counted against (c.RealIP()
// everywhere, through echo's IPExtractor).
//
// With no trusted proxy configured the address is the connection's, and
// X-Forwarded-For is ignored: anyone can write the header, so believing it
// would let a client pick a fresh address for every login guess. Behind
// trusted proxies, the header is read from the right (the entry the
// nearest proxy appended) past every trusted address, and the first one
// that is not trusted is the client: what a client writes into the header
// itself sits to the left of that and is never reached. Loopback and
// private networks are not trusted by default (echo's own default): on a
// shared host or network they are not necessarily our proxy.
func clientAddress(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{
			IP:   p.Addr().AsSlice(),
			Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
		}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
