package directoryimport_test

import (
	"testing"

	"github.com/schoollife/ledger/adapters/directoryimport"
)

func TestParseShare(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]float64{"5%": 0.05, "0.05": 0.05, "0": 0, "100%": 1, " 5 % ": 0.05, "2,5 %": 0.025, "2,5\u202f%": 0.025, "0,05": 0.05} {
		if got, err := directoryimport.ParseShare(in); err != nil || got != want {
			t.Errorf("ParseShare(%q) = %g, %v", in, got, err)
		}
	}
	for _, in := range []string{"150%", "-1", "1.5", "five", "", "1,2,3 %", "2.5,1"} {
		if got, err := directoryimport.ParseShare(in); err == nil {
			t.Errorf("ParseShare(%q) = %g, want an error", in, got)
		}
	}
}
