package syncdb

import (
	"context"
	"dicoso/server/store"
	"fmt"
	"slices"
	"strings"

	"dicoso/sync/protocol"
	"dicoso/sync/schema"
)

// This file is the shape of a table's rules and how a change is judged by
// them; the rules themselves are declared, table by table, in specs.go.

// Spec is everything one synced table allows. Silence means no: a table
// without a Spec is refused to every device and returned by no pull, and
// an operation whose Rule has no grant is refused (forbidden).
type Spec struct {
	// Create, Update and Delete say who may push which change. Server
	// changes (seeds, REST edits that Admin admitted) are not judged here.
	Create, Update, Delete Rule

	// Status names the field whose values move only as the grants' Moves
	// allow (a note's review cycle); "" when no field does.
	Status string

	// Read lists who receives which rows in a pull: the union of every
	// scope the reader matches. Nobody reads a table without one.
	Read []Scope
	// Parent is the row a scope marked WithParent reads a row with: the
	// row enters and leaves the reader's copy with its parent.
	Parent *Parent
	// Moves are the fields whose change can take a row into or out of
	// someone's read scope: the readers who lose it are told to drop it.
	Moves []string

	// Attachments names the field holding blob hashes (text or list), if
	// any: a device may name only blobs its user uploaded or may read, and
	// whoever may read the row may download them.
	Attachments string
	// Compute fills the server-computed fields of a row a device creates.
	Compute func(ctx context.Context, d *DB, tx *wtx, w *writeCtx, vals map[string]any)

	// Admin is how reference data is edited over REST (/api/v1/<table>);
	// the API admits the change, then applies it as a server change.
	Admin *Admin
}

// A Rule is who may take one operation on a table's rows: any one of its
// grants. Refused is what a writer no grant is for is told.
type Rule struct {
	Refused string
	Grants  []Grant
}

// A Grant lets some writers (Who), on rows meeting When, write some fields
// (every field a device may write, or only Fields, or all but Except) and
// make some status Moves; its Checks judge the values written.
type Grant struct {
	Who    Who
	When   Cond
	Fields []string
	Except []string
	Moves  *Moves
	Checks []Check
}

// Who names the writers a grant is for, judged on the change.
type Who struct {
	Name string
	is   func(c *change) (bool, error)
}

// Cond is a condition on the row as stored; Refused says why a writer
// whose grants all fail it is refused.
type Cond struct {
	Name, Refused string
	holds         func(c *change) (bool, error)
}

// Moves are the status values a grant may set, by the status its writer
// had seen ("" for a new row). Says is the table in words.
type Moves struct {
	Says string
	From map[string][]string
}

// Check judges the values a change writes; it returns a rejection (or a
// store error) and nil when they are fine.
type Check func(c *change) error

// Scope is one reading of a table: readers holding one of Roles (any
// reader when nil), for whom needs can hold, read the rows meeting SQL,
// a condition over the row aliased r with :me, :dept and :unit bound to
// the reader. WithParent also requires the row's parent to be readable.
type Scope struct {
	Name  string
	Roles []string
	needs need
	SQL   string
	// PG is SQL's PostgreSQL twin, where the two differ (JSON lists are
	// read with json_each on SQLite, jsonb_array_elements_text on
	// PostgreSQL); empty when SQL reads the same on both.
	PG         string
	WithParent bool
	// API: the reader reads these rows over the API (the console's reports
	// and lists, attachments) but their devices do not pull them. The pull
	// serves the other scopes only, and a push vouches by its base_cursor
	// only for rows the pull serves (docs/protocol.md, "Merge").
	API bool
}

// sql is the scope's condition in the dialect d.
func (s Scope) sql(d store.Dialect) string {
	if d == store.Postgres && s.PG != "" {
		return s.PG
	}
	return s.SQL
}

// Parent names the row a row is read with: Field holds its id in Table. A
// row whose Field is null is read on its own.
type Parent struct {
	Table, Field string
}

