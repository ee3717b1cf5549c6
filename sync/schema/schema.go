// Package schema is the registry of synced tables: their fields, the type
// and limits of each value, and the rules the merge needs (which tables are
// reference data, which rows are append-only, which fields the server
// computes). Table and field names in SQL are only ever taken from here,
// never from a request.
package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is a field's value type on the wire.
type Type int

// Types.
const (
	Text    Type = iota // string
	Int                 // whole number
	Real                // number
	Bool                // true/false (0/1 in SQL)
	Date                // "YYYY-MM-DD"
	Instant             // RFC 3339, stored as UTC
	ID                  // a row id (UUID) of the table in Ref
	List                // array of strings (row ids when Ref is set), JSON text in SQL
	Enum                // one of Values
)

// Field is one column of a synced table.
type Field struct {
	Name     string
	Type     Type
	Ref      string   // for ID and List: the table the ids point at
	Values   []string // for Enum
	Max      int      // for Text: most runes; for List: most items
	Computed bool     // written by the server only (e.g. checkins.distance_m)
	Nullable bool     // may be null (IDs, dates, numbers are nullable by default)
}

// Table is one synced table.
type Table struct {
	Name string
	// Reference tables are edited by admins over REST and read by everyone;
	// devices never push them.
	Reference bool
	// Proposed reference tables also take rows pushed by devices, as far
	// as the table's spec grants them (grassroots places).
	Proposed bool
	// Owner is the field holding the id of the user a field-data row
	// belongs to (the creator): trips.user_id, visit_notes.author_id, ...
	Owner string
	// AppendOnly rows cannot change after creation except for Mutable fields.
	AppendOnly bool
	Mutable    []string
	// Required fields must be present (non-null) when a row is created.
	Required []string
	Fields   []Field

	byName map[string]*Field
}

// Field looks up a field by wire name.
func (t *Table) Field(name string) (*Field, bool) {
	f, ok := t.byName[name]
	return f, ok
}

// Columns are the table's field names in schema order (id excluded).
func (t *Table) Columns() []string {
	out := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		out[i] = f.Name
	}
	return out
}

// MayChangeAfterCreate reports whether field may be written on an existing row.
func (t *Table) MayChangeAfterCreate(field string) bool {
	return !t.AppendOnly || slices.Contains(t.Mutable, field)
}

const (
	shortText = 300
	longText  = 20000
)

// UnitStatuses is a unit's standing: every unit of the plan is
// confirmed; a place a field user proposes stays proposed until
// headquarters confirms it, merges it into the unit it duplicates, or
// rejects it.
var UnitStatuses = []string{"confirmed", "proposed", "merged", "rejected"}

var purposes = []string{"thematic_survey", "inspection", "meeting", "working_session"}

