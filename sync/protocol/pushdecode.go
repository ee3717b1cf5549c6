package protocol

import (
	"strconv"
	"unicode/utf8"
)

// decodePushFast decodes a push body in the plain shape devices send (the
// Go client's encoding/json, the PWA's JSON.stringify) straight into a
// PushRequest, without encoding/json's reflection: decoding pushes was a
// tenth of the server's CPU under load (README, "Performance").
//
// It answers ok only when it is sure encoding/json would give the same
// request without an error: keys spelled exactly as the wire names, each
// once; values of the type their field takes; strings of valid UTF-8 whose
// escapes name no surrogate; nothing after the object but white space.
// Anything else (a key in other case, an unknown key, a null, a syntax
// error) answers !ok, and DecodePush falls back to encoding/json, whose
// answer, error message included, is the reference
// (FuzzDecodePushFastAgreesWithEncodingJSON).
func decodePushFast(body []byte) (req PushRequest, ok bool) {
	s := &scanner{b: body}
	var seen [5]bool
	ok = s.members(func(k string) bool {
		switch k {
		case "protocol":
			return once(&seen[0]) && into(s, &req.Protocol, s.integer)
		case "device_id":
			return once(&seen[1]) && into(s, &req.DeviceID, s.str)
		case "base_cursor":
			return once(&seen[2]) && into(s, &req.BaseCursor, s.str)
		case "no_echo":
			return once(&seen[3]) && into(s, &req.NoEcho, s.boolean)
		case "changes":
			return once(&seen[4]) && into(s, &req.Changes, s.changes)
		}
		return false
	})
	s.space()
	return req, ok && s.i == len(s.b)
}

// once reports whether a key is met for the first time, and marks it met:
// a key given twice is left to encoding/json.
func once(seen *bool) bool {
	if *seen {
		return false
	}
	*seen = true
	return true
}

// into reads a value with read and stores it at dst.
func into[T any](s *scanner, dst *T, read func() (T, bool)) bool {
	v, ok := read()
	*dst = v
	return ok
}

// scanner reads JSON from b at i.
type scanner struct {
	b     []byte
	i     int
	depth int               // arrays and objects open inside a field value
	names map[string]string // see name
}

// maxNames bounds the names kept by one scanner.
const maxNames = 256

// maxDepth bounds the nesting of a field's value the fast path reads;
// deeper ones go to encoding/json, which has its own bound.
const maxDepth = 32

