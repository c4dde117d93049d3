package schoolcalendar

import (
	"testing"

	"github.com/schoollife/ledger/domain"
)

func TestEaster(t *testing.T) {
	for year, want := range map[int]string{
		1818: "1818-03-22", // earliest possible
		1943: "1943-04-25", // latest possible
		2019: "2019-04-21",
		2024: "2024-03-31",
		2025: "2025-04-20",
		2026: "2026-04-05",
		2027: "2027-03-28",
		2028: "2028-04-16",
		2038: "2038-04-25",
	} {
		if got := Easter(year); got != domain.MustDate(want) {
			t.Errorf("Easter(%d) = %s, want %s", year, got, want)
		}
	}
}

func TestBankHoliday(t *testing.T) {
	tests := []struct {
		date string
		want string
	}{
		{"2027-01-01", "Jour de l'an"},
		{"2027-03-28", ""}, // Easter Sunday is a Sunday, not a jour férié of its own
		{"2027-03-29", "Lundi de Pâques"},
		{"2027-05-01", "Fête du Travail"},
		{"2027-05-06", "Ascension"},
		{"2027-05-08", "Victoire 1945"},
		{"2027-05-17", "Lundi de Pentecôte"},
		{"2027-07-14", "Fête nationale"},
		{"2027-08-15", "Assomption"},
		{"2026-11-01", "Toussaint"},
		{"2026-11-11", "Armistice 1918"},
		{"2026-12-25", "Noël"},
		{"2026-12-26", ""},
		{"2027-04-02", ""}, // Good Friday: only in Alsace-Moselle
		{"2026-04-06", "Lundi de Pâques"},
		{"2026-05-14", "Ascension"},
		{"2026-05-25", "Lundi de Pentecôte"},
		{"2028-04-17", "Lundi de Pâques"},
		{"2028-05-25", "Ascension"},
		{"2028-06-05", "Lundi de Pentecôte"},
		{"2028-06-06", ""},
	}
	for _, tt := range tests {
		got, ok := BankHoliday(domain.MustDate(tt.date))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("BankHoliday(%s) = %q, %v; want %q", tt.date, got, ok, tt.want)
		}
	}
}
