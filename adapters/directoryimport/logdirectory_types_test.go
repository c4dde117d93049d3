package directoryimport

import (
	"reflect"
	"testing"

	"github.com/schoollife/ledger/domain"
)

// TestDirectoryTypesDeriveFromTheRegistry: LoadDirectory decodes the
// types of the directory areas, and every other type is one its fold
// ignores, so that skipping it undecoded loses nothing.
func TestDirectoryTypesDeriveFromTheRegistry(t *testing.T) {
	reg := domain.NewRegistry()
	folds := directoryTypes(reg)
	for _, typ := range reg.Types() {
		area, _ := reg.Area(typ)
		inArea := area == domain.AreaDirectory || area == domain.AreaDirectoryImport
		if folds[typ] != inArea {
			t.Errorf("%s (%s): folded %v", typ, area, folds[typ])
		}
		if folds[typ] {
			continue
		}
		e, err := reg.Decode(typ, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		d := newLogDirectory()
		d.apply(e)
		if !reflect.DeepEqual(d, newLogDirectory()) {
			t.Errorf("%s is skipped undecoded, but the directory folds it", typ)
		}
	}
	for _, typ := range []string{"account.opened.v1", "relative.linked.v1", "group.member_joined.v1", "account.missing_from_feed.v1"} {
		if !folds[typ] {
			t.Errorf("%s is not folded", typ)
		}
	}
	// A retired name of a directory type is folded too (upcast).
	retiring := domain.NewRegistry(domain.Upcast("account.opened.v0", func(o domain.AccountOpened) (domain.AccountOpened, error) { return o, nil }))
	if !directoryTypes(retiring)["account.opened.v0"] {
		t.Error("a retired directory type is not folded")
	}
}
