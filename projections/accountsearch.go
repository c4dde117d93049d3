package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// AccountsNamed returns the accounts of establishment uai ("" : of every
// establishment) whose name holds text, or whose national identifier is
// text, ignoring case and accents, sorted by name, at most limit (0: all).
// It reads every account of the directory: it serves an administrator
// looking a person up (an erasure), not a page every user sees.
func (q *Queries) AccountsNamed(ctx context.Context, uai, text string, limit int) ([]AccountEntry, error) {
	want := foldName(text)
	out := []AccountEntry{}
	if want == "" {
		return out, nil
	}
	r, err := q.directory(ctx)
	if err != nil {
		return nil, err
	}
	err = r.Scan(ctx, dirAccounts, "", "", func(key string, doc []byte) error {
		var a AccountEntry
		if err := json.Unmarshal(doc, &a); err != nil {
			return fmt.Errorf("decode %s/%s: %w", dirAccounts, key, err)
		}
		if uai != "" && a.Establishment != uai && !slices.Contains(a.Establishments, uai) {
			return nil
		}
		if strings.Contains(foldName(a.DisplayName), want) || (a.ExternalID != "" && strings.EqualFold(a.ExternalID, strings.TrimSpace(text))) {
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b AccountEntry) int { return strings.Compare(foldName(a.DisplayName), foldName(b.DisplayName)) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// foldName makes names comparable: lower case, no accents, spaces
// collapsed.
func foldName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsSpace(r) || r == '-' || r == '\'' || r == '’':
			space = b.Len() > 0
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
