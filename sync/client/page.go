package client

import (
	"encoding/json"
	"fmt"
	stdsync "sync"
	"unicode/utf8"

	"dicoso/sync/schema"
)

// A pull answer is read by the scanner below, in one pass, instead of by
// encoding/json, which reads a document three times over (once to check
// it, once to decode it, once more for each row's fields kept raw): on a
// 2,000-row snapshot page that was most of the device's CPU outside
// SQLite. It reads what encoding/json reads into a pullPage: the same
// values, the same syntax errors (every one found before any type error,
// so a cut answer is told from a wrong one), with two differences that
// the protocol's answers never meet: keys are matched as the protocol
// spells them (encoding/json also takes "Table" for "table"), and a key
// given twice sets its value anew.

// errSyntax is an answer that is not whole JSON (cut, or garbled).
type errSyntax struct {
	msg string
	off int
}

func (e *errSyntax) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.off) }

// errType is whole JSON with a value of the wrong type for its key.
type errType struct {
	key string
	off int
}

func (e *errType) Error() string { return fmt.Sprintf("wrong type for %q at offset %d", e.key, e.off) }

// maxDepth is how deeply values may nest, as in encoding/json.
const maxDepth = 10000

type scanner struct {
	b       []byte
	i       int
	typeErr error // the first value of a wrong type, reported if the syntax holds
}

func (s *scanner) fail(msg string) error {
	if s.i >= len(s.b) {
		return &errSyntax{msg: "unexpected end of JSON input", off: s.i}
	}
	return &errSyntax{msg: msg, off: s.i}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next is the byte at the scanner after white space, 0 at the end (or
// at a NUL byte, which is nowhere valid).
func (s *scanner) next() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) wrongType(key string, start int) {
	if s.typeErr == nil {
		s.typeErr = &errType{key: key, off: start}
	}
}

// str reads a string token.
func (s *scanner) str() (string, error) {
	b, v, err := s.strBytes()
	if b != nil {
		return string(b), err
	}
	return v, err
}

// key reads a string token as the bytes of its value, within the input
// when the string is plain.
func (s *scanner) key() ([]byte, error) {
	b, v, err := s.strBytes()
	if b == nil && err == nil {
		b = []byte(v)
	}
	return b, err
}

// strBytes reads a string token: a plain one (no escapes, UTF-8) as its
// bytes within the input, any other as its value decoded by encoding/json
// (escapes, and bytes that are not UTF-8, which become U+FFFD) with nil
// bytes.
func (s *scanner) strBytes() (b []byte, v string, err error) {
	if s.next() != '"' {
		return nil, "", s.fail("expected a string")
	}
	start := s.i
	s.i++
	plain := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			body := s.b[start+1 : s.i-1]
			if plain && utf8.Valid(body) {
				return body, "", nil
			}
			if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
				return nil, "", &errSyntax{msg: err.Error(), off: start}
			}
			return nil, v, nil
		case c < 0x20:
			return nil, "", s.fail("control character in string")
		case c == '\\':
			plain = false
			s.i++
			if s.i >= len(s.b) {
				return nil, "", s.fail("")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for range 4 {
					if s.i >= len(s.b) {
						return nil, "", s.fail("")
					}
					if !isHex(s.b[s.i]) {
						return nil, "", s.fail("invalid \\u escape")
					}
					s.i++
				}
			default:
				return nil, "", s.fail("invalid escape")
			}
		default:
			s.i++
		}
	}
	return nil, "", s.fail("")
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number reads a number token: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && '1' <= s.b[s.i] && s.b[s.i] <= '9':
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	default:
		return s.fail("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return s.fail("invalid number")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			return s.fail("invalid number")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	return nil
}

func (s *scanner) literal(word string) error {
	for j := range len(word) {
		if s.i >= len(s.b) || s.b[s.i] != word[j] {
			return s.fail("invalid literal")
		}
		s.i++
	}
	return nil
}

// value reads any value and returns its token.
func (s *scanner) value(depth int) ([]byte, error) {
	c := s.next()
	start := s.i
	var err error
	switch {
	case c == '"':
		_, err = s.skipString()
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return nil, s.fail("exceeded max depth")
		}
		err = s.each(c, func([]byte) error {
			_, err := s.value(depth + 1)
			return err
		})
	case c == 't':
		err = s.literal("true")
	case c == 'f':
		err = s.literal("false")
	case c == 'n':
		err = s.literal("null")
	case c == '-' || isDigit(c):
		err = s.number()
	default:
		err = s.fail("invalid character looking for beginning of value")
	}
	if err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// skipString reads a string token without decoding it.
