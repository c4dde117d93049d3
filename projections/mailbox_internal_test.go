package projections

import (
	"testing"
	"time"
)

func TestNewestFirstOrdersBackwards(t *testing.T) {
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1960, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(2006, 3, 14, 8, 0, 0, 0, time.UTC),
		time.Date(2006, 3, 14, 8, 0, 0, 1, time.UTC),
		time.Date(2006, 3, 14, 8, 0, 1, 0, time.UTC),
		time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := 1; i < len(times); i++ {
		a, b := newestFirst(times[i-1]), newestFirst(times[i])
		if len(a) != len(b) || a <= b {
			t.Errorf("newestFirst(%s) = %s, not after newestFirst(%s) = %s", times[i-1], a, times[i], b)
		}
	}
}
