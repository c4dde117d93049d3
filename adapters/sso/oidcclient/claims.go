package oidcclient

import (
	"bytes"
	"encoding/json"
)

// claims are a token's claims as sent: numbers keep every digit.
type claims map[string]json.RawMessage

// str returns a claim that is a string, "" otherwise.
func (c claims) str(name string) string {
	var s string
	if raw, ok := c[name]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// attributes keeps the named claims, each as a list of strings: a string
// is one value, a list its values, a number or boolean its JSON text, an
// object its compact JSON. Null and absent claims are left out.
func (c claims) attributes(names []string) map[string][]string {
	out := make(map[string][]string, len(names))
	for _, n := range names {
		raw, ok := c[n]
		if !ok {
			continue
		}
		var values []string
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err == nil && list != nil {
			for _, e := range list {
				if v, ok := claimString(e); ok {
					values = append(values, v)
				}
			}
		} else if v, ok := claimString(raw); ok {
			values = []string{v}
		}
		if len(values) > 0 {
			out[n] = values
		}
	}
	return out
}

func claimString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", false
	}
	return buf.String(), true
}
