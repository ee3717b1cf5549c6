package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"dicoso/server/syncdb"
	"dicoso/sync/schema"
)

// reference serves one reference table of docs/protocol.md, Data over REST (docs/protocol.md):
// list, get, create, patch, delete. One set of handlers for every table,
// driven by the schema registry: field names, value checks and required
// fields all come from sync/schema, and every table or column name put in
// SQL is the registry's, never the request's.
//
// Reads see live rows only. Writes go through the sync engine in one
// transaction, so they get clocks, a change-log entry and a sequence, and
// reach devices on their next pull; a failed write leaves nothing behind.
type reference struct {
	s     *Server
	t     *schema.Table
	order string // ORDER BY of lists, from the table's spec (Admin.List)
}

// reference returns the handlers of a reference table. An unknown table is
// a programming error in the route table.
func (s *Server) reference(table string) reference {
	t, ok := schema.Lookup(table)
	sp, specified := syncdb.SpecOf(table)
	if !ok || !t.Reference || !specified || sp.Admin == nil || sp.Admin.List == "" {
		panic(fmt.Sprintf("reference: %q is not a served reference table", table))
	}
	return reference{s: s, t: t, order: sp.Admin.List}
}

// decided reports whether field of a table devices propose rows to is
// one only the proposal and the decision on it write (its status and its
// proposer): an edit over REST would skip the spec that judges them.
func (r reference) decided(field string) bool {
	if !r.t.Proposed {
		return false
	}
	sp, _ := syncdb.SpecOf(r.t.Name)
	return field == sp.Status || field == r.t.Owner
}

// noun names a row of the table in messages ("units row").
func (r reference) noun() string { return r.t.Name + " row" }

type referenceList struct {
	Items []map[string]any `json:"items"`
}

// list: GET /api/v1/<table>[?field=value...]. Each query parameter filters
// on one field: equality, or for a list field (unit_ids, member_ids)
// membership; an empty value matches null. Unknown parameters are refused,
// so a mistyped filter never silently returns everything.
func (r reference) list(c echo.Context) error {
	where, args, err := r.filters(c.QueryParams())
	if err != nil {
		return err
	}
	rows, err := r.query(c.Request().Context(), r.s.store.Reader(), where, args...)
	if err != nil {
		return internal(err)
	}
	return c.JSON(http.StatusOK, referenceList{Items: rows})
}

// get: GET /api/v1/<table>/:id.
func (r reference) get(c echo.Context) error {
	row, err := r.load(c.Request().Context(), r.s.store.Reader(), c.Param("id"))
	if errors.Is(err, errNoRow) {
		return notFound(r.noun())
	}
	if err != nil {
		return internal(err)
	}
	return c.JSON(http.StatusOK, row)
}

