package portal

import (
	"strings"
	"testing"
)

func TestLinkify(t *testing.T) {
	const rel = `" rel="noopener noreferrer nofollow">`
	for _, tt := range []struct {
		name, in, want string
	}{
		{"plain text", "Exercices 1 à 4 page 52", "Exercices 1 à 4 page 52"},
		{"an address", "Voir https://ent.example.fr/cours.", `Voir <a href="https://ent.example.fr/cours` + rel +
			`https:/<wbr>/<wbr>ent.<wbr>example.<wbr>fr/<wbr>cours</a>.`},
		{"in parentheses and quotes", "(http://a.fr) « http://b.fr »", `(<a href="http://a.fr` + rel + `http:/<wbr>/<wbr>a.<wbr>fr</a>) « <a href="http://b.fr` + rel + `http:/<wbr>/<wbr>b.<wbr>fr</a> »`},
		{"a parenthesis of the address", "https://fr.wikipedia.org/wiki/Loire_(fleuve)", `<a href="https://fr.wikipedia.org/wiki/Loire_(fleuve)` + rel},
		{"javascript", `javascript:alert(1)`, `javascript:alert(1)`},
		{"javascript hidden in an address", `http://x.fr/"onmouseover="alert(1)`, `<a href="http://x.fr/` + rel + `http:/<wbr>/<wbr>x.<wbr>fr/<wbr></a>&#34;onmouseover=&#34;alert(1)`},
		{"markup around", `<script>alert(1)</script>https://x.fr/<b>`, `&lt;script&gt;alert(1)&lt;/script&gt;<a href="https://x.fr/` + rel},
		{"an ampersand", "https://x.fr/?a=1&b=2", `<a href="https://x.fr/?a=1&amp;b=2` + rel + `https:/<wbr>/<wbr>x.<wbr>fr/<wbr>?<wbr>a=<wbr>1&amp;<wbr>b=<wbr>2</a>`},
		{"data and ftp stay text", "data:text/html,<b>x</b> ftp://x.fr", "data:text/html,&lt;b&gt;x&lt;/b&gt; ftp://x.fr"},
		{"no host", "http:///etc/passwd and https://", "http:///etc/passwd and https://"},
		{"upper case scheme", "HTTPS://X.FR", `<a href="https://X.FR` + rel},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(linkify(tt.in))
			if !strings.Contains(got, tt.want) {
				t.Fatalf("linkify(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			for _, bad := range []string{"<script", "javascript:alert(1)\"", `href="javascript`, `href="data`, "target=", `"onmouseover`} {
				if strings.Contains(got, bad) {
					t.Fatalf("linkify(%q) = %s holds %s", tt.in, got, bad)
				}
			}
			if n := strings.Count(got, "<a "); n != strings.Count(got, `rel="noopener noreferrer nofollow"`) {
				t.Fatalf("a link without its rel: %s", got)
			}
		})
	}
}
