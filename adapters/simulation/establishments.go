package simulation

import (
	"time"

	"github.com/schoollife/ledger/domain"
)

// Product is the ENT (espace numérique de travail) an establishment tried.
type Product string

// The two products the 2007 report compares.
const (
	// Scolastance was hosted and maintained on outside servers.
	Scolastance Product = "Scolastance"
	// Kdecole (K-d'école with Contact Office) was hosted and maintained on
	// the rectorat's servers, available from September 2006 and opened
	// progressively until January 2007.
	Kdecole Product = "K-d'école"
)

// Products in display order.
var Products = []Product{Scolastance, Kdecole}

// opening is the first day a product was used: Scolastance from the start
// of the experiment, K-d'école a year later.
func (p Product) opening() domain.Date {
	if p == Kdecole {
		return domain.Date{Year: 2006, Month: time.September, Day: 1}
	}
	return domain.Date{Year: 2005, Month: time.September, Day: 1}
}

// Establishment is one of the ten establishments of the experiment.
type Establishment struct {
	UAI         string
	Name        string
	City        string
	Departement string
	Kind        domain.EstablishmentKind
	Product     Product
	// Invented marks the two establishments the report does not name.
	Invented bool
	// Size is the establishment's share of its product's accounts
	// (relative to the others of the same product).
	Size float64
	// Usage factors, relative to the other establishments of the same
	// product: school-life acts, messages, news, homework and bookings per
	// account (or per student, group or teacher).
	Acts, Messages, News, Homework, Bookings float64
	// PupilMessaging is false where messaging was open to staff only (the
	// report lists "ouverture de la messagerie aux élèves et parents" among
	// Vauvenargues' projects for 2007-2008).
	PupilMessaging bool
}

// Establishments are the ten establishments: the eight the report names
// and two invented (one lycée, one collège) to make its "5 lycées et 5
// collèges dans les 4 départements". UAI codes carry the département's
// prefix and a valid check letter; they are plausible, not taken from the
// national register.
//
// Product choice: K-d'école, hosted by the rectorat and opened a year
// later, went to the four smaller, mountain establishments of the
// Hautes-Alpes (05) and Alpes-de-Haute-Provence (04), whose projects stress
// publishing news and information (Girardot, Mauzan); Scolastance went to
// the six establishments of the Bouches-du-Rhône (13) and Vaucluse (84),
// whose projects stress school life (J. Monnet, Vauvenargues) and account
// for the larger Scolastance figures.
func Establishments() []Establishment {
	return []Establishment{
		{UAI: "0130001F", Name: "Lycée Vauvenargues", City: "Aix-en-Provence", Departement: "13", Kind: domain.KindLycee, Product: Scolastance,
			Size: 1.00, Acts: 1.0, Messages: 0.5, News: 0.8, Homework: 1.0, Bookings: 1.0},
		{UAI: "0132276D", Name: "Lycée Jean Monnet", City: "Vitrolles", Departement: "13", Kind: domain.KindLycee, Product: Scolastance,
			Size: 0.85, Acts: 0.8, Messages: 1.0, News: 1.0, Homework: 1.1, Bookings: 1.0, PupilMessaging: true},
		{UAI: "0131563D", Name: "Collège Coutarel", City: "Istres", Departement: "13", Kind: domain.KindCollege, Product: Scolastance,
			Size: 0.55, Acts: 1.2, Messages: 1.2, News: 1.2, Homework: 1.2, Bookings: 1.0, PupilMessaging: true},
		{UAI: "0840015K", Name: "Lycée Revoul", City: "Valréas", Departement: "84", Kind: domain.KindLycee, Product: Scolastance,
			Size: 0.55, Acts: 0.9, Messages: 1.0, News: 1.2, Homework: 0.9, Bookings: 1.0, PupilMessaging: true},
		{UAI: "0840077C", Name: "Collège Joseph Brunet", City: "Avignon", Departement: "84", Kind: domain.KindCollege, Product: Scolastance,
			Size: 0.50, Acts: 1.1, Messages: 1.0, News: 0.9, Homework: 1.2, Bookings: 0.8, PupilMessaging: true},
		{UAI: "0841124R", Name: "Collège Les Dentelles", City: "Vaison-la-Romaine", Departement: "84", Kind: domain.KindCollege, Product: Scolastance,
			Invented: true, Size: 0.40, Acts: 1.0, Messages: 0.9, News: 1.0, Homework: 1.0, Bookings: 0.8, PupilMessaging: true},
		{UAI: "0050004C", Name: "Lycée Alpes et Durance", City: "Embrun", Departement: "05", Kind: domain.KindLycee, Product: Kdecole,
			Size: 0.65, Acts: 1.3, Messages: 1.0, News: 0.9, Homework: 0.9, Bookings: 1.6, PupilMessaging: true},
		{UAI: "0050010J", Name: "Collège Mauzan", City: "Gap", Departement: "05", Kind: domain.KindCollege, Product: Kdecole,
			Size: 0.55, Acts: 1.3, Messages: 1.1, News: 1.2, Homework: 0.9, Bookings: 0.8, PupilMessaging: true},
		{UAI: "0040486G", Name: "Collège Girardot", City: "Sainte-Tulle", Departement: "04", Kind: domain.KindCollege, Product: Kdecole,
			Size: 0.40, Acts: 0.7, Messages: 1.1, News: 1.6, Homework: 1.5, Bookings: 0.8, PupilMessaging: true},
		{UAI: "0040533H", Name: "Lycée de la Bléone", City: "Digne-les-Bains", Departement: "04", Kind: domain.KindLycee, Product: Kdecole,
			Invented: true, Size: 0.60, Acts: 0.8, Messages: 0.9, News: 0.9, Homework: 0.9, Bookings: 1.0, PupilMessaging: true},
	}
}

