// Package plantest helps tests that take the plan's date: "today" in
// Vietnam, which changes at 17:00 UTC.
package plantest

import (
	"time"

	"dicoso/sync/plan"
)

// TodayForAWhile is the time now, once the plan's date will stay the same
// for at least d: a test that takes "today" and then asks the server, which
// reads its own clock, would otherwise fail when Vietnam's midnight falls
// in between. It waits out the minutes before midnight.
func TodayForAWhile(d time.Duration) time.Time {
	if left := plan.UntilTomorrow(time.Now()); left < d {
		time.Sleep(left + time.Second)
	}
	return time.Now()
}
