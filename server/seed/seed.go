// Package seed loads the reference data of seeds/ into the central store:
// the 2021 plan 356-KH/TWĐTN-BKT with its units, departments, campaigns and
// special periods (Load, at every start), and the 2025 merger of provinces
// (LoadMerger2025, on request).
//
// Seed rows are written through syncdb like any server-made change, so they
// carry clocks and change_log entries and reach devices by pull. Each set of
// files is loaded in one transaction together with its record in
// seed_loads (file name and sha256), which makes a second load a no-op.
package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"dicoso/seeds"
	"dicoso/server/store"
	"dicoso/server/syncdb"
)

// errNotEmpty stops a seed set whose rows would land among data someone
// already entered: loading it there could duplicate units under other ids.
var errNotEmpty = errors.New("reference tables already hold rows")

// Load loads the 2021 plan into an empty store, in one transaction, and
// reports whether it did. It is a no-op (false, nil) once the 2021 files
// are recorded in seed_loads, also when a newer build ships edited files:
// admins may have changed the rows since, and their edits win (a warning
// names the changed file). A store that already holds reference rows but
// never recorded the seed is left alone with a warning. Invalid files are
// an error that names the file and the entry.
func Load(ctx context.Context, st *store.Store, db *syncdb.DB, log *slog.Logger) (bool, error) {
	return load(ctx, st, db, log, seeds.FS())
}

