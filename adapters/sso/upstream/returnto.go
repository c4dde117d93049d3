package upstream

import (
	"strings"
	"unicode"
)

// maxReturnTo bounds a return path: longer is no page of the portal.
const maxReturnTo = 2000

// LocalPath returns returnTo when it is a path of this site ("/famille",
// "/eleve?x=1"), else "/": a sign-in never redirects elsewhere. Refused:
// anything not starting with a single "/" ("//evil.example" and "/\evil"
// are other hosts to browsers), schemes, backslashes, control characters
// and overlong values.
func LocalPath(returnTo string) string {
	if returnTo == "" || len(returnTo) > maxReturnTo || !strings.HasPrefix(returnTo, "/") ||
		strings.HasPrefix(returnTo, "//") || strings.ContainsRune(returnTo, '\\') {
		return "/"
	}
	for _, r := range returnTo {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\uFFFD' {
			return "/"
		}
	}
	return returnTo
}
