package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A device names its changes with time-ordered ids (UUID version 7, the
// creation time first), so the server's change-id index grows at its end.
func TestChangeIDsAreTimeOrdered(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	phone := w.device(t, "hoa-phone", "hoa", nil, nil)
	before := time.Now().Add(-time.Second)
	note := uuid.NewString()
	var prev uuid.UUID
	for i := range 3 {
		id, err := phone.Upsert(context.Background(), "visit_notes", note, w.note("hoa", 0, "Kết quả"))
		if err != nil {
			t.Fatal(err)
		}
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 7 {
			t.Fatalf("change id %q is not a version 7 UUID (%v)", id, err)
		}
		sec, nsec := u.Time().UnixTime()
		if at := time.Unix(sec, nsec); at.Before(before) || at.After(time.Now().Add(time.Second)) {
			t.Fatalf("change id %s says %s, not now", id, at)
		}
		if i > 0 && u.String()[:13] < prev.String()[:13] {
			t.Fatalf("change id %s is older than the one before it, %s", u, prev)
		}
		prev = u
		time.Sleep(2 * time.Millisecond)
	}
}