// FullName is the establishment's name and city.
func (e Establishment) FullName() string { return e.Name + ", " + e.City }

// levels are the levels (classes of one year of study) of an
// establishment, youngest first.
func levels(kind domain.EstablishmentKind) []string {
	if kind == domain.KindLycee {
		return []string{"2nde", "1re", "Tle"}
	}
	return []string{"6e", "5e", "4e", "3e"}
}

// subject is a subject taught to every class of an establishment kind,
// with its weekly hours.
type subject struct {
	Name  string
	Hours int
}

// curriculum is the weekly timetable of a class, subject by subject.
func curriculum(kind domain.EstablishmentKind) []subject {
	if kind == domain.KindLycee {
		return []subject{
			{"Français", 4}, {"Mathématiques", 4}, {"Histoire-géographie", 3}, {"Anglais", 3},
			{"Espagnol", 2}, {"Physique-chimie", 3}, {"SVT", 2}, {"SES", 2}, {"EPS", 2},
		}
	}
	return []subject{
		{"Français", 5}, {"Mathématiques", 4}, {"Histoire-géographie", 3}, {"Anglais", 4},
		{"SVT", 2}, {"Physique-chimie", 1}, {"Technologie", 2}, {"EPS", 3},
		{"Arts plastiques", 1}, {"Éducation musicale", 1},
	}
}

// option is a teaching group: students of one level taking a subject
// apart from their class.
type option struct {
	Name    string
	Subject string
	Hours   int
}

// options are the teaching groups an establishment kind forms.
func options(kind domain.EstablishmentKind) []option {
	if kind == domain.KindLycee {
		return []option{
			{"Allemand LV2", "Allemand", 2}, {"Italien LV2", "Italien", 2}, {"Latin", "Latin", 3},
			{"Section européenne", "Anglais", 2}, {"Option arts plastiques", "Arts plastiques", 3},
			{"Option théâtre", "Français", 3}, {"Aide individualisée maths", "Mathématiques", 1},
			{"TPE", "Histoire-géographie", 2}, {"Option MPI", "Physique-chimie", 3},
		}
	}
	return []option{
		{"Allemand LV2", "Allemand", 3}, {"Espagnol LV2", "Espagnol", 3}, {"Latin", "Latin", 2},
		{"Découverte professionnelle", "Technologie", 3}, {"Atelier théâtre", "Français", 2},
		{"Soutien maths", "Mathématiques", 1}, {"Chorale", "Éducation musicale", 1},
	}
}

// resources are the rooms and equipment an establishment kind books.
func resources(kind domain.EstablishmentKind) []domain.RegisterResource {
	rs := []domain.RegisterResource{
		{Kind: domain.ResourceRoom, Name: "Salle informatique B12"},
		{Kind: domain.ResourceRoom, Name: "CDI, salle de travail"},
		{Kind: domain.ResourceEquipment, Name: "Vidéoprojecteur n°1"},
		{Kind: domain.ResourceEquipment, Name: "Classe mobile (15 portables)"},
		{Kind: domain.ResourceRoom, Name: "Salle polyvalente", ApprovalRequired: true},
	}
	if kind == domain.KindLycee {
		rs = append(rs,
			domain.RegisterResource{Kind: domain.ResourceEquipment, Name: "Vidéoprojecteur n°2"},
			domain.RegisterResource{Kind: domain.ResourceRoom, Name: "Amphithéâtre", ApprovalRequired: true},
		)
	}
	return rs
}