// tables in dependency order: a table only refers to tables before it, or to
// itself, except users/clusters/units which refer to each other (nullable).
var tables = []*Table{
	{Name: "departments", Reference: true, Required: []string{"name"}, Fields: []Field{
		{Name: "name", Type: Text, Max: shortText},
		{Name: "duties", Type: Text, Max: longText},
	}},
	{Name: "users", Reference: true, Required: []string{"username"}, Fields: []Field{
		{Name: "username", Type: Text, Max: 64},
		{Name: "full_name", Type: Text, Max: shortText},
		{Name: "title", Type: Text, Max: shortText},
		{Name: "roles", Type: List, Max: 16},
		{Name: "department_id", Type: ID, Ref: "departments"},
		{Name: "unit_id", Type: ID, Ref: "units"},
	}},
	{Name: "clusters", Reference: true, Required: []string{"name"}, Fields: []Field{
		{Name: "name", Type: Text, Max: shortText},
		{Name: "lead_secretary_id", Type: ID, Ref: "users"},
		{Name: "lead_department_id", Type: ID, Ref: "departments"},
	}},
	// Units are reference data, except that a field user may propose a
	// grassroots place (a commune, a school, an enterprise) from where they
	// stand: Proposed lets devices push such rows, which the spec
	// (server/syncdb/specs.go) limits. proposed_by is the proposer, and
	// status the place's standing until headquarters decides: a merged
	// place names the unit it duplicates in replaced_by_id.
	{Name: "units", Reference: true, Proposed: true, Owner: "proposed_by", Required: []string{"name", "kind"}, Fields: []Field{
		{Name: "code", Type: Text, Max: 32},
		{Name: "name", Type: Text, Max: shortText},
		{Name: "kind", Type: Enum, Values: []string{"province", "central_affiliated", "district", "grassroots"}},
		{Name: "parent_id", Type: ID, Ref: "units"},
		{Name: "cluster_id", Type: ID, Ref: "clusters"},
		{Name: "lat", Type: Real},
		{Name: "lng", Type: Real},
		{Name: "valid_from", Type: Date},
		{Name: "valid_to", Type: Date},
		{Name: "replaced_by_id", Type: ID, Ref: "units"},
		{Name: "source", Type: Text, Max: 2000},
		{Name: "status", Type: Enum, Values: UnitStatuses},
		{Name: "proposed_by", Type: ID, Ref: "users"},
	}},
	{Name: "plans", Reference: true, Required: []string{"year", "title"}, Fields: []Field{
		{Name: "year", Type: Int},
		{Name: "number", Type: Text, Max: 64},
		{Name: "issued_on", Type: Date},
		{Name: "title", Type: Text, Max: shortText},
		{Name: "min_field_days", Type: Int},
	}},
	{Name: "campaigns", Reference: true, Required: []string{"plan_id", "kind", "name"}, Fields: []Field{
		{Name: "plan_id", Type: ID, Ref: "plans"},
		{Name: "kind", Type: Enum, Values: []string{"periodic", "thematic", "special"}},
		{Name: "name", Type: Text, Max: shortText},
		{Name: "content", Type: Text, Max: longText},
		{Name: "starts_on", Type: Date},
		{Name: "ends_on", Type: Date},
		{Name: "unit_ids", Type: List, Ref: "units", Max: 200},
	}},
	{Name: "special_periods", Reference: true, Required: []string{"plan_id", "name"}, Fields: []Field{
		{Name: "plan_id", Type: ID, Ref: "plans"},
		{Name: "name", Type: Text, Max: shortText},
		{Name: "starts_on", Type: Date},
		{Name: "ends_on", Type: Date},
	}},
	{Name: "teams", Reference: true, Required: []string{"campaign_id", "name"}, Fields: []Field{
		{Name: "campaign_id", Type: ID, Ref: "campaigns"},
		{Name: "name", Type: Text, Max: shortText},
		{Name: "leader_id", Type: ID, Ref: "users"},
		{Name: "member_ids", Type: List, Ref: "users", Max: 100},
		{Name: "unit_ids", Type: List, Ref: "units", Max: 200},
	}},
	// III.1: the schedule of an inspection team, one row per unit it
	// visits: the day or days, and where and whom to meet there. The
	// Inspection Committee keeps it; the notice announces it.
	{Name: "team_visits", Required: []string{"team_id", "unit_id", "starts_on"}, Fields: []Field{
		{Name: "team_id", Type: ID, Ref: "teams"},
		{Name: "unit_id", Type: ID, Ref: "units"},
		{Name: "starts_on", Type: Date},
		{Name: "ends_on", Type: Date},
		{Name: "place", Type: Text, Max: shortText},
		{Name: "contact", Type: Text, Max: shortText},
	}},
	// III.1: the notice establishing the inspection teams of a campaign
	// (or of one team of it). A draft is edited; an issued notice never
	// changes: a change is a new revision (revises_id, revision + 1),
	// issued in its turn, and devices show the latest issued revision.
	{Name: "notices", Required: []string{"campaign_id", "status"}, Fields: []Field{
		{Name: "campaign_id", Type: ID, Ref: "campaigns"},
		{Name: "team_id", Type: ID, Ref: "teams"},
		{Name: "number", Type: Text, Max: 64},
		{Name: "revision", Type: Int},
		{Name: "revises_id", Type: ID, Ref: "notices"},
		{Name: "title", Type: Text, Max: shortText},
		{Name: "content", Type: Text, Max: longText},
		{Name: "preparation", Type: Text, Max: longText},
		{Name: "recipients", Type: Text, Max: longText},
		{Name: "signed_on", Type: Date},
		{Name: "status", Type: Enum, Values: []string{"draft", "issued"}},
	}},
	// II.1.1, II.1.2: a cluster briefing (giao ban cụm) of a round, led by
	// the cluster's secretary and department, with its minutes; the
	// recommendations raised at it are findings naming it (briefing_id).
	{Name: "briefings", Required: []string{"cluster_id", "held_on"}, Fields: []Field{
		{Name: "cluster_id", Type: ID, Ref: "clusters"},
		{Name: "campaign_id", Type: ID, Ref: "campaigns"},
		{Name: "held_on", Type: Date},
		{Name: "place", Type: Text, Max: shortText},
		{Name: "host_unit_id", Type: ID, Ref: "units"},
		{Name: "lead_secretary_id", Type: ID, Ref: "users"},
		{Name: "lead_department_id", Type: ID, Ref: "departments"},
		{Name: "unit_ids", Type: List, Ref: "units", Max: 200},
		{Name: "minutes", Type: Text, Max: longText},
	}},
	{Name: "trips", Owner: "user_id", Required: []string{"user_id", "purpose", "starts_on"}, Fields: []Field{
		{Name: "user_id", Type: ID, Ref: "users"},
		{Name: "title", Type: Text, Max: shortText},
		{Name: "purpose", Type: Enum, Values: purposes},
		{Name: "campaign_id", Type: ID, Ref: "campaigns"},
		{Name: "unit_ids", Type: List, Ref: "units", Max: 100},
		{Name: "starts_on", Type: Date},
		{Name: "ends_on", Type: Date},
		{Name: "status", Type: Enum, Values: []string{"planned", "ongoing", "done", "cancelled"}},
		{Name: "notes", Type: Text, Max: longText},
	}},
	{Name: "trip_days", Owner: "user_id", Required: []string{"trip_id", "user_id", "day"}, Fields: []Field{
		{Name: "trip_id", Type: ID, Ref: "trips"},
		{Name: "user_id", Type: ID, Ref: "users"},
		{Name: "day", Type: Date},
		{Name: "unit_id", Type: ID, Ref: "units"},
		{Name: "activity", Type: Text, Max: longText},
	}},
	{Name: "checkins", Owner: "user_id", AppendOnly: true, Mutable: []string{"voided", "void_reason"},
		Required: []string{"user_id", "unit_id", "at"}, Fields: []Field{
			{Name: "user_id", Type: ID, Ref: "users"},
			{Name: "unit_id", Type: ID, Ref: "units"},
			{Name: "trip_id", Type: ID, Ref: "trips"},
			{Name: "at", Type: Instant},
			{Name: "lat", Type: Real},
			{Name: "lng", Type: Real},
			{Name: "accuracy_m", Type: Real},
			{Name: "photo", Type: Text, Max: 64},
			{Name: "note", Type: Text, Max: 2000},
			{Name: "voided", Type: Bool},
			{Name: "void_reason", Type: Text, Max: 2000},
			{Name: "received_at", Type: Instant, Computed: true},
			{Name: "distance_m", Type: Real, Computed: true},
			{Name: "flags", Type: List, Computed: true},
		}},
	{Name: "visit_notes", Owner: "author_id", Required: []string{"author_id", "unit_id"}, Fields: []Field{
		{Name: "author_id", Type: ID, Ref: "users"},
		{Name: "unit_id", Type: ID, Ref: "units"},
		{Name: "trip_id", Type: ID, Ref: "trips"},
		{Name: "campaign_id", Type: ID, Ref: "campaigns"},
		{Name: "kind", Type: Enum, Values: purposes},
		{Name: "title", Type: Text, Max: shortText},
		{Name: "results", Type: Text, Max: longText},
		{Name: "models", Type: Text, Max: longText},
		{Name: "shortcomings", Type: Text, Max: longText},
		{Name: "aspirations", Type: Text, Max: longText},
		{Name: "recommendations", Type: Text, Max: longText},
		{Name: "conclusions", Type: Text, Max: longText},
		{Name: "status", Type: Enum, Values: []string{"draft", "submitted", "needs_revision", "reviewed"}},
		{Name: "reviewed_by", Type: ID, Ref: "users"},
		{Name: "review_comment", Type: Text, Max: longText},
		{Name: "attachments", Type: List, Max: 50},
	}},
	{Name: "findings", Owner: "author_id", Required: []string{"author_id", "category", "text"}, Fields: []Field{
		{Name: "note_id", Type: ID, Ref: "visit_notes"},
		{Name: "author_id", Type: ID, Ref: "users"},
		{Name: "unit_id", Type: ID, Ref: "units"},
		{Name: "campaign_id", Type: ID, Ref: "campaigns"},
		{Name: "category", Type: Enum, Values: []string{"shortcoming", "recommendation", "model", "aspiration"}},
		{Name: "text", Type: Text, Max: longText},
		{Name: "department_id", Type: ID, Ref: "departments"},
		{Name: "status", Type: Enum, Values: []string{"open", "in_progress", "resolved", "dismissed"}},
		{Name: "due_on", Type: Date},
		{Name: "answer", Type: Text, Max: longText},
		// A recommendation raised at a cluster briefing names it instead
		// of a visit note.
		{Name: "briefing_id", Type: ID, Ref: "briefings"},
	}},
	{Name: "follow_ups", Owner: "author_id", AppendOnly: true, Required: []string{"finding_id", "author_id", "text"}, Fields: []Field{
		{Name: "finding_id", Type: ID, Ref: "findings"},
		{Name: "author_id", Type: ID, Ref: "users"},
		{Name: "at", Type: Instant},
		{Name: "text", Type: Text, Max: longText},
		{Name: "status_to", Type: Enum, Values: []string{"open", "in_progress", "resolved", "dismissed"}, Nullable: true},
	}},
	// Every review round of a visit note, kept: who decided what, when, and
	// why. The note's status and review_comment hold the latest decision;
	// these rows are its history, shown to reviewers and to the author.
	{Name: "reviews", Owner: "reviewer_id", AppendOnly: true, Required: []string{"note_id", "reviewer_id", "decision", "at"}, Fields: []Field{
		{Name: "note_id", Type: ID, Ref: "visit_notes"},
		{Name: "reviewer_id", Type: ID, Ref: "users"},
		{Name: "decision", Type: Enum, Values: []string{"needs_revision", "reviewed"}},
		{Name: "comment", Type: Text, Max: longText},
		{Name: "at", Type: Instant},
	}},
}

