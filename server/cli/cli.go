// Package cli is the dicoso command: it parses the subcommand and its flags,
// builds the program's parts and runs them.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	"dicoso/server/api"
	"dicoso/server/blob"
	"dicoso/server/config"
	"dicoso/server/seed"
	"dicoso/server/store"
	"dicoso/server/syncdb"
)

const usage = `usage: dicoso [command] [flags]

commands:
  serve            run the server (default)
  migrate          apply pending migrations and exit
  user add         create a user: -username -password -full-name -roles
  backup PATH      write a consistent copy of the live store to PATH
  store copy       move an SQLite store into an empty PostgreSQL database: --from FILE --to postgres://...
  loadgen          drive a live server with simulated devices and report throughput
  soak             kill this server with SIGKILL mid-push, again and again, and check nothing acknowledged is lost
  healthcheck      exit 0 when the server's /healthz answers (for containers)

Run 'dicoso serve -h' for the flags.
`

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		tuneGC(getenv)
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "user":
		return userCmd(ctx, args, getenv, os.Stdin, stdout, stderr)
	case "backup":
		return backup(ctx, args, getenv, stdout, stderr)
	case "store":
		return storeCmd(ctx, args, stdout, stderr)
	case "loadgen":
		tuneGC(getenv)
		return loadgenCmd(ctx, args, getenv, stdout, stderr)
	case "soak":
		return soakCmd(ctx, args, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// openStore makes the data directory and opens (and migrates) the store:
// PostgreSQL when a database URL is configured, else the SQLite file in the
// data directory.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if cfg.DatabaseURL != "" {
		return store.OpenPostgres(ctx, cfg.DatabaseURL)
	}
	return store.Open(ctx, cfg.DBPath())
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Parse("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	sdb := syncdb.New(st, syncdb.Options{ClockSkew: cfg.ClockSkew, Log: log})
	defer sdb.Close()
	if n, err := blob.New(filepath.Join(cfg.DataDir, "attachments")).SweepTemp(); err != nil {
		return err
	} else if n > 0 {
		log.Info("removed uploads left half-written by a crash", "files", n)
	}
	if _, err := seed.Load(ctx, st, sdb, log); err != nil {
		return fmt.Errorf("load the 2021 plan: %w", err)
	}
	authSvc, err := newAuth(cfg, st, sdb)
	if err != nil {
		return err
	}
	if err := bootstrapAdmin(ctx, authSvc, cfg.AdminPassword, stdout, log); err != nil {
		return err
	}

	srv := api.New(api.Deps{Config: cfg, Store: st, Log: log, Auth: authSvc, Sync: sdb})
	hs := &http.Server{
		Addr:              cfg.Addr,
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // attachments over a weak signal
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "data", cfg.DataDir,
		"trusted_proxies", fmt.Sprint(cfg.TrustedProxies))
	fmt.Fprintf(stdout, "dicoso is listening on http://%s\n", displayAddr(ln.Addr()))

	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// SIGTERM: stop accepting, let requests in flight (a push waiting for its
	// commit) finish, then close the store.
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveDebug serves Go's profiler on its own loopback listener
// (config.DebugAddr), apart from the API and its middleware.
func serveDebug(addr string, log *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the profiler: %w", err)
	}
	ds := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ds.Serve(ln) }()
	log.Info("profiler", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { _ = ds.Close() }, nil
}

func displayAddr(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", ta.Port)
	}
	return a.String()
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := config.Parse("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "store %s is at schema version %d\n", st.Path(), v)
	return nil
}

func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := config.Parse("backup", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("usage: dicoso backup [flags] PATH")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, rest[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", rest[0])
	return nil
}
