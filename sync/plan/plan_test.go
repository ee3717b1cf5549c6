package plan

import (
	"testing"
	"time"
)

func TestUntilTomorrowIsVietnamsMidnight(t *testing.T) {
	for _, c := range []struct {
		utc  string
		want time.Duration
	}{
		{"2026-11-30T16:59:59Z", time.Second},    // 23:59:59 in Hà Nội
		{"2026-11-30T17:00:00Z", 24 * time.Hour}, // midnight: a whole day ahead
		{"2026-11-30T23:30:00Z", 17*time.Hour + 30*time.Minute},
		{"2026-12-31T16:00:00Z", time.Hour}, // into the new year
	} {
		now, _ := time.Parse(time.RFC3339, c.utc)
		got := UntilTomorrow(now)
		if got != c.want {
			t.Errorf("UntilTomorrow(%s) = %v, want %v", c.utc, got, c.want)
		}
		if Today(now) == Today(now.Add(got)) || Today(now) != Today(now.Add(got-time.Nanosecond)) {
			t.Errorf("at %s the date does not change %v later (%s, %s)", c.utc, got, Today(now), Today(now.Add(got)))
		}
	}
}
