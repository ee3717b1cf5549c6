package cli

import (
	"context"
	"testing"

	"dicoso/sync/loadgen"
)

// The load generator drives the real server with real device clients: a
// short run must merge every change it writes, refuse none, and measure
// both sides of its ratio.
func TestLoadgenMergesEveryChange(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	srv := startServer(t, buildBinary(t), t.TempDir())
	cfg := loadgen.Config{BaseURL: srv.url, AdminUser: "admin", AdminPassword: testAdminPassword,
		Devices: 3, Batch: 20, Rounds: 2, Dir: t.TempDir()}
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("loadgen: %v\nserver stderr:\n%s", err, srv.stderr)
	}
	if want := int64(cfg.Devices * cfg.Batch * cfg.Rounds); res.Applied != want || res.Rejected != 0 {
		t.Fatalf("applied %d, rejected %d; want %d applied, none rejected", res.Applied, res.Rejected, want)
	}
	if res.ChangesPerSec <= 0 || res.RawInsertsPerSec <= 0 || res.BytesPerChange <= 0 || res.BodyBytesPerChange <= 0 || res.Push.P99 <= 0 || res.Pull.P99 <= 0 {
		t.Fatalf("a measurement is missing: %+v", res)
	}
	t.Log("\n" + res.String())
}
