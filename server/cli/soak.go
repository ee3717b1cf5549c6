package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"

	"dicoso/server/soak"
)

// soakCmd runs `dicoso soak`: the SIGKILL crash cycle, many times, against
// this very binary run as a server on a scratch data directory.
func soakCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := soak.Config{Env: soak.Env()}
	fs.IntVar(&cfg.Cycles, "cycles", 100, "kill-and-restart cycles")
	fs.IntVar(&cfg.Devices, "devices", 4, "devices pushing at once")
	fs.IntVar(&cfg.Batch, "batch", 50, "changes per push")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the kill moments and the edits (0: a fresh one, printed)")
	fs.StringVar(&cfg.Binary, "bin", "", "the dicoso binary to run as the server (default: this one)")
	dir := fs.String("dir", os.TempDir(), "where to make the scratch data directory")
	keep := fs.Bool("keep", false, "keep the data directory (it is always kept when a change is lost)")
	quiet := fs.Bool("q", false, "no line per cycle on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("soak: unexpected argument %q", fs.Arg(0))
	}
	if strings.ContainsAny(*dir, "#?") {
		// SQLite reads the store's path as a URI: it would end there.
		return fmt.Errorf("soak: -dir %q: a path with '#' or '?' is not supported", *dir)
	}
	if cfg.Binary == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("soak: find this binary: %w", err)
		}
		cfg.Binary = self
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64N(1 << 53)
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	data, err := os.MkdirTemp(*dir, "dicoso-soak-")
	if err != nil {
		return fmt.Errorf("soak: data directory: %w", err)
	}
	cfg.DataDir = data
	fmt.Fprintf(stderr, "soak: seed %d, data directory %s\n", cfg.Seed, data)
	res, err := soak.Run(ctx, cfg)
	if res.Cycles > 0 {
		fmt.Fprint(stdout, res.String())
	}
	if err != nil {
		if !errors.Is(err, soak.ErrLost) && !*keep {
			os.RemoveAll(data)
		}
		return fmt.Errorf("soak (seed %d, data %s): %w", cfg.Seed, data, err)
	}
	if !*keep {
		return os.RemoveAll(data)
	}
	return nil
}
