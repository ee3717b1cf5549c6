package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

const validPush = `{"protocol":1,"device_id":"dev-lan","base_cursor":"1.42.abc",
 "changes":[{"id":"c1","table":"visit_notes","row_id":"9b2f6c1e-0d4a-4c1b-9d51-3f0a6c2b7e11","op":"upsert",
  "hlc":"001622710800000.00000.dev-lan","fields":{"title":"Làm việc","status":"draft","lat":21.03,"unit_ids":["a"]}},
 {"id":"c2","table":"trips","row_id":"9b2f6c1e-0d4a-4c1b-9d51-3f0a6c2b7e12","op":"delete","hlc":"001622710800000.00001.dev-lan"}]}`

func TestDecodePush(t *testing.T) {
	t.Parallel()
	req, err := DecodePush([]byte(validPush))
	if err != nil {
		t.Fatalf("valid push: %v", err)
	}
	if req.DeviceID != "dev-lan" || req.BaseCursor != "1.42.abc" || len(req.Changes) != 2 ||
		req.Changes[0].Fields["title"] != "Làm việc" || req.Changes[1].Op != OpDelete {
		t.Fatalf("decoded %+v", req)
	}
	// Table, field and value judgements are per change, not the envelope's.
	if _, err := DecodePush([]byte(`{"protocol":1,"device_id":"d","changes":[{"id":"x","table":"nope","row_id":"r","op":"sing","hlc":"h"}]}`)); err != nil {
		t.Fatalf("a push with bad changes must still decode: %v", err)
	}
	many := make([]string, MaxBatch+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"id":"c%d"}`, i)
	}
	for name, c := range map[string]struct {
		body, code string
	}{
		"empty":             {``, "invalid_json"},
		"not json":          {`{"protocol":`, "invalid_json"},
		"two values":        {`{"protocol":1,"device_id":"d","changes":[]} {}`, "invalid_json"},
		"unknown key":       {`{"protocol":1,"device_id":"d","changes":[],"extra":1}`, "unknown_field"},
		"unknown in change": {`{"protocol":1,"device_id":"d","changes":[{"id":"a","colour":"red"}]}`, "unknown_field"},
		"bad device":        {`{"protocol":1,"device_id":"a.b","changes":[]}`, "validation_failed"},
		"no device":         {`{"protocol":1,"changes":[]}`, "validation_failed"},
		"empty id":          {`{"protocol":1,"device_id":"d","changes":[{"id":""}]}`, "validation_failed"},
		"long id":           {`{"protocol":1,"device_id":"d","changes":[{"id":"` + strings.Repeat("x", 65) + `"}]}`, "validation_failed"},
		"duplicate id":      {`{"protocol":1,"device_id":"d","changes":[{"id":"a"},{"id":"a"}]}`, "validation_failed"},
		"too many":          {`{"protocol":1,"device_id":"d","changes":[` + strings.Join(many, ",") + `]}`, "validation_failed"},
		"wrong type":        {`{"protocol":"1","device_id":"d","changes":[]}`, "invalid_json"},
	} {
		_, err := DecodePush([]byte(c.body))
		var de *DecodeError
		if !errors.As(err, &de) || de.Code != c.code {
			t.Errorf("%s: err = %v, want code %s", name, err, c.code)
		}
	}
	if _, err := DecodePush([]byte(`{"protocol":2,"device_id":"d","changes":[]}`)); !errors.Is(err, ErrProtocol) {
		t.Errorf("protocol 2: err = %v, want ErrProtocol", err)
	}
}

func TestDecodePull(t *testing.T) {
	t.Parallel()
	req, err := DecodePull([]byte(`{"protocol":1,"device_id":"d","cursor":""}`))
	if err != nil || req.Limit != DefaultPullLimit {
		t.Fatalf("default limit: %+v %v", req, err)
	}
	for _, body := range []string{
		`{"protocol":1,"device_id":"d","limit":-1}`,
		fmt.Sprintf(`{"protocol":1,"device_id":"d","limit":%d}`, MaxPullLimit+1),
		`{"protocol":1,"device_id":"","cursor":""}`,
		`{"protocol":1,"device_id":"d","since":""}`,
	} {
		var de *DecodeError
		if _, err := DecodePull([]byte(body)); !errors.As(err, &de) {
			t.Errorf("%s: err = %v, want a DecodeError", body, err)
		}
	}
}

// FuzzDecodePush: any body either decodes to a push whose envelope holds
// (protocol 1, a valid device id, at most MaxBatch changes with distinct
// ids of 1-64 bytes) and that encodes and decodes back to itself, or fails
// with ErrProtocol or a DecodeError with a known code. It never panics.
func FuzzDecodePush(f *testing.F) {
	f.Add([]byte(validPush))
	f.Add([]byte(`{"protocol":1,"device_id":"d","changes":[]}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d","changes":[{"id":"a"},{"id":"a"}]}`))
	f.Add([]byte(`{"protocol":2,"device_id":"d","changes":null}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d","changes":[{"id":"a","fields":{"x":[1,{"y":null}],"z":1e308}}]}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d","changes":[],"x":1}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d\u0000","changes":[]}`))
	f.Add([]byte("{\"protocol\":1,\"device_id\":\"d\",\"changes\":[{\"id\":\"a\",\"fields\":{\"t\":\"\xff \\ud83d\"}}]}"))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodePush(body)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if req.Protocol != Version || len(req.Changes) > MaxBatch {
			t.Fatalf("accepted envelope %d / %d changes", req.Protocol, len(req.Changes))
		}
		seen := map[string]bool{}
		for _, ch := range req.Changes {
			if ch.ID == "" || len(ch.ID) > 64 || seen[ch.ID] {
				t.Fatalf("accepted change id %q", ch.ID)
			}
			seen[ch.ID] = true
		}
		// Broken text is never read as U+FFFD, which the body did not write.
		if !bytes.Contains(body, []byte("\ufffd")) && !bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
			for _, ch := range req.Changes {
				for name, v := range ch.Fields {
					if b, _ := json.Marshal(v); bytes.Contains(b, []byte("\ufffd")) || strings.Contains(name, "\ufffd") {
						t.Fatalf("field %q of %q read broken text as U+FFFD: %q", name, body, b)
					}
				}
			}
		}
		// What was accepted survives a trip through the wire unchanged.
		once, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("encode accepted push: %v", err)
		}
		again, err := DecodePush(once)
		if err != nil {
			t.Fatalf("re-decode %s: %v", once, err)
		}
		twice, err := json.Marshal(again)
		if err != nil {
			t.Fatalf("encode again: %v", err)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("round trip changed the push:\n%s\n%s", once, twice)
		}
	})
}
