package config

import (
	"io"
	"net/netip"
	"slices"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "DICOSO_TRUSTED_PROXIES" {
				return v
			}
			return ""
		}
	}
	prefixes := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	cases := []struct {
		name string
		env  string
		args []string
		want []netip.Prefix
	}{
		{"none by default", "", nil, nil},
		{"from the environment", "10.0.0.0/8, fd00::/8", nil, prefixes("10.0.0.0/8", "fd00::/8")},
		{"the flag wins", "10.0.0.0/8", []string{"-trusted-proxies", "192.0.2.10"}, prefixes("192.0.2.10/32")},
		{"a bare IPv6 address", "", []string{"-trusted-proxies=::1"}, prefixes("::1/128")},
		{"host bits dropped", "172.16.5.4/12", nil, prefixes("172.16.0.0/12")},
		{"the flag empties the list", "10.0.0.0/8", []string{"-trusted-proxies="}, nil},
	}
	for _, tc := range cases {
		c, _, err := Parse("serve", tc.args, env(tc.env), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.Equal(c.TrustedProxies, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, c.TrustedProxies, tc.want)
		}
	}

	for _, bad := range []string{"10.0.0.0/33", "proxy.local", "10.0.0/8"} {
		if _, _, err := Parse("serve", nil, env(bad), io.Discard); err == nil {
			t.Errorf("DICOSO_TRUSTED_PROXIES=%q accepted", bad)
		}
		if _, _, err := Parse("serve", []string{"-trusted-proxies", bad}, env(""), io.Discard); err == nil {
			t.Errorf("-trusted-proxies %q accepted", bad)
		}
	}
}

// The profiler shows request data: it may listen on loopback only.
func TestDebugAddrIsLoopbackOnly(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	for _, ok := range []string{"127.0.0.1:6060", "localhost:6060", "[::1]:6060", "127.0.0.1:0"} {
		c, _, err := Parse("serve", []string{"-debug-addr", ok}, none, io.Discard)
		if err != nil || c.DebugAddr != ok {
			t.Errorf("-debug-addr %q: %q, %v", ok, c.DebugAddr, err)
		}
	}
	for _, bad := range []string{":6060", "0.0.0.0:6060", "192.0.2.1:6060", "[::]:6060", "example.org:6060", "127.0.0.1"} {
		if _, _, err := Parse("serve", []string{"-debug-addr", bad}, none, io.Discard); err == nil {
			t.Errorf("-debug-addr %q accepted", bad)
		}
	}
	if c, _, err := Parse("serve", nil, none, io.Discard); err != nil || c.DebugAddr != "" {
		t.Errorf("a profiler by default: %q, %v", c.DebugAddr, err)
	}
}