// create: POST /api/v1/<table>. The id may be given (a UUID, as devices
// name rows) or is made here; an id already used, even by a deleted row,
// is a conflict.
func (r reference) create(c echo.Context) error {
	body, err := r.s.bindObject(c)
	if err != nil {
		return err
	}
	id, fields, err := r.checkFields(c.Request().Context(), body, true)
	if err != nil {
		return err
	}
	if err := r.checkSpans(fields); err != nil {
		return err
	}
	if err := r.s.allowRow(c, r.t.Name, actCreate, nil, fields); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var row map[string]any
	err = r.s.store.InTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM "+r.t.Name+" WHERE id = ?", id).Scan(&one)
		if err == nil {
			return conflict("id_taken", "a "+r.noun()+" with that id exists")
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check id: %w", err)
		}
		if err := r.checkLiveRefs(ctx, tx, fields); err != nil {
			return err
		}
		if err := r.s.sync.ApplyServerTx(ctx, tx, principalFrom(c).UserID,
			[]syncdb.ServerChange{{Table: r.t.Name, RowID: id, Fields: fields}}); err != nil {
			return err
		}
		row, err = r.load(ctx, tx, id)
		return err
	})
	if err != nil {
		return referenceWriteError(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/"+r.t.Name+"/"+id)
	return c.JSON(http.StatusCreated, row)
}

// update: PATCH /api/v1/<table>/:id changes the fields present; null clears
// a field the store lets be NULL (checkFields refuses it for the others).
func (r reference) update(c echo.Context) error {
	body, err := r.s.bindObject(c)
	if err != nil {
		return err
	}
	_, fields, err := r.checkFields(c.Request().Context(), body, false)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var row map[string]any
	err = r.s.store.InTx(ctx, func(tx *sql.Tx) error {
		before, err := r.load(ctx, tx, c.Param("id"))
		if err != nil {
			return err
		}
		after := make(map[string]any, len(before)+len(fields))
		for k, v := range before {
			after[k] = v
		}
		for k, v := range fields {
			after[k] = v
		}
		if err := r.checkSpans(after); err != nil {
			return err
		}
		if err := r.s.allowRow(c, r.t.Name, actUpdate, before, after); err != nil {
			return err
		}
		id, _ := before["id"].(string)
		if len(fields) == 0 {
			row = before
			return nil
		}
		if err := r.checkLiveRefs(ctx, tx, fields); err != nil {
			return err
		}
		if err := r.s.sync.ApplyServerTx(ctx, tx, principalFrom(c).UserID,
			[]syncdb.ServerChange{{Table: r.t.Name, RowID: id, Fields: fields}}); err != nil {
			return err
		}
		row, err = r.load(ctx, tx, id)
		return err
	})
	if errors.Is(err, errNoRow) {
		return notFound(r.noun())
	}
	if err != nil {
		return referenceWriteError(err)
	}
	return c.JSON(http.StatusOK, row)
}

// remove: DELETE /api/v1/<table>/:id leaves a tombstone, which devices pull
// like any change. A row that live rows still point at is kept (409
// in_use): deleting it would leave them naming nothing.
func (r reference) remove(c echo.Context) error {
	ctx := c.Request().Context()
	err := r.s.store.InTx(ctx, func(tx *sql.Tx) error {
		before, err := r.load(ctx, tx, c.Param("id"))
		if err != nil {
			return err
		}
		if err := r.s.allowRow(c, r.t.Name, actDelete, before, nil); err != nil {
			return err
		}
		id, _ := before["id"].(string)
		if err := r.checkUnused(ctx, tx, id); err != nil {
			return err
		}
		return r.s.sync.ApplyServerTx(ctx, tx, principalFrom(c).UserID,
			[]syncdb.ServerChange{{Table: r.t.Name, RowID: id, Delete: true}})
	})
	if errors.Is(err, errNoRow) {
		return notFound(r.noun())
	}
	if err != nil {
		return referenceWriteError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// referenceWriteError maps what a write transaction returned onto the envelope: the
// sync engine's refusals are the client's fault (a reference to a row that
// does not exist, mostly), anything else is ours.
func referenceWriteError(err error) error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var rj *syncdb.RejectedError
	if errors.As(err, &rj) {
		var details []fieldError
		if rj.Field != "" {
			details = []fieldError{{Field: rj.Field, Rule: rejectionRule(rj)}}
		}
		code := rj.Code
		if code != "unknown_field" {
			code = "validation_failed"
		}
		return &Error{Status: http.StatusBadRequest, Code: code, Message: rj.Message, Details: details, Err: err}
	}
	return internal(err)
}

// rejectionRule names the rule a refused field broke: for a reference,
// that the row it names exists.
func rejectionRule(rj *syncdb.RejectedError) string {
	if t, ok := schema.Lookup(rj.Table); ok {
		if f, ok := t.Field(rj.Field); ok && f.Ref != "" {
			return "exists"
		}
	}
	return "valid"
}

// errNoRow: the id names no live row of the table.
var errNoRow = errors.New("no such live row")

// refQueryer is what reads run on: the reader pool or a write transaction.
type refQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// load reads one live row in wire form; errNoRow when there is none (an id
// that is not even a UUID names no row either).
func (r reference) load(ctx context.Context, q refQueryer, id string) (map[string]any, error) {
	if !schema.ValidID(id) {
		return nil, errNoRow
	}
	rows, err := r.query(ctx, q, "r.id = ?", strings.ToLower(id))
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errNoRow
	}
	return rows[0], nil
}

// query reads the live rows matching where (a condition over the row
// aliased r, built from registry names only) in wire form.
func (r reference) query(ctx context.Context, q refQueryer, where string, args ...any) ([]map[string]any, error) {
	cols := r.t.Columns()
	qs := "SELECT r.id, r." + strings.Join(cols, ", r.") + " FROM " + r.t.Name + " AS r WHERE r.deleted = 0"
	if where != "" {
		qs += " AND " + where
	}
	qs += " ORDER BY " + r.order
	rs, err := q.QueryContext(ctx, qs, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.t.Name, err)
	}
	defer rs.Close()
	out := []map[string]any{}
	for rs.Next() {
		var id string
		raw := make([]any, len(cols))
		dest := make([]any, 0, len(cols)+1)
		dest = append(dest, &id)
		for i := range raw {
			dest = append(dest, &raw[i])
		}
		if err := rs.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read %s: %w", r.t.Name, err)
		}
		row := make(map[string]any, len(cols)+1)
		row["id"] = id
		for i, name := range cols {
			f, _ := r.t.Field(name)
			row[name] = f.FromSQL(raw[i])
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", r.t.Name, err)
	}
	return out, nil
}