func load(ctx context.Context, st *store.Store, db *syncdb.DB, log *slog.Logger, fsys fs.FS) (bool, error) {
	p, err := parse2021(fsys)
	if err != nil {
		return false, err
	}
	return apply(ctx, st, db, log, p.files, func(tx *sql.Tx) ([]syncdb.ServerChange, error) {
		// The table names are fixed here, never taken from input.
		var n int
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM departments) + (SELECT COUNT(*) FROM units) +
			(SELECT COUNT(*) FROM plans) + (SELECT COUNT(*) FROM campaigns) +
			(SELECT COUNT(*) FROM special_periods)`).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("seed: count reference rows: %w", err)
		}
		if n > 0 {
			return nil, errNotEmpty
		}
		return p.changes(), nil
	})
}

// LoadMerger2025 applies the 2025 merger of provinces on top of the 2021
// units, in one transaction, and reports whether it did (false once
// recorded). New units are created; each replaced 2021 unit keeps its id,
// name and code and gets valid_to (the day before its successor's
// valid_from) and replaced_by_id, so the 2021 campaigns and everything
// recorded against those units read as before.
func LoadMerger2025(ctx context.Context, st *store.Store, db *syncdb.DB, log *slog.Logger) (bool, error) {
	return loadMerger(ctx, st, db, log, seeds.FS())
}

func loadMerger(ctx context.Context, st *store.Store, db *syncdb.DB, log *slog.Logger, fsys fs.FS) (bool, error) {
	base, err := parse2021(fsys)
	if err != nil {
		return false, err
	}
	m, err := parseMerger(fsys, base)
	if err != nil {
		return false, err
	}
	return apply(ctx, st, db, log, []rawFile{m.file}, func(tx *sql.Tx) ([]syncdb.ServerChange, error) {
		if err := m.checkStore(ctx, tx); err != nil {
			return nil, err
		}
		return m.changes()
	})
}

// apply runs build and writes its changes and the files' seed_loads records
// in one transaction, unless the files are already recorded.
func apply(ctx context.Context, st *store.Store, db *syncdb.DB, log *slog.Logger, files []rawFile,
	build func(tx *sql.Tx) ([]syncdb.ServerChange, error)) (bool, error) {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	loaded := false
	err := st.InTx(ctx, func(tx *sql.Tx) error {
		recorded := 0
		for _, f := range files {
			var sum string
			err := tx.QueryRowContext(ctx, "SELECT sha256 FROM seed_loads WHERE name = ?", f.name).Scan(&sum)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("seed: read seed_loads %s: %w", f.name, err)
			}
			recorded++
			if sum != f.sha256 {
				log.Warn("seed file changed since it was loaded; the store keeps the loaded rows",
					"file", f.name, "loaded_sha256", sum, "sha256", f.sha256)
			}
		}
		if recorded == len(files) {
			return nil
		}
		if recorded > 0 {
			return fmt.Errorf("seed: only part of %s is recorded as loaded", strings.Join(names, ", "))
		}
		changes, err := build(tx)
		if errors.Is(err, errNotEmpty) {
			log.Warn("seed not loaded: the store already holds reference data it did not load", "files", names)
			return nil
		}
		if err != nil {
			return err
		}
		if err := db.ApplyServerTx(ctx, tx, "", changes); err != nil {
			return fmt.Errorf("seed %s: %w", strings.Join(names, ", "), err)
		}
		at := time.Now().UTC().Format(time.RFC3339)
		for _, f := range files {
			if _, err := tx.ExecContext(ctx, "INSERT INTO seed_loads(name, sha256, loaded_at) VALUES (?, ?, ?)",
				f.name, f.sha256, at); err != nil {
				return fmt.Errorf("seed: record %s: %w", f.name, err)
			}
		}
		loaded = true
		log.Info("seed loaded", "files", names, "changes", len(changes))
		return nil
	})
	if err != nil {
		return false, err
	}
	return loaded, nil
}

// changes lists the 2021 rows in foreign-key order: departments and units
// first, then the plan, its campaigns (which name units) and its periods.
// Values use wire types: numbers are float64, lists []string.
func (p *plan2021) changes() []syncdb.ServerChange {
	var out []syncdb.ServerChange
	for _, d := range p.departments.Departments {
		out = append(out, syncdb.ServerChange{Table: "departments", RowID: d.ID, Fields: map[string]any{
			"name":   d.Name,
			"duties": d.Duties,
		}})
	}
	for _, u := range p.units.Units {
		out = append(out, syncdb.ServerChange{Table: "units", RowID: u.ID, Fields: map[string]any{
			"code":       u.Code,
			"name":       u.Name,
			"kind":       u.Kind,
			"lat":        floatOrNil(u.Lat),
			"lng":        floatOrNil(u.Lng),
			"valid_from": u.ValidFrom,
			"valid_to":   stringOrNil(u.ValidTo),
			"source":     u.Source,
		}})
	}
	pl := p.plan.Plan
	out = append(out, syncdb.ServerChange{Table: "plans", RowID: pl.ID, Fields: map[string]any{
		"year":           float64(pl.Year),
		"number":         pl.Number,
		"issued_on":      pl.IssuedOn,
		"title":          pl.Title,
		"min_field_days": float64(pl.MinFieldDays),
	}})
	for _, c := range p.plan.Campaigns {
		out = append(out, syncdb.ServerChange{Table: "campaigns", RowID: c.ID, Fields: map[string]any{
			"plan_id":   pl.ID,
			"kind":      c.Kind,
			"name":      c.Name,
			"content":   c.Content,
			"starts_on": c.StartsOn,
			"ends_on":   c.EndsOn,
			"unit_ids":  append([]string(nil), c.UnitIDs...),
		}})
	}
	for _, sp := range p.plan.SpecialPeriods {
		out = append(out, syncdb.ServerChange{Table: "special_periods", RowID: sp.ID, Fields: map[string]any{
			"plan_id":   pl.ID,
			"name":      sp.Name,
			"starts_on": sp.StartsOn,
			"ends_on":   sp.EndsOn,
		}})
	}
	return out
}

// checkStore makes sure every 2021 unit the merger rewrites is in the store,
// with its code, and not replaced yet; otherwise the merger would point
// history at rows that are not there or overwrite an earlier replacement.
func (m *merger) checkStore(ctx context.Context, tx *sql.Tx) error {
	for _, e := range m.doc.Units {
		for _, fr := range e.From {
			var code string
			var deleted bool
			var validTo, replacedBy sql.NullString
			err := tx.QueryRowContext(ctx, "SELECT code, deleted, valid_to, replaced_by_id FROM units WHERE id = ?", fr.ID).
				Scan(&code, &deleted, &validTo, &replacedBy)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("seed %s: unit %s %q is not in the store: load the 2021 seed first", mergerFile, fr.Code, fr.Name)
			}
			if err != nil {
				return fmt.Errorf("seed %s: read unit %s: %w", mergerFile, fr.ID, err)
			}
			switch {
			case deleted:
				return fmt.Errorf("seed %s: unit %s %q is deleted", mergerFile, fr.Code, fr.Name)
			case code != fr.Code:
				return fmt.Errorf("seed %s: unit %s has code %q in the store, the file says %s", mergerFile, fr.ID, code, fr.Code)
			case e.Action != actionContinue && (validTo.Valid || replacedBy.Valid):
				return fmt.Errorf("seed %s: unit %s %q already has an end or a successor", mergerFile, fr.Code, fr.Name)
			}
		}
	}
	return nil
}

// changes creates each new unit before pointing its predecessors at it, so
// replaced_by_id always names an existing row.
func (m *merger) changes() ([]syncdb.ServerChange, error) {
	var out []syncdb.ServerChange
	for _, e := range m.doc.Units {
		if e.Action == actionContinue {
			continue
		}
		from, err := parseDate(e.ValidFrom)
		if err != nil {
			return nil, fmt.Errorf("seed %s: %q: %w", mergerFile, e.Name, err)
		}
		out = append(out, syncdb.ServerChange{Table: "units", RowID: e.ID, Fields: map[string]any{
			"code":       e.Code,
			"name":       e.Name,
			"kind":       kindProvince,
			"lat":        floatOrNil(e.Lat),
			"lng":        floatOrNil(e.Lng),
			"valid_from": e.ValidFrom,
			"source":     e.Source,
		}})
		end := from.AddDate(0, 0, -1).Format(dateLayout)
		for _, fr := range e.From {
			out = append(out, syncdb.ServerChange{Table: "units", RowID: fr.ID, Fields: map[string]any{
				"valid_to":       end,
				"replaced_by_id": e.ID,
			}})
		}
	}
	return out, nil
}

func floatOrNil(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func stringOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
