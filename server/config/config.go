// Package config holds the server's settings in one typed struct, read from
// flags and DICOSO_* environment variables (flags win) and validated once.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting the server reads at start.
type Config struct {
	Addr    string // listen address
	DataDir string // holds dicoso.db, the JWT secret and attachment blobs
	// DatabaseURL, when set, is the PostgreSQL database the store lives in
	// (postgres://user:password@host:port/db?sslmode=...) instead of
	// DataDir's dicoso.db. DataDir still holds the secret and attachments.
	DatabaseURL        string
	AdminPassword      string        // password of the first admin; generated when empty
	JWTSecret          string        // HMAC key; generated and kept in DataDir when empty
	MaxBodyBytes       int64         // limit of a JSON request body
	MaxAttachmentBytes int64         // limit of one attachment
	ClockSkew          time.Duration // how far ahead of the server a pushed HLC may be
	AccessTTL          time.Duration // lifetime of an access token
	RefreshTTL         time.Duration // lifetime of a refresh token
	LogLevel           slog.Level
	ShutdownTimeout    time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed: the client address (logs, login limits) is the nearest
	// address in it that is not one of them. None by default: the address
	// is the connection's, and the header is ignored.
	TrustedProxies []netip.Prefix
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) on a
	// listener of its own, for operators measuring a live server. Loopback
	// addresses only: profiles show request data.
	DebugAddr string
}

// DBPath is the central store's file.
func (c Config) DBPath() string { return filepath.Join(c.DataDir, "dicoso.db") }

// Default is the configuration with nothing set.
func Default() Config {
	return Config{
		Addr:               ":8080",
		DataDir:            "./data",
		MaxBodyBytes:       4 << 20,
		MaxAttachmentBytes: 10 << 20,
		ClockSkew:          5 * time.Minute,
		AccessTTL:          15 * time.Minute,
		RefreshTTL:         30 * 24 * time.Hour,
		LogLevel:           slog.LevelInfo,
		ShutdownTimeout:    15 * time.Second,
	}
}

// Parse reads the environment (through getenv) and then args. Unknown flags
// and malformed values are errors. Positional arguments left after the flags
// are returned.
func Parse(name string, args []string, getenv func(string) string, out io.Writer) (Config, []string, error) {
	c := Default()
	fromEnv := []struct {
		key string
		set func(string) error
	}{
		{"DICOSO_ADDR", func(v string) error { c.Addr = v; return nil }},
		{"DICOSO_DATA", func(v string) error { c.DataDir = v; return nil }},
		{"DICOSO_DATABASE_URL", func(v string) error { c.DatabaseURL = v; return nil }},
		{"DICOSO_ADMIN_PASSWORD", func(v string) error { c.AdminPassword = v; return nil }},
		{"DICOSO_JWT_SECRET", func(v string) error { c.JWTSecret = v; return nil }},
		{"DICOSO_MAX_BODY_BYTES", intSetter(&c.MaxBodyBytes)},
		{"DICOSO_MAX_ATTACHMENT_BYTES", intSetter(&c.MaxAttachmentBytes)},
		{"DICOSO_CLOCK_SKEW", durationSetter(&c.ClockSkew)},
		{"DICOSO_LOG_LEVEL", func(v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
		{"DICOSO_TRUSTED_PROXIES", prefixesSetter(&c.TrustedProxies)},
		{"DICOSO_DEBUG_ADDR", func(v string) error { c.DebugAddr = v; return nil }},
	}
	for _, e := range fromEnv {
		if v := strings.TrimSpace(getenv(e.key)); v != "" {
			if err := e.set(v); err != nil {
				return c, nil, fmt.Errorf("%s=%q: %w", e.key, v, err)
			}
		}
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (DICOSO_ADDR)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory: store, secret, attachments (DICOSO_DATA)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL,
		"PostgreSQL store, postgres://user:password@host:port/db?sslmode=...; empty: the SQLite file in the data directory (DICOSO_DATABASE_URL)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest JSON request body (DICOSO_MAX_BODY_BYTES)")
	fs.Int64Var(&c.MaxAttachmentBytes, "max-attachment-bytes", c.MaxAttachmentBytes, "largest attachment (DICOSO_MAX_ATTACHMENT_BYTES)")
	fs.DurationVar(&c.ClockSkew, "clock-skew", c.ClockSkew, "how far ahead of server time a pushed clock may be (DICOSO_CLOCK_SKEW)")
	fs.Func("log-level", "debug, info, warn or error (DICOSO_LOG_LEVEL)", func(v string) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	})
	fs.Func("trusted-proxies", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed; none by default (DICOSO_TRUSTED_PROXIES)",
		prefixesSetter(&c.TrustedProxies))
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr,
		"loopback address serving Go's profiler at /debug/pprof/, e.g. 127.0.0.1:6060; empty: none (DICOSO_DEBUG_ADDR)")
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	return c, fs.Args(), c.Validate()
}

// Validate checks the values together.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr is empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is empty"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("database URL must start with postgres:// or postgresql://"))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("max body bytes %d is below 1024", c.MaxBodyBytes))
	}
	if c.MaxAttachmentBytes < 1024 {
		errs = append(errs, fmt.Errorf("max attachment bytes %d is below 1024", c.MaxAttachmentBytes))
	}
	if c.ClockSkew <= 0 {
		errs = append(errs, fmt.Errorf("clock skew %s must be positive", c.ClockSkew))
	}
	if c.DebugAddr != "" {
		host, _, err := net.SplitHostPort(c.DebugAddr)
		ip, perr := netip.ParseAddr(host)
		if err != nil || (host != "localhost" && (perr != nil || !ip.IsLoopback())) {
			errs = append(errs, fmt.Errorf("debug address %q must be a loopback host:port, such as 127.0.0.1:6060", c.DebugAddr))
		}
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("DICOSO_JWT_SECRET must be at least 32 characters"))
	}
	return errors.Join(errs...)
}

func intSetter(p *int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		*p = n
		return nil
	}
}

func durationSetter(p *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*p = d
		return nil
	}
}

// prefixesSetter parses a comma-separated list of CIDRs ("10.0.0.0/8,
// fd00::/8"); a bare address stands for itself alone. Blank items are
// skipped, so "" is the empty list.
func prefixesSetter(p *[]netip.Prefix) func(string) error {
	return func(v string) error {
		var out []netip.Prefix
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			pre, err := netip.ParsePrefix(item)
			if err != nil {
				a, aerr := netip.ParseAddr(item)
				if aerr != nil {
					return fmt.Errorf("%q is not a CIDR (like 10.0.0.0/8) or an address", item)
				}
				pre = netip.PrefixFrom(a.WithZone(""), a.BitLen())
			}
			if !pre.IsValid() {
				return fmt.Errorf("%q is not a CIDR (like 10.0.0.0/8) or an address", item)
			}
			out = append(out, pre.Masked())
		}
		*p = out
		return nil
	}
}
