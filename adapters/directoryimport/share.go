package directoryimport

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseShare reads a share of rejected records as Options.MaxRejected
// takes it: "5%" or "0.05". The command line, its environment and uploaded
// forms all write it this way.
func ParseShare(s string) (float64, error) {
	pct, isPct := strings.CutSuffix(strings.TrimSpace(s), "%")
	// French writes a decimal comma ("2,5 %"), and the space before the
	// sign may be a no-break one.
	pct = strings.Replace(strings.TrimRight(pct, " \u00a0\u202f"), ",", ".", 1)
	f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if isPct {
		f /= 100
	}
	if err != nil || f < 0 || f > 1 {
		return 0, fmt.Errorf("%q is not a share between 0 %% and 100 %%", s)
	}
	return f, nil
}