// space skips JSON white space.
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, if c is next.
func (s *scanner) consume(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// key reads an object key and the colon after it.
func (s *scanner) key() (string, bool) {
	k, ok := s.name()
	return k, ok && s.consume(':')
}

// members reads an object, calling member with each key once its colon
// is read (member reads the value); it stops at the first false.
func (s *scanner) members(member func(key string) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		k, ok := s.key()
		if !ok || !member(k) {
			return false
		}
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

// elements reads an array, calling element for each value (element reads
// it); it stops at the first false.
func (s *scanner) elements(element func() bool) bool {
	if !s.consume('[') {
		return false
	}
	if s.consume(']') {
		return true
	}
	for {
		if !element() {
			return false
		}
		if s.consume(']') {
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

// changes reads the array of changes.
func (s *scanner) changes() ([]Change, bool) {
	out := []Change{}
	ok := s.elements(func() bool {
		ch, ok := s.change()
		out = append(out, ch)
		return ok
	})
	return out, ok
}

// change reads one change object.
func (s *scanner) change() (ch Change, ok bool) {
	var seen [7]bool
	ok = s.members(func(k string) bool {
		switch k {
		case "id":
			return once(&seen[0]) && into(s, &ch.ID, s.str)
		case "table":
			return once(&seen[1]) && into(s, &ch.Table, s.name)
		case "row_id":
			return once(&seen[2]) && into(s, &ch.RowID, s.str)
		case "op":
			var op string
			ok := once(&seen[3]) && into(s, &op, s.name)
			ch.Op = Op(op)
			return ok
		case "hlc":
			return once(&seen[4]) && into(s, &ch.HLC, s.str)
		case "fields":
			return once(&seen[5]) && into(s, &ch.Fields, s.object)
		case "base":
			return once(&seen[6]) && into(s, &ch.Base, s.str)
		}
		return false
	})
	return ch, ok
}

// object reads an object of any values as encoding/json reads one into a
// map[string]any: a key given twice keeps its last value.
func (s *scanner) object() (map[string]any, bool) {
	m := map[string]any{}
	ok := s.members(func(k string) bool {
		v, ok := s.value()
		m[k] = v
		return ok
	})
	return m, ok
}

// array reads an array of any values into a []any.
func (s *scanner) array() ([]any, bool) {
	a := []any{}
	ok := s.elements(func() bool {
		v, ok := s.value()
		a = append(a, v)
		return ok
	})
	return a, ok
}

// value reads any JSON value as encoding/json reads one into an any:
// string, float64, bool, nil, []any or map[string]any.
func (s *scanner) value() (any, bool) {
	s.space()
	if s.i >= len(s.b) {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '{' || c == '[':
		if s.depth == maxDepth {
			return nil, false
		}
		s.depth++
		defer func() { s.depth-- }()
		if c == '{' {
			return s.object()
		}
		return s.array()
	case c == 't' || c == 'f':
		return s.boolean()
	case c == 'n':
		if s.word("null") {
			return nil, true
		}
		return nil, false
	default:
		return s.number()
	}
}

// word reads the literal w.
func (s *scanner) word(w string) bool {
	s.space()
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

func (s *scanner) boolean() (bool, bool) {
	switch {
	case s.word("true"):
		return true, true
	case s.word("false"):
		return false, true
	}
	return false, false
}

// number reads a JSON number (RFC 8259's grammar) as a float64.
func (s *scanner) number() (float64, bool) {
	end, ok := s.numberEnd(true)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(s.b[s.i:end]), 64)
	if err != nil {
		return 0, false
	}
	s.i = end
	return f, true
}

// integer reads a JSON number with no fraction or exponent into an int,
// as encoding/json fills an int field.
func (s *scanner) integer() (int, bool) {
	s.space()
	end, ok := s.numberEnd(false)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(s.b[s.i:end]))
	if err != nil {
		return 0, false
	}
	s.i = end
	return n, true
}

// numberEnd finds the end of the number at i; with real false, a fraction
// or exponent is refused.
func (s *scanner) numberEnd(real bool) (int, bool) {
	b, j := s.b, s.i
	digits := func() bool {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case !digits():
		return 0, false
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		if !real {
			return 0, false
		}
		if b[j] == '.' {
			j++
			if !digits() {
				return 0, false
			}
		}
		if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
			j++
			if j < len(b) && (b[j] == '+' || b[j] == '-') {
				j++
			}
			if !digits() {
				return 0, false
			}
		}
	}
	return j, true
}

// name reads a string that is likely to repeat across the body (a key, a
// table, an op), giving one copy of each.
func (s *scanner) name() (string, bool) {
	save := s.i
	if !s.consume('"') {
		return "", false
	}
	start := s.i
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			raw := s.b[start:j]
			if n, ok := s.names[string(raw)]; ok {
				s.i = j + 1
				return n, true
			}
			if !utf8.Valid(raw) {
				return "", false
			}
			n := string(raw)
			if s.names == nil {
				s.names = map[string]string{}
			}
			if len(s.names) < maxNames {
				s.names[n] = n
			}
			s.i = j + 1
			return n, true
		case c == '\\' || c < 0x20:
			s.i = save
			return s.str()
		}
	}
	return "", false
}

// str reads a string. Raw bytes must be valid UTF-8 (encoding/json would
// replace invalid ones) and a \u escape must not name a surrogate
// (encoding/json pairs or replaces those): either answers !ok.
func (s *scanner) str() (string, bool) {
	if !s.consume('"') {
		return "", false
	}
	start := s.i
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			raw := s.b[start:j]
			if !utf8.Valid(raw) {
				return "", false
			}
			s.i = j + 1
			return string(raw), true
		case c == '\\':
			return s.escaped(start, j)
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

// escaped reads the rest of a string holding escapes: it began at start
// (just after its opening quote) and its first escape is at j.
func (s *scanner) escaped(start, j int) (string, bool) {
	out := append(make([]byte, 0, j-start+64), s.b[start:j]...)
	for j < len(s.b) {
		c := s.b[j]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return "", false
			}
			s.i = j + 1
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(s.b) {
			return "", false
		}
		switch e := s.b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if j+6 > len(s.b) {
				return "", false
			}
			r, err := strconv.ParseUint(string(s.b[j+2:j+6]), 16, 32)
			if err != nil || (r >= 0xD800 && r <= 0xDFFF) {
				return "", false
			}
			out = utf8.AppendRune(out, rune(r))
			j += 6
			continue
		default:
			return "", false
		}
		j += 2
	}
	return "", false
}
