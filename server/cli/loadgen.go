package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"dicoso/sync/loadgen"
)

// loadgenCmd runs `dicoso loadgen`: simulated devices against a live server.
func loadgenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := loadgen.Config{AdminUser: "admin", AdminPassword: getenv("DICOSO_ADMIN_PASSWORD")}
	fs.StringVar(&cfg.BaseURL, "url", "http://127.0.0.1:8080",
		"server to load; several processes of one server (on one PostgreSQL store) comma-separated, devices spread over them")
	fs.StringVar(&cfg.AdminUser, "admin", cfg.AdminUser, "admin user that creates the simulated users")
	fs.IntVar(&cfg.Devices, "devices", 100, "simulated devices (one secretary each)")
	fs.IntVar(&cfg.Batch, "batch", 100, "changes per push")
	fs.IntVar(&cfg.Rounds, "rounds", 10, "pushes per device")
	fs.DurationVar(&cfg.Interval, "interval", 0, "open load: each device pushes one batch every interval (0: back to back)")
	fs.StringVar(&cfg.Dir, "dir", filepath.Join(os.TempDir(), "dicoso-loadgen"), "device files and the raw-insert file (the disk measured)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "the server's process id on this machine: report its resident memory and CPU time (Linux)")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile (the devices' side) to this file")
	nice := fs.Int("nice", 10, "the load generator's niceness (Linux; 0 keeps it): on one machine the server gets the cores first, as it would beside devices that are phones")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if urls := strings.Split(cfg.BaseURL, ","); len(urls) > 1 {
		cfg.BaseURL, cfg.OtherURLs = urls[0], urls[1:]
	}
	if cfg.AdminPassword == "" {
		return fmt.Errorf("loadgen: set DICOSO_ADMIN_PASSWORD to the admin's password")
	}
	cfg.Log = newLogger(stderr, 0)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *nice > 0 {
		if err := lowerPriority(*nice); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "load generator at nice %d (the server it measures gets the cores first)\n", *nice)
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res.String())
	return nil
}
