package api

import (
	"net/http"
	"strings"
	"testing"
)

// Cursors this server did not make are refused over the wire as the
// protocol says: a pull cursor beyond the change log answers invalid_cursor;
// a push whose base_cursor is no cursor at all is refused whole with
// validation_failed naming base_cursor, and merges nothing.
func TestForeignCursorsAreRefusedOnTheWire(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withSeeds(), withAdmin())
	sec := ts.addUser(t, "trust-sec", "secretary")
	_, cursor := sec.pullAll(t, "")
	parts := strings.Split(cursor, ".")
	for _, bad := range []string{"1.999999999." + parts[2], "1.+" + parts[1] + "." + parts[2]} {
		ts.call(t, http.MethodPost, "/api/v1/sync/pull", sec.token,
			`{"protocol":1,"device_id":"`+sec.id+`","cursor":"`+bad+`"}`).wantError(t, http.StatusBadRequest, "invalid_cursor")
	}
	body := `{"protocol":1,"device_id":"` + sec.id + `","base_cursor":"zzz","changes":[]}`
	env := ts.call(t, http.MethodPost, "/api/v1/sync/push", sec.token, body).wantError(t, http.StatusBadRequest, "validation_failed")
	if !strings.Contains(string(env.Error.Details), `"field":"base_cursor"`) {
		t.Fatalf("details %s, want the field base_cursor", env.Error.Details)
	}
}