// filters turns query parameters into a condition over the row aliased r.
func (r reference) filters(params url.Values) (string, []any, error) {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	var conds []string
	var args []any
	for _, name := range names {
		f, ok := r.t.Field(name)
		if !ok {
			return "", nil, badRequest("unknown_filter",
				fmt.Sprintf("%s cannot be filtered by %q", r.t.Name, name), map[string]string{"param": name})
		}
		if len(params[name]) != 1 {
			return "", nil, filterError(name, "give "+name+" once")
		}
		raw := params[name][0]
		if f.Type == schema.List {
			if raw == "" {
				return "", nil, filterError(name, name+" must name an item the list holds")
			}
			sv, err := f.ToSQL([]any{raw})
			if err != nil {
				return "", nil, filterError(name, err.Error())
			}
			var items []string
			if err := json.Unmarshal([]byte(sv.(string)), &items); err != nil || len(items) != 1 {
				return "", nil, filterError(name, name+" must name one item")
			}
			conds = append(conds, "EXISTS (SELECT 1 FROM "+r.s.store.Dialect().JSONEach("r."+f.Name, "j")+" WHERE j.value = ?)")
			args = append(args, items[0])
			continue
		}
		v, err := filterValue(f, raw)
		if err != nil {
			return "", nil, filterError(name, err.Error())
		}
		sv, err := f.ToSQL(v)
		if err != nil {
			return "", nil, filterError(name, err.Error())
		}
		if sv == nil {
			conds = append(conds, "r."+f.Name+" IS NULL")
			continue
		}
		conds = append(conds, "r."+f.Name+" = ?")
		args = append(args, sv)
	}
	return strings.Join(conds, " AND "), args, nil
}

func filterError(param, msg string) *Error {
	return badRequest("validation_failed", msg, []fieldError{{Field: param, Rule: "filter"}})
}

// filterValue reads a query parameter as the wire value of f; "" is null.
func filterValue(f *schema.Field, s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	switch f.Type {
	case schema.Int, schema.Real:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%s must be a number", f.Name)
		}
		return n, nil
	case schema.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%s must be true or false", f.Name)
		}
		return b, nil
	}
	return s, nil
}

// bindObject reads the request body as one JSON object, strictly: JSON
// content type, within the body limit, nothing after it.
func (s *Server) bindObject(c echo.Context) (map[string]json.RawMessage, error) {
	body, err := s.readBody(c)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	err = dec.Decode(&obj)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return nil, badRequest("invalid_json", "request body is empty", nil)
	case errors.As(err, &se):
		return nil, badRequest("invalid_json", fmt.Sprintf("request body is not valid JSON (at byte %d)", se.Offset), nil)
	case errors.As(err, &te), err == nil && obj == nil:
		return nil, badRequest("invalid_json", "request body must be a JSON object", nil)
	case err != nil:
		return nil, badRequest("invalid_json", "request body is not valid JSON", nil)
	}
	if dec.More() {
		return nil, badRequest("invalid_json", "request body holds more than one JSON value", nil)
	}
	return obj, nil
}

