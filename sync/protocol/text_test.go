package protocol

import (
	"errors"
	"strings"
	"testing"
)

// Broken text is never read as something else: a lone surrogate escape or
// a byte that is not UTF-8 reaches the schema as a NUL, which it refuses
// for that change alone; good text, escaped or not, is read as it was.
func TestBrokenTextIsMarkedForRefusal(t *testing.T) {
	cases := []struct {
		name, title string
		want        string // the title as decoded
	}{
		{"plain Vietnamese", `Kiểm tra chi đoàn`, "Kiểm tra chi đoàn"},
		{"an emoji as a surrogate pair", `ok \ud83d\ude00`, "ok 😀"},
		{"an escaped backslash before u", `C:\\ud800`, `C:\ud800`},
		{"half an emoji, high", `ok \ud83d`, "ok \x00"},
		{"half an emoji, low", `\ude00 ok`, "\x00 ok"},
		{"high then not low", `\ud83d\u0041`, "\x00A"},
		{"two highs", `\ud83d\ud83d\ude00`, "\x00😀"},
		{"a byte that is not UTF-8", "a\xffb", "a\x00b"},
		{"a cut multi-byte character", "Ki\xe1\xbb", "Ki\x00\x00"},
		{"upper-case hex", `\uD83D\uDE00`, "😀"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := `{"protocol":1,"device_id":"phone-1","changes":[{"id":"c1","table":"trips","row_id":"r","op":"upsert","hlc":"h","fields":{"title":"` +
				c.title + `"}},{"id":"c2","table":"trips","row_id":"s","op":"upsert","hlc":"h","fields":{"title":"fine"}}]}`
			req, err := DecodePush([]byte(body))
			if err != nil {
				t.Fatalf("DecodePush: %v", err)
			}
			if got := req.Changes[0].Fields["title"]; got != c.want {
				t.Errorf("title decoded as %q, want %q", got, c.want)
			}
			if got := req.Changes[1].Fields["title"]; got != "fine" {
				t.Errorf("the next change's title decoded as %q", got)
			}
			broken := strings.ContainsRune(c.want, 0)
			if ValidText([]byte(body)) == broken {
				t.Errorf("ValidText = %v for a body whose text is broken: %v", !broken, broken)
			}
		})
	}
}

// A NUL written as an escape is not valid text either; a key's broken
// text is caught like a value's; a change id may not hold a control
// character.
func TestValidTextRefusesNULAndBrokenKeys(t *testing.T) {
	for _, body := range []string{`{"full_name":"a\u0000b"}`, `{"a\udc00":1}`, "{\"a\xc0\":1}"} {
		if ValidText([]byte(body)) {
			t.Errorf("ValidText(%q) = true", body)
		}
	}
	for _, body := range []string{`{"full_name":"a\\u0000b"}`, `{"full_name":"Nguyễn Văn An \ud83d\ude00"}`, `[]`, ``} {
		if !ValidText([]byte(body)) {
			t.Errorf("ValidText(%q) = false", body)
		}
	}
	body := `{"protocol":1,"device_id":"phone-1","changes":[{"id":"c\u0000","table":"trips","row_id":"r","op":"upsert","hlc":"h","fields":{}}]}`
	if _, err := DecodePush([]byte(body)); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Errorf("a change id with a NUL: %v, want refused", err)
	}
}

// A push is an object: null is not an empty push of protocol 0 (which
// answered 426 protocol_unsupported).
func TestANullPushIsNotJSONForAPush(t *testing.T) {
	_, err := DecodePush([]byte(" null"))
	var de *DecodeError
	if !errors.As(err, &de) || de.Code != "invalid_json" {
		t.Fatalf("DecodePush(null) = %v, want invalid_json", err)
	}
}
