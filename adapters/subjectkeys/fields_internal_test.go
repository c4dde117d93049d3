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