// Admin is who edits a reference table over REST. List is the order of its
// list (GET /api/v1/<table>): a table with none has its own handlers.
type Admin struct {
	List                   string
	Create, Update, Delete Access
	// Decide is who may decide on a row devices proposed (POST
	// /api/v1/<table>/{id}/decision), before the spec judges the decision
	// as theirs; nobody when empty.
	Decide Access
}

// Access admits Roles to an operation on any row, and RowRoles on the rows
// Row admits (before is the row as stored, nil on create; after the row
// as it would be, nil on delete; both in wire form).
type Access struct {
	Roles, RowRoles []string
	Row             func(before, after map[string]any) error
}

// SpecOf is table's spec; false when it has none (and so allows nothing).
func SpecOf(table string) (*Spec, bool) {
	sp, ok := specs[table]
	return sp, ok
}

// AdminTables are the reference tables served by the generic REST
// handlers, in the registry's order.
func AdminTables() []string {
	var out []string
	for _, t := range schema.Tables() {
		if sp, ok := specs[t.Name]; ok && sp.Admin != nil && sp.Admin.List != "" {
			out = append(out, t.Name)
		}
	}
	return out
}

// change is one pushed change being judged.
type change struct {
	ctx  context.Context
	d    *DB
	tx   *wtx
	w    *writeCtx
	t    *schema.Table
	sp   *Spec
	cur  *rowState // nil when the change creates the row
	vals map[string]any
}

func (c *change) actor() Actor { return c.w.actor }

// value is a field as the change would leave it: written, else stored.
func (c *change) value(field string) any {
	if v, ok := c.vals[field]; ok {
		return v
	}
	if c.cur != nil {
		return c.cur.values[field]
	}
	return nil
}

// stored is a field as the server holds it; nil for a new row.
func (c *change) stored(field string) any {
	if c.cur == nil {
		return nil
	}
	return c.cur.values[field]
}

// operation names what a change does for messages.
func operation(cur *rowState, op protocol.Op) string {
	switch {
	case op == protocol.OpDelete:
		return "deleted"
	case cur == nil:
		return "created"
	}
	return "changed"
}

// judge applies rule to the change: some grant must be for its writer,
// every field it writes must be one such a grant writes, a status move
// one such a grant makes, and their checks must pass.
func (c *change) judge(rule Rule) error {
	var held, barred []Grant // for this writer; barred: its When fails
	for _, g := range rule.Grants {
		ok, err := g.Who.is(c)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if g.When.holds != nil {
			ok, err := g.When.holds(c)
			if err != nil {
				return err
			}
			if !ok {
				barred = append(barred, g)
				continue
			}
		}
		held = append(held, g)
	}
	if len(held) == 0 {
		if len(barred) > 0 {
			return reject(protocol.CodeForbidden, "%s", barred[0].When.Refused)
		}
		return reject(protocol.CodeForbidden, "%s", rule.Refused)
	}
	names := make([]string, 0, len(c.vals))
	for name := range c.vals {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if slices.ContainsFunc(held, func(g Grant) bool { return g.writes(c.t, name) }) {
			continue
		}
		if i := slices.IndexFunc(barred, func(g Grant) bool { return g.writes(c.t, name) }); i >= 0 {
			return rejectField(name, "%s", barred[i].When.Refused)
		}
		return rejectField(name, "%s is not yours to set: %s", name, describe(c.t, held))
	}
	if err := c.judgeMove(held, barred); err != nil {
		return err
	}
	for _, g := range held {
		for _, check := range g.Checks {
			if err := check(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// judgeMove: a status value written must be a move a held grant makes,
// from the status the writer had seen.
func (c *change) judgeMove(held, barred []Grant) error {
	field := c.sp.Status
	to, set := c.vals[field].(string)
	if field == "" || !set {
		return nil
	}
	from, err := seenValue(c.ctx, c.tx, c.d, c.w, c.cur, field)
	if err != nil {
		return err
	}
	var says []string
	for _, g := range held {
		if !g.writes(c.t, field) {
			continue
		}
		if slices.Contains(g.Moves.From[from], to) {
			return nil
		}
		says = append(says, g.Moves.Says)
	}
	if i := slices.IndexFunc(barred, func(g Grant) bool { return g.writes(c.t, field) }); i >= 0 {
		return rejectField(field, "%s", barred[i].When.Refused)
	}
	was := from
	if was == "" {
		was = "a new row"
	}
	return rejectField(field, "%s cannot go from %s to %s: %s", field, was, to, strings.Join(says, "; "))
}

// writes reports whether g writes field of t.
func (g Grant) writes(t *schema.Table, field string) bool {
	if f, ok := t.Field(field); !ok || f.Computed {
		return false
	}
	if g.Fields != nil && !slices.Contains(g.Fields, field) {
		return false
	}
	return !slices.Contains(g.Except, field)
}

// describe says what the held grants let their writer set.
func describe(t *schema.Table, held []Grant) string {
	out := make([]string, 0, len(held))
	for _, g := range held {
		var what string
		switch {
		case g.Fields != nil:
			what = "only " + strings.Join(g.Fields, ", ")
		case g.Except != nil:
			what = "every field but " + strings.Join(g.Except, ", ")
		default:
			what = "every field"
		}
		out = append(out, fmt.Sprintf("%s sets %s", g.Who.Name, what))
	}
	return strings.Join(out, "; ")
}

// validate reports a spec that names what its table does not have, or
// leaves a status field without moves: a programming error.
func (sp *Spec) validate(t *schema.Table) error {
	has := func(f string) bool { _, ok := t.Field(f); return ok }
	for op, r := range map[string]Rule{"create": sp.Create, "update": sp.Update, "delete": sp.Delete} {
		for i, g := range r.Grants {
			if g.Who.is == nil {
				return fmt.Errorf("%s: %s grant %d names nobody", t.Name, op, i)
			}
			for _, f := range append(slices.Clone(g.Fields), g.Except...) {
				if !has(f) {
					return fmt.Errorf("%s: %s grant %d names no field %q", t.Name, op, i, f)
				}
			}
			if sp.Status != "" && op != "delete" && g.writes(t, sp.Status) && g.Moves == nil {
				return fmt.Errorf("%s: %s grant %d writes %s without moves", t.Name, op, i, sp.Status)
			}
		}
		if len(r.Grants) > 0 && r.Refused == "" {
			return fmt.Errorf("%s: %s has grants but no refusal message", t.Name, op)
		}
	}
	for _, f := range append(slices.Clone(sp.Moves), sp.Status, sp.Attachments) {
		if f != "" && !has(f) {
			return fmt.Errorf("%s: no field %q", t.Name, f)
		}
	}
	for _, s := range sp.Read {
		if s.WithParent && sp.Parent == nil {
			return fmt.Errorf("%s: scope %q reads with a parent the spec does not name", t.Name, s.Name)
		}
	}
	if p := sp.Parent; p != nil {
		if _, ok := schema.Lookup(p.Table); !ok || !has(p.Field) {
			return fmt.Errorf("%s: parent %s.%s does not exist", t.Name, p.Table, p.Field)
		}
	}
	if sp.Admin != nil && !t.Reference {
		return fmt.Errorf("%s: only reference data is edited over REST", t.Name)
	}
	return nil
}

// validateSpecs checks every spec against its table.
func validateSpecs(specs map[string]*Spec) error {
	for name, sp := range specs {
		t, ok := schema.Lookup(name)
		if !ok {
			return fmt.Errorf("a spec for %s, which is no synced table", name)
		}
		if err := sp.validate(t); err != nil {
			return err
		}
	}
	return nil
}