var byName = func() map[string]*Table {
	m := make(map[string]*Table, len(tables))
	for _, t := range tables {
		t.byName = make(map[string]*Field, len(t.Fields))
		for i := range t.Fields {
			t.byName[t.Fields[i].Name] = &t.Fields[i]
		}
		m[t.Name] = t
	}
	return m
}()

// Lookup finds a synced table by name.
func Lookup(name string) (*Table, bool) {
	t, ok := byName[name]
	return t, ok
}

// Tables lists every synced table in dependency order.
func Tables() []*Table { return slices.Clone(tables) }

// ValidID reports whether s is a row id: a UUID in its 36-character form
// (hex digits in groups of 8-4-4-4-12, either case). It runs for every
// field of every change merged, so it reads the bytes rather than match a
// regular expression.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ValidText reports whether s is text either store holds as written:
// valid UTF-8 without the NUL character (PostgreSQL's text cannot hold
// one, and no one types it).
func ValidText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// ToSQL checks a wire value against the field and converts it to what the
// column stores. JSON numbers arrive as float64. A nil value stores NULL
// where the column allows it; text and lists store their empty value.
func (f *Field) ToSQL(v any) (any, error) {
	if v == nil {
		switch f.Type {
		case Text:
			return "", nil
		case List:
			return "[]", nil
		case Bool:
			return int64(0), nil
		case Enum:
			if f.Nullable {
				return nil, nil
			}
			return nil, fmt.Errorf("%s may not be null", f.Name)
		}
		return nil, nil
	}
	switch f.Type {
	case Text:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s must be a string", f.Name)
		}
		// Refused the same on either store. A push's broken text (not
		// UTF-8, half a UTF-16 pair) reaches here as a NUL (sync/protocol
		// text.go).
		if !ValidText(s) {
			return nil, fmt.Errorf("%s must be valid text: UTF-8, without the NUL character or half of an emoji", f.Name)
		}
		if f.Max > 0 && utf8.RuneCountInString(s) > f.Max {
			return nil, fmt.Errorf("%s is longer than %d characters", f.Name, f.Max)
		}
		return s, nil
	case Int:
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return nil, fmt.Errorf("%s must be a whole number", f.Name)
		}
		if err := f.checkRange(n); err != nil {
			return nil, err
		}
		return int64(n), nil
	case Real:
		n, ok := v.(float64)
		if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, fmt.Errorf("%s must be a number", f.Name)
		}
		if err := f.checkRange(n); err != nil {
			return nil, err
		}
		return n, nil
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s must be true or false", f.Name)
		}
		if b {
			return int64(1), nil
		}
		return int64(0), nil
	case Date:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s must be a date YYYY-MM-DD", f.Name)
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Errorf("%s must be a date YYYY-MM-DD", f.Name)
		}
		return s, nil
	case Instant:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s must be an RFC 3339 time", f.Name)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("%s must be an RFC 3339 time", f.Name)
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	case ID:
		s, ok := v.(string)
		if !ok || !ValidID(s) {
			return nil, fmt.Errorf("%s must be a UUID", f.Name)
		}
		return strings.ToLower(s), nil
	case Enum:
		s, ok := v.(string)
		if !ok || !slices.Contains(f.Values, s) {
			return nil, fmt.Errorf("%s must be one of %s", f.Name, strings.Join(f.Values, ", "))
		}
		return s, nil
	case List:
		items, err := stringList(v)
		if err != nil {
			return nil, fmt.Errorf("%s must be an array of strings", f.Name)
		}
		if f.Max > 0 && len(items) > f.Max {
			return nil, fmt.Errorf("%s holds more than %d items", f.Name, f.Max)
		}
		for i, it := range items {
			if f.Ref != "" {
				if !ValidID(it) {
					return nil, fmt.Errorf("%s[%d] must be a UUID", f.Name, i)
				}
				items[i] = strings.ToLower(it)
				if slices.Contains(items[:i], items[i]) {
					return nil, fmt.Errorf("%s names %s twice", f.Name, items[i])
				}
			} else if it == "" || utf8.RuneCountInString(it) > 200 || !ValidText(it) {
				return nil, fmt.Errorf("%s[%d] must be a non-empty string of at most 200 characters, without NUL", f.Name, i)
			}
		}
		b, err := json.Marshal(items)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		return string(b), nil
	}
	return nil, fmt.Errorf("%s: unknown type", f.Name)
}

