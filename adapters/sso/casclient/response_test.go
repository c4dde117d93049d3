package casclient

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		body    string
		want    validated
		failure string // the CAS failure code expected
		bad     bool   // not a CAS answer
	}{
		{name: "cas3 attributes", body: `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user> jdupont </cas:user>
    <cas:attributes>
      <cas:mail>j.dupont@ac-exemple.fr</cas:mail>
      <cas:FrEduRne>0750001A$UAJ$PU$N$T3$LYC$340</cas:FrEduRne>
      <cas:FrEduRne>0750002B$UAJ$PU$N$T3$CLG$340</cas:FrEduRne>
      <cas:empty></cas:empty>
    </cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>`, want: validated{User: "jdupont", Attributes: map[string][]string{
			"mail":     {"j.dupont@ac-exemple.fr"},
			"FrEduRne": {"0750001A$UAJ$PU$N$T3$LYC$340", "0750002B$UAJ$PU$N$T3$CLG$340"},
		}}},
		{name: "name value attributes", body: `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
<cas:user>u1</cas:user><cas:attributes><cas:attribute name="ENTPersonJointure" value="ENT$123"/></cas:attributes>
</cas:authenticationSuccess></cas:serviceResponse>`, want: validated{User: "u1", Attributes: map[string][]string{"ENTPersonJointure": {"ENT$123"}}}},
		{name: "cas2 attributes beside the user", body: `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
<cas:user>u2</cas:user><cas:uid>42</cas:uid><cas:proxyGrantingTicket>PGTIOU-1</cas:proxyGrantingTicket>
</cas:authenticationSuccess></cas:serviceResponse>`, want: validated{User: "u2", Attributes: map[string][]string{"uid": {"42"}}}},
		{name: "failure", body: `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
<cas:authenticationFailure code="INVALID_TICKET">Ticket ST-1 not recognized</cas:authenticationFailure></cas:serviceResponse>`, failure: "INVALID_TICKET"},
		{name: "no user", body: `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user> </cas:user></cas:authenticationSuccess></cas:serviceResponse>`, bad: true},
		{name: "other namespace", body: `<serviceResponse><authenticationSuccess><user>x</user></authenticationSuccess></serviceResponse>`, bad: true},
		{name: "empty answer", body: `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"></cas:serviceResponse>`, bad: true},
		{name: "html", body: `<html><body>Maintenance</body></html>`, bad: true},
		{name: "not xml", body: `yes
jdupont
`, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseResponse([]byte(tc.body))
			var cf *casFailure
			switch {
			case tc.failure != "":
				if !errors.As(err, &cf) || cf.Code != tc.failure {
					t.Fatalf("err %v, want the failure %s", err, tc.failure)
				}
			case tc.bad:
				if err == nil || errors.As(err, &cf) {
					t.Fatalf("err %v, want a bad answer (got %+v)", err, got)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
			}
		})
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(`<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>u</cas:user></cas:authenticationSuccess></cas:serviceResponse>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseResponse(b)
		if err == nil && v.User == "" {
			t.Fatal("success without user")
		}
	})
}
