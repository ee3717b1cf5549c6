package report

import (
	"database/sql/driver"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"modernc.org/sqlite"
)

// dicoso_fold is Fold in SQL, for a search of text no index holds (the
// findings register): PostgreSQL has it from migration 0007; SQLite gets
// this Go function, on every connection the driver opens from now on
// (before the store opens any, as package initialisation comes first).
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("dicoso_fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return Fold(v), nil
		case []byte:
			return Fold(string(v)), nil
		case nil:
			return nil, nil
		default:
			return v, nil
		}
	})
}

// maxSearchTerms bounds the words of one search: each is one more lookup in
// the index, and nobody types more to find a note.
const maxSearchTerms = 12

// Fold is text as the notes index holds it: lower case, without diacritics,
// with "đ" as "d". Unicode decomposes "â", "ư", "ộ" into a letter and marks,
// so dropping the marks folds them; "đ" is a letter of its own and needs
// saying (migration 0007 indexes the text with the same replacement).
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// searchTerms splits a search into the words the index tokenizer would
// make of it (runs of letters and digits), folded.
func searchTerms(q string) []string {
	words := strings.FieldsFunc(Fold(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	if len(words) > maxSearchTerms {
		words = words[:maxSearchTerms]
	}
	return words
}

// tsQuery is matchExpr for PostgreSQL's index (migration 0007's twin): a
// to_tsquery text where every word must occur, the last one as a prefix.
// Words hold only letters and digits, so none is read as tsquery syntax.
func tsQuery(q string) string {
	words := searchTerms(q)
	if len(words) > 0 {
		words[len(words)-1] += ":*"
	}
	return strings.Join(words, " & ")
}

// matchExpr is the FTS5 query for a search typed by a person: every word
// must occur, the last one as a prefix, since it may still be being typed
// ("lai ch" finds "Lai Châu"). Each word is quoted, so nothing a person
// types is read as FTS5 syntax (AND, NEAR, a column filter). "" when the
// search holds no word.
func matchExpr(q string) string {
	words := searchTerms(q)
	for i, w := range words {
		// A word holds only letters and digits: no quote to escape.
		words[i] = `"` + w + `"`
		if i == len(words)-1 {
			words[i] += "*"
		}
	}
	return strings.Join(words, " ")
}