func (f *Field) checkRange(n float64) error {
	switch f.Name {
	case "lat":
		if n < -90 || n > 90 {
			return fmt.Errorf("lat must be between -90 and 90")
		}
	case "lng":
		if n < -180 || n > 180 {
			return fmt.Errorf("lng must be between -180 and 180")
		}
	case "year":
		if n < 1900 || n > 2100 {
			return fmt.Errorf("year must be between 1900 and 2100")
		}
	case "min_field_days":
		if n < 0 || n > 366 {
			return fmt.Errorf("min_field_days must be between 0 and 366")
		}
	case "accuracy_m", "distance_m", "revision":
		if n < 0 {
			return fmt.Errorf("%s must not be negative", f.Name)
		}
	}
	return nil
}

func stringList(v any) ([]string, error) {
	switch l := v.(type) {
	case []string:
		return slices.Clone(l), nil
	case []any:
		out := make([]string, len(l))
		for i, x := range l {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("item %d is not a string", i)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("not an array")
}

// FromSQL converts a stored column value back to its wire value.
func (f *Field) FromSQL(v any) any {
	if v == nil {
		if f.Type == List {
			return []string{}
		}
		return nil
	}
	switch f.Type {
	case Bool:
		n, _ := v.(int64)
		return n != 0
	case Int:
		if n, ok := v.(int64); ok {
			return n
		}
	case Real:
		switch n := v.(type) {
		case float64:
			return n
		case int64:
			return float64(n)
		}
	case List:
		var items []string
		s, _ := v.(string)
		if json.Unmarshal([]byte(s), &items) != nil || items == nil {
			return []string{}
		}
		return items
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}
