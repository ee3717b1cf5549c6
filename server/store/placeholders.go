package store

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// The project's SQL is written with SQLite's parameters: "?" (the next
// position), "?N" (position N) and ":name" (a sql.Named argument). SQLite
// reads them as they are; PostgreSQL wants "$N" and positional arguments.
// rewrite turns one into the other, in this one place, as statements reach
// the PostgreSQL connection (pgconn.go), so that a statement whose text is
// the same on both stores is written once.
//
// The numbering is SQLite's: "?" takes one more than the largest position
// given so far, "?N" takes N, and each distinct ":name" takes, at its first
// occurrence, one more than the largest so far. Quoted strings, quoted
// identifiers, comments and PostgreSQL's "::" casts are copied untouched.

// rewritten is a statement in PostgreSQL's form and where each argument goes.
type rewritten struct {
	sql string
	// names maps a ":name" to its position (1-based).
	names map[string]int
	// params is the number of positions the statement has.
	params int
}

var rewriteCache sync.Map // string -> *rewritten

func rewrite(q string) (*rewritten, error) {
	if r, ok := rewriteCache.Load(q); ok {
		return r.(*rewritten), nil
	}
	r, err := rewriteOnce(q)
	if err != nil {
		return nil, err
	}
	rewriteCache.Store(q, r)
	return r, nil
}

func rewriteOnce(q string) (*rewritten, error) {
	var b strings.Builder
	b.Grow(len(q) + 16)
	r := &rewritten{}
	next := func() int { r.params++; return r.params }
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote: still inside
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(q) {
				return nil, fmt.Errorf("sql: unterminated %c in %q", c, q)
			}
			b.WriteString(q[i : j+1])
			i = j + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("sql: unterminated comment in %q", q)
			}
			b.WriteString(q[i : i+2+j+2])
			i += 2 + j + 2
		case c == ':' && i+1 < len(q) && q[i+1] == ':':
			b.WriteString("::")
			i += 2
		case c == ':' && i+1 < len(q) && isNameStart(q[i+1]):
			j := i + 1
			for j < len(q) && isNamePart(q[j]) {
				j++
			}
			name := q[i+1 : j]
			if r.names == nil {
				r.names = map[string]int{}
			}
			pos, ok := r.names[name]
			if !ok {
				pos = next()
				r.names[name] = pos
			}
			b.WriteString("$" + strconv.Itoa(pos))
			i = j
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			var pos int
			if j > i+1 {
				n, err := strconv.Atoi(q[i+1 : j])
				if err != nil || n < 1 {
					return nil, fmt.Errorf("sql: bad parameter %q in %q", q[i:j], q)
				}
				pos = n
				r.params = max(r.params, n)
			} else {
				pos = next()
			}
			b.WriteString("$" + strconv.Itoa(pos))
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	r.sql = b.String()
	return r, nil
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNamePart(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }
