package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"dicoso/server/store"
	"dicoso/sync/schema"
)

// notNullColumns knows which columns of the synced tables the store
// declares NOT NULL. It reads the migrated tables themselves, not a list
// kept beside them, so a column a migration makes NOT NULL is guarded the
// day it ships: a null sent for it over REST is refused as
// validation_failed instead of reaching SQLite and failing as a 500.
//
// The store is migrated before the server starts and never during, so the
// answer is read once; a failed read is not kept, the next write retries.
type notNullColumns struct {
	st *store.Store

	mu   sync.Mutex
	cols map[string]map[string]bool // table -> column -> NOT NULL
}

// of is the NOT NULL columns of a synced table.
func (n *notNullColumns) of(ctx context.Context, table string) (map[string]bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cols == nil {
		cols := map[string]map[string]bool{}
		for _, t := range schema.Tables() {
			set, err := readNotNull(ctx, n.st, t.Name)
			if err != nil {
				return nil, err
			}
			cols[t.Name] = set
		}
		n.cols = cols
	}
	set, ok := n.cols[table]
	if !ok {
		return nil, fmt.Errorf("not-null columns: %q is not a synced table", table)
	}
	return set, nil
}

func readNotNull(ctx context.Context, st *store.Store, table string) (map[string]bool, error) {
	rows, err := st.Reader().QueryContext(ctx, st.Dialect().Pick(
		`SELECT name FROM pragma_table_info(?) WHERE "notnull" = 1`,
		`SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND is_nullable = 'NO'`), table)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	defer rows.Close()
	set := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("read the columns of %s: %w", table, err)
		}
		set[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("read the columns of %s: the store has no such table", table)
	}
	return set, nil
}

// nullMessage says why field may not be null, and for a value that has an
// empty form, what to send to empty it.
func nullMessage(field string, t schema.Type) string {
	switch t {
	case schema.Text:
		return field + ` cannot be null; send "" to empty it`
	case schema.List:
		return field + " cannot be null; send [] to empty it"
	}
	return field + " cannot be null"
}

// bindRow is bind for a body that writes one row of table: besides the
// strict decoding and the validate tags, a member sent as null is refused
// (validation_failed) unless it is a column the store lets be NULL; a
// member with no column (a password) has no null either. It returns the
// members sent as null that were accepted, which the handler must clear:
// decoding leaves a pointer nil for null as for absent.
func (s *Server) bindRow(ctx context.Context, body []byte, table string, dst any) (nulls []string, err error) {
	if err := decodeStrict(body, dst); err != nil {
		return nil, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, badRequest("invalid_json", "request body must be a JSON object", nil)
	}
	notNull, err := s.notNull.of(ctx, table)
	if err != nil {
		return nil, internal(err)
	}
	t, _ := schema.Lookup(table)
	names := slices.Sorted(maps.Keys(members))
	var problems []fieldError
	var msgs []string
	for _, name := range names {
		if !bytes.Equal(bytes.TrimSpace(members[name]), []byte("null")) {
			continue
		}
		_, isField := t.Field(name)
		isColumn := isField || name == "id" || notNull[name]
		if isColumn && !notNull[name] {
			nulls = append(nulls, name)
			continue
		}
		// No hint at an empty value: the validate tags may refuse it too
		// (a user's roles).
		problems = append(problems, fieldError{Field: name, Rule: "notnull"})
		msgs = append(msgs, name+" cannot be null")
	}
	if len(problems) > 0 {
		return nil, badRequest("validation_failed", strings.Join(msgs, "; "), problems)
	}
	return nulls, s.validate(dst)
}