func (s *scanner) skipString() (int, error) {
	start := s.i
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return start, nil
		case c < 0x20:
			return 0, s.fail("control character in string")
		case c == '\\':
			s.i = start
			_, err := s.str() // escapes: the careful way
			return start, err
		default:
			s.i++
		}
	}
	return 0, s.fail("")
}

// each reads an object (open '{': fn gets each key, and reads its value)
// or an array (open '[': fn gets "" and reads each element).
func (s *scanner) each(open byte, fn func(key []byte) error) error {
	s.i++ // the opening bracket
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	if s.next() == closing {
		s.i++
		return nil
	}
	for {
		var key []byte
		if open == '{' {
			var err error
			if key, err = s.key(); err != nil {
				return err
			}
			if s.next() != ':' {
				return s.fail("expected ':' after object key")
			}
			s.i++
		}
		if err := fn(key); err != nil {
			return err
		}
		switch s.next() {
		case ',':
			s.i++
		case closing:
			s.i++
			return nil
		default:
			return s.fail("expected ',' or a closing bracket")
		}
	}
}

// text reads a string value for key into dst; null leaves dst as it is.
func (s *scanner) text(key string, dst *string) error {
	switch s.next() {
	case '"':
		v, err := s.str()
		*dst = v
		return err
	case 'n':
		return s.literal("null")
	}
	start := s.i
	s.wrongType(key, start)
	_, err := s.value(1)
	return err
}

// tableName reads a row's table: the name of a table of this build is not
// copied anew for every row.
func (s *scanner) tableName(dst *string) error {
	if s.next() != '"' {
		return s.text("table", dst)
	}
	b, v, err := s.strBytes()
	if err != nil || b == nil {
		*dst = v
		return err
	}
	if name, ok := tableNames()[string(b)]; ok {
		*dst = name
		return nil
	}
	*dst = string(b)
	return nil
}

// tableNames are the names of this build's synced tables.
var tableNames = stdsync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, t := range schema.Tables() {
		out[t.Name] = t.Name
	}
	return out
})

// boolean reads a true or false value for key into dst; null leaves dst
// as it is.
func (s *scanner) boolean(key string, dst *bool) error {
	switch s.next() {
	case 't':
		*dst = true
		return s.literal("true")
	case 'f':
		*dst = false
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	start := s.i
	s.wrongType(key, start)
	_, err := s.value(1)
	return err
}

// decodePage reads a pull answer into p.
func decodePage(b []byte, p *pullPage) error {
	s := &scanner{b: b}
	var err error
	switch c := s.next(); c {
	case '{':
		err = s.each('{', func(key []byte) error {
			switch string(key) {
			case "rows":
				return s.rows(&p.Rows)
			case "cursor":
				return s.text("cursor", &p.Cursor)
			case "has_more":
				return s.boolean("has_more", &p.HasMore)
			case "reset":
				return s.boolean("reset", &p.Reset)
			case "server_time":
				return s.text("server_time", &p.ServerTime)
			}
			_, err := s.value(1)
			return err
		})
	case 'n':
		err = s.literal("null")
	default:
		start := s.i
		if _, err = s.value(0); err == nil {
			s.wrongType("", start)
		}
	}
	if err != nil {
		return err
	}
	if s.ws(); s.i < len(s.b) {
		return s.fail("invalid character after top-level value")
	}
	return s.typeErr
}

func (s *scanner) rows(dst *[]pulledRow) error {
	switch s.next() {
	case 'n':
		*dst = nil
		return s.literal("null")
	case '[':
	default:
		s.wrongType("rows", s.i)
		_, err := s.value(1)
		return err
	}
	rows := []pulledRow{}
	err := s.each('[', func([]byte) error {
		var r pulledRow
		switch s.next() {
		case 'n':
			rows = append(rows, r)
			return s.literal("null")
		case '{':
		default:
			s.wrongType("rows", s.i)
			rows = append(rows, r)
			_, err := s.value(2)
			return err
		}
		err := s.each('{', func(key []byte) error {
			switch string(key) {
			case "table":
				return s.tableName(&r.Table)
			case "row_id":
				return s.text("row_id", &r.RowID)
			case "fields":
				v, err := s.value(3)
				r.Fields = v
				return err
			case "deleted":
				return s.boolean("deleted", &r.Deleted)
			case "version":
				return s.text("version", &r.Version)
			}
			_, err := s.value(3)
			return err
		})
		rows = append(rows, r)
		return err
	})
	*dst = rows
	return err
}
