package subjectkeys

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// TestPlanRefusesFieldsWithoutSubject: a personal field must name whose
// key encrypts it.
func TestPlanRefusesFieldsWithoutSubject(t *testing.T) {
	cases := map[string]any{
		"old tag": struct {
			Reason string `json:"reason" personal:"true"`
		}{},
		"no such field": struct {
			Reason string `json:"reason" personal:"Student"`
		}{},
		"not an account": struct {
			Student string
			Reason  string `json:"reason" personal:"Student"`
		}{},
		"not a string": struct {
			Student uuid.UUID
			Days    int `json:"days" personal:"Student"`
		}{},
	}
	for name, v := range cases {
		if _, err := plan(reflect.TypeOf(v)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := struct {
		Student uuid.UUID
		Reason  string `json:"reason" personal:"Student"`
		Note    string `json:"note" personal:"actor"`
	}{}
	fs, err := plan(reflect.TypeOf(ok))
	if err != nil || len(fs) != 2 || fs[0].path != "reason" || fs[1].subject != "actor" {
		t.Errorf("plan: %+v, %v", fs, err)
	}
}

// TestPlanRefusesWrongScopes: a scope after the subject is
// category=NAME, NAME a category kept by school year, or record=FIELD,
// FIELD a record id of the event.
func TestPlanRefusesWrongScopes(t *testing.T) {
	cases := map[string]any{
		"unknown category": struct {
			Student uuid.UUID
			Reason  string `personal:"Student,category=divers"`
		}{},
		"category not kept by year": struct {
			Student uuid.UUID
			Reason  string `personal:"Student,category=connections"`
		}{},
		"no record field": struct {
			Student uuid.UUID
			Reason  string `personal:"Student,record=Sanction"`
		}{},
		"record field not an id": struct {
			Student  uuid.UUID
			Sanction string
			Reason   string `personal:"Student,record=Sanction"`
		}{},
		"unknown scope": struct {
			Student uuid.UUID
			Reason  string `personal:"Student,period=2025"`
		}{},
		"empty scope": struct {
			Student uuid.UUID
			Reason  string `personal:"Student,"`
		}{},
		"two scopes": struct {
			Student  uuid.UUID
			Sanction uuid.UUID
			Reason   string `personal:"Student,category=schoollife,record=Sanction"`
		}{},
		"no value": struct {
			Student uuid.UUID
			Reason  string `personal:"Student,category="`
		}{},
	}
	for name, v := range cases {
		if _, err := plan(reflect.TypeOf(v)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := struct {
		Student  uuid.UUID
		Sanction uuid.UUID
		Name     string `json:"name" personal:"Student"`
		Reason   string `json:"reason" personal:"Student,category=schoollife"`
		Motive   string `json:"motive" personal:"Student,record=Sanction"`
	}{}
	fs, err := plan(reflect.TypeOf(ok))
	if err != nil || len(fs) != 3 {
		t.Fatalf("plan: %+v, %v", fs, err)
	}
	want := []tagScope{{kind: ScopePerson}, {kind: ScopeCategory, category: "schoollife"}, {kind: ScopeRecord, category: "sanction", record: "Sanction"}}
	for i, f := range fs {
		if f.scope != want[i] || f.subject != "Student" {
			t.Errorf("field %s: %+v, want %+v", f.path, f.scope, want[i])
		}
	}
}
