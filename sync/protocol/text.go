package protocol

import (
	"unicode/utf8"
)

// Text on the wire must be valid UTF-8 without the NUL character
// (docs/protocol.md, Push). encoding/json does not refuse broken text: it
// reads a byte that is not UTF-8, or a lone UTF-16 surrogate escape
// ("\ud800", which JSON.stringify writes for half an emoji), as U+FFFD,
// and the value would be stored altered without a word.

// badText scans the strings of a JSON body for broken text. It returns
// the body with every broken piece written as the escape \u0000, which the
// schema's text rule refuses with the field's name (so one change is
// refused, not the whole push), whether there was any, and whether the
// body holds a NUL (escaped, broken pieces included). out is body itself
// when nothing was broken.
func badText(body []byte) (out []byte, broken, nul bool) {
	const marker = `\u0000`
	out = body
	keep := 0 // body[keep:i] is still to be copied, once out is a copy
	fix := func(from, to int) {
		if !broken {
			out = make([]byte, 0, len(body)+16)
			broken = true
		}
		out = append(out, body[keep:from]...)
		out = append(out, marker...)
		keep = to
		nul = true
	}
	inString := false
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '"':
			inString = !inString
			i++
		case !inString:
			i++
		case c == '\\':
			if i+1 < len(body) && body[i+1] == 'u' {
				r, ok := hex4(body, i+2)
				switch {
				case !ok:
					i += 2 // not JSON: the decoder says so
				case r == 0:
					nul = true
					i += 6
				case r >= 0xd800 && r < 0xdc00:
					if lo, ok := hex4(body, i+8); ok && i+7 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' && lo >= 0xdc00 && lo < 0xe000 {
						i += 12
					} else {
						fix(i, i+6)
						i += 6
					}
				case r >= 0xdc00 && r < 0xe000:
					fix(i, i+6)
					i += 6
				default:
					i += 6
				}
			} else {
				i += 2
			}
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && n == 1 {
				fix(i, i+1)
			}
			i += n
		}
	}
	if broken {
		out = append(out, body[keep:]...)
	}
	return out, broken, nul
}

// hex4 reads the four hex digits at body[i:i+4].
func hex4(body []byte, i int) (rune, bool) {
	if i+4 > len(body) {
		return 0, false
	}
	var r rune
	for _, c := range body[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// ValidText reports whether every string of a JSON body is valid UTF-8
// text without the NUL character. Request bodies other than pushes are
// refused whole when it is false (a push refuses the change instead).
func ValidText(body []byte) bool {
	_, broken, nul := badText(body)
	return !broken && !nul
}
