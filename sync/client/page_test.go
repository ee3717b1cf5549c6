package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"dicoso/sync/protocol"
)

// FuzzDecodePage: decodePage reads any answer as encoding/json reads it
// into a pullPage (the decoder it replaced): the same page from whole JSON,
// a syntax error (a cut answer, retried) wherever encoding/json finds one,
// a type error where it finds only that. Documents with a key given twice
// or spelt in another case, which decodePage reads differently on purpose
// (page.go), are left out.
func FuzzDecodePage(f *testing.F) {
	page := protocol.PullResponse{Rows: []protocol.Row{
		{Table: "units", RowID: "0b9c2c8e-6a57-4c1e-9d0a-3f1f5d7c9e21", Fields: map[string]any{
			"name": "Chi đoàn \"thôn\" <1> & 2\n", "kind": "grassroots", "lat": 10.25, "lng": -1e-7, "code": nil, "status": "active"},
			Version: "0001764500000000-0000-dev"},
		{Table: "teams", RowID: "x", Fields: map[string]any{"member_ids": []string{"a", "b"}, "unit_ids": []string{}}, Deleted: true, Version: "v"},
		{Table: "trips", RowID: "y", Deleted: true},
		{Table: "unknown", RowID: "z", Fields: map[string]any{"n": int64(3)}},
	}, Cursor: "1.42.abcdef", HasMore: true, ServerTime: "2026-11-30T12:00:00.123Z"}
	whole := page.AppendJSON(nil)
	f.Add(whole)
	for _, n := range []int{1, 10, 100, len(whole) / 2, len(whole) - 1} {
		f.Add(whole[:n]) // cut answers
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `5`, `{"rows":null}`, `{"rows":[]}`, `{"rows":[null,{}]}`,
		`{"rows":5}`, `{"rows":[5]}`, `{"cursor":5}`, `{"has_more":"true"}`, `{"reset":null,"cursor":null}`,
		`{"rows":[{"fields":null,"deleted":null,"table":"a\u00e9\ud83d\ude00\ud800","extra":{"a":[1,2,{"b":null}]}}]}`,
		` { "rows" : [ { "fields" : { "a" : [ ] } } ] , "unknown" : [ true , false , -0.5e+3 ] } `,
		`{"rows":[{"fields":{}}]} x`, `{"cursor":"\x01"}`, `{"cursor":"\q"}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":tru}`,
		`{"cursor":"` + "\xff\xfe" + `"}`, `{"rows":[{"fields":"` + "\xc3" + `"}]}`, `{"rows":[{}],}`, `{"rows":[{},]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !plainKeys(b) {
			return
		}
		var want, got pullPage
		wantErr := json.Unmarshal(b, &want)
		err := decodePage(b, &got)
		var jsonSyntax *json.SyntaxError
		var syntax *errSyntax
		switch {
		case errors.As(wantErr, &jsonSyntax):
			if !errors.As(err, &syntax) {
				t.Fatalf("%q: encoding/json finds a syntax error (%v), decodePage %v", b, wantErr, err)
			}
		case wantErr != nil:
			if err == nil || errors.As(err, &syntax) {
				t.Fatalf("%q: encoding/json finds a type error (%v), decodePage %v", b, wantErr, err)
			}
		case err != nil:
			t.Fatalf("%q: encoding/json reads it, decodePage: %v", b, err)
		case !reflect.DeepEqual(want, got):
			t.Fatalf("%q:\nencoding/json %#v\ndecodePage    %#v", b, want, got)
		}
	})
}

// plainKeys reports whether the keys of the answer's object and of its
// rows are each given once and spelt as the protocol spells them when
// they match one of its keys in another case. Not whole JSON counts as
// plain.
func plainKeys(b []byte) bool {
	known := []string{"rows", "cursor", "has_more", "reset", "server_time", "table", "row_id", "fields", "deleted", "version"}
	dec := json.NewDecoder(bytes.NewReader(b))
	type level struct {
		object bool
		keys   map[string]bool
		expect bool // the next token in this object is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return true
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expect {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			key := tok.(string)
			// Depth 1 is the answer, depth 3 a row (answer, rows, row).
			if depth := len(stack); depth == 1 || depth == 3 {
				if top.keys[key] {
					return false
				}
				top.keys[key] = true
				for _, k := range known {
					if key != k && bytes.EqualFold([]byte(key), []byte(k)) {
						return false
					}
				}
			}
			top.expect = false
			continue
		}
		if top != nil && top.object {
			top.expect = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{object: true, keys: map[string]bool{}, expect: true})
		case json.Delim('['):
			stack = append(stack, &level{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expect = true
			}
		}
	}
}
