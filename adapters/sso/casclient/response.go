package casclient

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

const casNS = "http://www.yale.edu/tp/cas"

// serviceResponse is a CAS 2.0/3.0 serviceValidate answer.
type serviceResponse struct {
	XMLName xml.Name `xml:"http://www.yale.edu/tp/cas serviceResponse"`
	Success *struct {
		User       string `xml:"http://www.yale.edu/tp/cas user"`
		Attributes *struct {
			Any []attribute `xml:",any"`
		} `xml:"http://www.yale.edu/tp/cas attributes"`
		PGT     string      `xml:"http://www.yale.edu/tp/cas proxyGrantingTicket"`
		Proxies *struct{}   `xml:"http://www.yale.edu/tp/cas proxies"`
		Other   []attribute `xml:",any"`
	} `xml:"http://www.yale.edu/tp/cas authenticationSuccess"`
	Failure *struct {
		Code    string `xml:"code,attr"`
		Message string `xml:",chardata"`
	} `xml:"http://www.yale.edu/tp/cas authenticationFailure"`
}

// attribute is one element of cas:attributes: <cas:mail>x</cas:mail>, or
// the older <cas:attribute name="mail" value="x"/>.
type attribute struct {
	XMLName   xml.Name
	Name      string `xml:"name,attr"`
	ValueAttr string `xml:"value,attr"`
	Text      string `xml:",chardata"`
}

// casFailure is a validation the server refused, with its code.
type casFailure struct {
	Code    string
	Message string
}

func (f *casFailure) Error() string {
	return fmt.Sprintf("cas refused the ticket: %s: %s", f.Code, f.Message)
}

// validated is what a successful validation gives.
type validated struct {
	User       string
	Attributes map[string][]string
}

// parseResponse reads a serviceValidate answer: the user and attributes
// of a success, a *casFailure for a failure, another error for anything
// else. Attributes are those of cas:attributes (CAS 3.0, and CAS 2.0
// servers that send them), and any other element beside cas:user.
func parseResponse(body []byte) (validated, error) {
	var r serviceResponse
	if err := xml.Unmarshal(body, &r); err != nil {
		return validated{}, fmt.Errorf("cas answer: %w", err)
	}
	switch {
	case r.Success != nil && r.Failure != nil:
		return validated{}, errors.New("cas answer: both success and failure")
	case r.Failure != nil:
		return validated{}, &casFailure{Code: strings.TrimSpace(r.Failure.Code), Message: truncate(strings.TrimSpace(r.Failure.Message))}
	case r.Success == nil:
		return validated{}, errors.New("cas answer: neither success nor failure")
	}
	v := validated{User: strings.TrimSpace(r.Success.User), Attributes: map[string][]string{}}
	if v.User == "" {
		return validated{}, errors.New("cas answer: success without user")
	}
	var attrs []attribute
	if r.Success.Attributes != nil {
		attrs = r.Success.Attributes.Any
	}
	attrs = append(attrs, r.Success.Other...)
	for _, a := range attrs {
		name, value := a.XMLName.Local, strings.TrimSpace(a.Text)
		if name == "attribute" && a.Name != "" {
			name, value = a.Name, strings.TrimSpace(a.ValueAttr)
		}
		if value == "" {
			continue
		}
		v.Attributes[name] = append(v.Attributes[name], value)
	}
	return v, nil
}

// truncate bounds what a server says before it reaches a log.
func truncate(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
