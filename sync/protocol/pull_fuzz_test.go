package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"dicoso/sync/hlc"
)

// FuzzDecodePull: any body either decodes to a pull whose envelope holds
// (protocol 1, a valid device id, a limit between 1 and MaxPullLimit, the
// default when none was given) and that encodes and decodes back to the
// same request, or fails with ErrProtocol or a DecodeError with a known
// code and a message. It never panics.
func FuzzDecodePull(f *testing.F) {
	f.Add([]byte(`{"protocol":1,"device_id":"dev-lan","cursor":"1.42.abc","limit":50}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d","cursor":""}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d","cursor":null,"limit":0}`))
	f.Add([]byte(fmt.Sprintf(`{"protocol":1,"device_id":"d","limit":%d}`, MaxPullLimit+1)))
	f.Add([]byte(`{"protocol":1,"device_id":"d","limit":-1}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d","limit":1.5}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d","limit":1e3}`))
	f.Add([]byte(`{"protocol":2,"device_id":"d"}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d","since":"x"}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d\u00e9","cursor":"\ud800"}`))
	f.Add([]byte(`{"PROTOCOL":1,"Device_ID":"d"}`))
	f.Add([]byte(`{"protocol":1,"device_id":"d"} {}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodePull(body)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		if req.Protocol != Version || req.Limit < 1 || req.Limit > MaxPullLimit {
			t.Fatalf("accepted protocol %d, limit %d", req.Protocol, req.Limit)
		}
		if !hlc.ValidNode(req.DeviceID) {
			t.Fatalf("accepted device id %q", req.DeviceID)
		}
		// What was accepted survives a trip through the wire unchanged.
		once, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("encode accepted pull: %v", err)
		}
		again, err := DecodePull(once)
		if err != nil {
			t.Fatalf("re-decode %s: %v", once, err)
		}
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("round trip changed the pull:\n%+v\n%+v", req, again)
		}
	})
}

// checkDecodeError fails t unless err is one a decoder may return: the
// protocol mismatch, or a DecodeError with a known code and a message.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var de *DecodeError
	switch {
	case errors.Is(err, ErrProtocol):
	case errors.As(err, &de):
		if de.Code != "invalid_json" && de.Code != "unknown_field" && de.Code != "validation_failed" {
			t.Fatalf("unknown decode error code %q", de.Code)
		}
		if de.Message == "" {
			t.Fatal("decode error without a message")
		}
	default:
		t.Fatalf("error of an unexpected kind: %T %v", err, err)
	}
}