// checkFields checks a body against the table's schema: every name a field
// of the table (else 400 unknown_field), every value one the field takes,
// required fields present and not blank, and no null for a column the
// store holds NOT NULL (null empties only a column that may be NULL; text
// and lists are emptied with "" and []). On create it also returns the row
// id: the body's, lower-cased, or a new one. The fields come back as wire
// values for the sync engine.
func (r reference) checkFields(ctx context.Context, body map[string]json.RawMessage, creating bool) (string, map[string]any, error) {
	notNull, err := r.s.notNull.of(ctx, r.t.Name)
	if err != nil {
		return "", nil, internal(err)
	}
	names := make([]string, 0, len(body))
	for name := range body {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, ok := r.t.Field(name); !ok && name != "id" {
			return "", nil, badRequest("unknown_field", "unknown field \""+name+"\"", map[string]string{"field": name})
		}
	}

	var problems []fieldError
	var msgs []string
	fail := func(field, rule, param, msg string) {
		problems = append(problems, fieldError{Field: field, Rule: rule, Param: param})
		msgs = append(msgs, msg)
	}
	id := ""
	fields := make(map[string]any, len(body))
	for _, name := range names {
		var v any
		if err := json.Unmarshal(body[name], &v); err != nil {
			return "", nil, badRequest("invalid_json", "field "+name+" is not valid JSON", nil)
		}
		if name == "id" {
			s, ok := v.(string)
			switch {
			case !creating:
				fail("id", "readonly", "", "id cannot be changed")
			case !ok || !schema.ValidID(s):
				fail("id", "uuid", "", "id must be a UUID")
			default:
				id = strings.ToLower(s)
			}
			continue
		}
		f, _ := r.t.Field(name)
		if f.Computed {
			fail(name, "readonly", "", name+" is computed by the server")
			continue
		}
		if r.decided(name) {
			fail(name, "readonly", "", name+" is set by a proposal from the field and a decision on it (POST /api/v1/"+r.t.Name+"/{id}/decision)")
			continue
		}
		if slices.Contains(r.t.Required, name) && blankValue(v) {
			fail(name, "required", "", name+" is required")
			continue
		}
		if v == nil && notNull[name] {
			fail(name, "notnull", "", nullMessage(name, f.Type))
			continue
		}
		if _, err := f.ToSQL(v); err != nil {
			rule, param := schemaRule(f, v)
			fail(name, rule, param, err.Error())
			continue
		}
		fields[name] = v
	}
	if creating {
		for _, name := range r.t.Required {
			if _, given := body[name]; !given {
				fail(name, "required", "", name+" is required")
			}
		}
		if id == "" {
			id = uuid.NewString()
		}
	}
	if len(problems) > 0 {
		return "", nil, badRequest("validation_failed", strings.Join(msgs, "; "), problems)
	}
	return id, fields, nil
}

