package domain_test

import (
	"slices"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestRegistryCategories: every registered type has one of the known
// categories, and the lists by category partition the registry.
func TestRegistryCategories(t *testing.T) {
	reg := domain.NewRegistry()
	categories := []domain.Category{
		domain.CategoryDirectory, domain.CategoryDirectoryImport, domain.CategorySchoolLife,
		domain.CategoryTextbook, domain.CategoryMessaging, domain.CategoryBooking, domain.CategoryNews,
	}
	var all []string
	for _, c := range categories {
		types := reg.Types(c)
		if len(types) == 0 {
			t.Errorf("category %q has no type", c)
		}
		for _, typ := range types {
			if got, ok := reg.Category(typ); !ok || got != c {
				t.Errorf("%s: category %q, listed under %q", typ, got, c)
			}
		}
		all = append(all, types...)
	}
	slices.Sort(all)
	if !slices.Equal(all, reg.Types()) {
		t.Errorf("the categories list %v, the registry %v", all, reg.Types())
	}
	if _, ok := reg.Category("nothing.v1"); ok {
		t.Error("an unknown type has a category")
	}
	if got := reg.Types(domain.CategoryDirectoryImport); !slices.Equal(got, []string{"account.back_in_feed.v1", "account.missing_from_feed.v1"}) {
		t.Errorf("directory import: %v", got)
	}
}
