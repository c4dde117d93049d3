package upstream

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// CheckURL refuses a configured URL (a site's base URL, an issuer, a CAS
// server) unless it is absolute, without user, query or fragment, and
// served over HTTPS; plain HTTP is allowed on the loopback only (tests,
// a demo on one machine). field names the setting in the error.
func CheckURL(field, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return nil, fmt.Errorf("%s: not a URL", field)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("%s: %q must be an absolute URL without user, query or fragment", field, s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !Loopback(u.Hostname()) {
			return nil, fmt.Errorf("%s: %q must use https (http only on the loopback)", field, s)
		}
	default:
		return nil, fmt.Errorf("%s: %q must use https", field, s)
	}
	return u, nil
}

// Loopback reports whether host is this machine.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// JoinPath returns base (a checked URL) with path appended, without a
// doubled slash.
func JoinPath(base *url.URL, path string) string {
	return strings.TrimSuffix(base.String(), "/") + path
}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CheckProviderName refuses a provider name that cannot stand in a route
// ("/sso/oidc/{provider}/login"): lower-case letters, digits and dashes.
func CheckProviderName(name string) error {
	if !providerName.MatchString(name) {
		return fmt.Errorf("provider name %q: lower-case letters, digits and dashes only, 63 at most", name)
	}
	return nil
}