// blankValue reports a value a required field may not hold.
func blankValue(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

// schemaRule names the rule (in the validator's vocabulary, as bind
// reports it) that a value the schema refused broke.
func schemaRule(f *schema.Field, v any) (rule, param string) {
	switch f.Type {
	case schema.Text:
		if s, ok := v.(string); ok && f.Max > 0 && len([]rune(s)) > f.Max {
			return "max", strconv.Itoa(f.Max)
		}
		return "string", ""
	case schema.Int:
		return "int", ""
	case schema.Real:
		return "number", ""
	case schema.Bool:
		return "boolean", ""
	case schema.Date:
		return "date", ""
	case schema.Instant:
		return "datetime", ""
	case schema.ID:
		return "uuid", ""
	case schema.Enum:
		return "oneof", strings.Join(f.Values, " ")
	case schema.List:
		if l, ok := v.([]any); ok && f.Max > 0 && len(l) > f.Max {
			return "max", strconv.Itoa(f.Max)
		}
		return "list", ""
	}
	return "valid", ""
}

// spans are the (start, end) date pairs a row may hold; an end before its
// start is refused.
var spans = [][2]string{{"starts_on", "ends_on"}, {"valid_from", "valid_to"}}

// checkSpans refuses a row (wire form) whose end date is before its start.
// Dates were checked by the schema, so YYYY-MM-DD strings compare as text.
func (r reference) checkSpans(row map[string]any) error {
	for _, sp := range spans {
		if _, ok := r.t.Field(sp[0]); !ok {
			continue
		}
		from, ok1 := row[sp[0]].(string)
		to, ok2 := row[sp[1]].(string)
		if ok1 && ok2 && to < from {
			return badRequest("validation_failed", sp[1]+" is before "+sp[0],
				[]fieldError{{Field: sp[1], Rule: "gtefield", Param: sp[0]}})
		}
	}
	return nil
}

// checkLiveRefs refuses fields (wire form, checked by checkFields) naming
// a row that does not exist or is deleted. The sync engine accepts a
// reference to a deleted row, since a device offline for weeks may
// rightly name one; an administrator editing online should not make new
// ones.
func (r reference) checkLiveRefs(ctx context.Context, tx *sql.Tx, fields map[string]any) error {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	var problems []fieldError
	var msgs []string
	for _, name := range names {
		f, _ := r.t.Field(name)
		if f.Ref == "" || fields[name] == nil {
			continue
		}
		sv, err := f.ToSQL(fields[name])
		if err != nil {
			return fmt.Errorf("normalise %s: %w", name, err) // checkFields passed it
		}
		ids := []string{}
		if f.Type == schema.List {
			if err := json.Unmarshal([]byte(sv.(string)), &ids); err != nil {
				return fmt.Errorf("decode %s: %w", name, err)
			}
		} else {
			ids = append(ids, sv.(string))
		}
		for _, id := range ids {
			var deleted bool
			err := tx.QueryRowContext(ctx, "SELECT deleted FROM "+f.Ref+" WHERE id = ?", id).Scan(&deleted)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				msgs = append(msgs, fmt.Sprintf("%s: no %s row %s", name, f.Ref, id))
			case err != nil:
				return fmt.Errorf("check %s %s: %w", f.Ref, id, err)
			case deleted:
				msgs = append(msgs, fmt.Sprintf("%s: %s row %s is deleted", name, f.Ref, id))
			default:
				continue
			}
			problems = append(problems, fieldError{Field: name, Rule: "exists"})
			break
		}
	}
	if len(problems) > 0 {
		return badRequest("validation_failed", strings.Join(msgs, "; "), problems)
	}
	return nil
}

// refUse is one kind of live row still pointing at a row being deleted.
type refUse struct {
	Table string `json:"table"`
	Field string `json:"field"`
	Count int    `json:"count"`
}

// checkUnused refuses to delete a row that live rows of any synced table
// (reference or field data) still name, listing which.
func (r reference) checkUnused(ctx context.Context, tx *sql.Tx, id string) error {
	var uses []refUse
	for _, t := range schema.Tables() {
		for _, f := range t.Fields {
			if f.Ref != r.t.Name {
				continue
			}
			cond := "r." + f.Name + " = ?"
			if f.Type == schema.List {
				cond = "EXISTS (SELECT 1 FROM " + r.s.store.Dialect().JSONEach("r."+f.Name, "j") + " WHERE j.value = ?)"
			}
			var n int
			q := "SELECT COUNT(*) FROM " + t.Name + " AS r WHERE r.deleted = 0 AND r.id <> ? AND " + cond
			if err := tx.QueryRowContext(ctx, q, id, id).Scan(&n); err != nil {
				return fmt.Errorf("count uses of %s %s in %s.%s: %w", r.t.Name, id, t.Name, f.Name, err)
			}
			if n > 0 {
				uses = append(uses, refUse{Table: t.Name, Field: f.Name, Count: n})
			}
		}
	}
	if len(uses) == 0 {
		return nil
	}
	parts := make([]string, len(uses))
	for i, u := range uses {
		parts[i] = fmt.Sprintf("%d %s (%s)", u.Count, u.Table, u.Field)
	}
	return &Error{Status: http.StatusConflict, Code: "in_use",
		Message: "this " + r.noun() + " is still named by live rows: " + strings.Join(parts, ", ") + "; change or delete them first",
		Details: uses}
}
