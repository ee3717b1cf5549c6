package client_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"dicoso/sync/client"
)

// A device file under a folder whose name holds URI delimiters ('#', '?',
// '%') is opened where it was asked for, and reopened with what it kept.
func TestDeviceFileUnderURIDelimitersIsThatFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, dir := range []string{"a#b", "a?b", "100%", "x?y#z%41"} {
		parent := filepath.Join(t.TempDir(), dir)
		if err := os.Mkdir(parent, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(parent, "device.db")
		d, err := client.Open(ctx, path, client.Options{BaseURL: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatalf("open %q: %v", path, err)
		}
		id := d.ID()
		d.Close()
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%q: the device file is not where it was asked to be: %v", path, err)
		}
		again, err := client.Open(ctx, path, client.Options{BaseURL: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatalf("reopen %q: %v", path, err)
		}
		if got := again.ID(); got != id {
			t.Fatalf("%q: reopened device is %s, want %s", path, got, id)
		}
		again.Close()
	}
}
