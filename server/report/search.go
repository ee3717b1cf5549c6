package report

import (
	"database/sql/driver"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"modernc.org/sqlite"
)

// dicoso_fold is Fold in SQL, for a search of text no index holds (the
// findings register; PostgreSQL has one from migration 0007, too slow for
// that: findingsFilter). SQLite gets this Go function, on every connection the driver opens from now on
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
// saying (migration 0007 indexes the text with the same replacement). The
// Latin letters with diacritics (Vietnamese's all among them) are folded
// from a table made the same way once (foldLetters): Fold runs on every
// finding a register search reads.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
		case r == 'đ' || r == 'Đ':
			b.WriteByte('d')
		case unicode.Is(unicode.Mn, r):
		default:
			if f, ok := foldLetters[r]; ok {
				b.WriteRune(f)
				continue
			}
			for _, x := range norm.NFD.String(string(r)) {
				if !unicode.Is(unicode.Mn, x) {
					b.WriteRune(unicode.ToLower(x))
				}
			}
		}
	}
	return b.String()
}

// foldLetters folds each Latin letter with diacritics (Latin-1, Latin
// Extended-A and -B, Latin Extended Additional: Vietnamese's "ầ", "ữ",
// "ỵ"…) as Fold's decomposition would: its base letter, lower case.
var foldLetters = func() map[rune]rune {
	m := map[rune]rune{}
	for _, span := range [][2]rune{{0xC0, 0x24F}, {0x1E00, 0x1EFF}} {
		for r := span[0]; r <= span[1]; r++ {
			d := []rune(norm.NFD.String(string(r)))
			if len(d) > 1 && d[0] < utf8.RuneSelf && unicode.IsLetter(d[0]) {
				m[r] = unicode.ToLower(d[0])
			}
		}
	}
	return m
}()

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
