package domain_test

import (
	"slices"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestRegistryAreas: every registered type has one of the known areas,
// and the lists by area partition the registry.
func TestRegistryAreas(t *testing.T) {
	reg := domain.NewRegistry()
	areas := []domain.Area{
		domain.AreaDirectory, domain.AreaDirectoryImport, domain.AreaSchoolLife,
		domain.AreaTextbook, domain.AreaMessaging, domain.AreaBooking, domain.AreaNews,
		domain.AreaPrivacy, domain.AreaServices, domain.AreaNotifications,
	}
	var all []string
	for _, c := range areas {
		types := reg.Types(c)
		if len(types) == 0 {
			t.Errorf("area %q has no type", c)
		}
		for _, typ := range types {
			if got, ok := reg.Area(typ); !ok || got != c {
				t.Errorf("%s: area %q, listed under %q", typ, got, c)
			}
		}
		all = append(all, types...)
	}
	slices.Sort(all)
	if !slices.Equal(all, reg.Types()) {
		t.Errorf("the areas list %v, the registry %v", all, reg.Types())
	}
	if _, ok := reg.Area("nothing.v1"); ok {
		t.Error("an unknown type has an area")
	}
	if got := reg.Types(domain.AreaDirectoryImport); !slices.Equal(got, []string{"account.back_in_feed.v1", "account.missing_from_feed.v1", "import.forced.v1"}) {
		t.Errorf("directory import: %v", got)
	}
}
