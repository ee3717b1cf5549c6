package seed

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Merger actions: how a unit of the 2025 list relates to the 2021 units.
const (
	// actionMerge: a new unit from valid_from, replacing several 2021 units.
	actionMerge = "merge"
	// actionRename: a new unit from valid_from, replacing one 2021 unit
	// (Thừa Thiên Huế became Thành phố Huế on 2025-01-01).
	actionRename = "rename"
	// actionContinue: the 2021 unit goes on unchanged, under its own id.
	actionContinue = "continue"
)

// mergerDoc is units-2025-merger.json.
type mergerDoc struct {
	About      string            `json:"about"`
	Resolution string            `json:"resolution"`
	Sources    map[string]string `json:"sources"`
	Units      []mergerEntry     `json:"units"`
}

type mergerEntry struct {
	ID        string       `json:"id"`
	Action    string       `json:"action"`
	Name      string       `json:"name"`
	Code      string       `json:"code"`
	ValidFrom string       `json:"valid_from,omitempty"`
	From      []mergerFrom `json:"from"`
	Lat       *float64     `json:"lat,omitempty"`
	Lng       *float64     `json:"lng,omitempty"`
	Source    string       `json:"source"`

	Type        string  `json:"type"`
	AdminCentre *string `json:"admin_centre"`
	CoordNote   string  `json:"coord_note,omitempty"`
	Note        string  `json:"note,omitempty"`
}

// mergerFrom names a 2021 unit by code and id; the name is for review.
type mergerFrom struct {
	Code string `json:"code"`
	Name string `json:"name"`
	ID   string `json:"id"`
}

// merger is the validated merger file.
type merger struct {
	file rawFile
	doc  mergerDoc
}

// parseMerger reads the merger file and checks it against the 2021 units it
// rewrites: every 2021 province is accounted for exactly once, by its id and
// code, so no province is silently left valid for ever or replaced twice.
func parseMerger(fsys fs.FS, base *plan2021) (*merger, error) {
	f, err := readFile(fsys, mergerFile)
	if err != nil {
		return nil, err
	}
	m := &merger{file: f}
	if err := decodeStrict(f, &m.doc); err != nil {
		return nil, err
	}
	provinces := map[string]unitEntry{}
	for _, u := range base.units.Units {
		if u.Kind == kindProvince {
			provinces[u.ID] = u
		}
	}
	var errs []error
	fail := func(err error) { errs = append(errs, fmt.Errorf("seed %s: %w", mergerFile, err)) }
	seen := ids{}
	for id, u := range provinces {
		seen[id] = fmt.Sprintf("2021 unit %q", u.Name)
	}
	covered := map[string]string{}
	for i, e := range m.doc.Units {
		what := fmt.Sprintf("units[%d] %q", i, e.Name)
		if strings.TrimSpace(e.Name) == "" {
			fail(fmt.Errorf("%s: name must not be empty", what))
		}
		if strings.TrimSpace(e.Source) == "" {
			fail(fmt.Errorf("%s: source must not be empty", what))
		}
		if len(e.From) == 0 {
			fail(fmt.Errorf("%s: from is empty", what))
		}
		for j, fr := range e.From {
			u, ok := provinces[fr.ID]
			if !ok {
				fail(fmt.Errorf("%s: from[%d] %s is not a 2021 province", what, j, fr.ID))
				continue
			}
			if u.Code != fr.Code {
				fail(fmt.Errorf("%s: from[%d] %s has code %s, the file says %s", what, j, fr.ID, u.Code, fr.Code))
			}
			if prev, ok := covered[fr.ID]; ok {
				fail(fmt.Errorf("%s: from[%d] %q is already replaced by %s", what, j, u.Name, prev))
			}
			covered[fr.ID] = what
		}
		switch e.Action {
		case actionContinue:
			if len(e.From) != 1 || e.From[0].ID != e.ID {
				fail(fmt.Errorf("%s: a continuing unit keeps its own id and comes from itself only", what))
			}
		case actionMerge, actionRename:
			if err := seen.add(e.ID, what); err != nil {
				fail(err)
			}
			if _, err := parseDate(e.ValidFrom); err != nil {
				fail(fmt.Errorf("%s: valid_from: %w", what, err))
			}
			if e.Action == actionMerge && len(e.From) < 2 {
				fail(fmt.Errorf("%s: a merge needs two or more units", what))
			}
			if e.Action == actionRename && len(e.From) != 1 {
				fail(fmt.Errorf("%s: a rename replaces exactly one unit", what))
			}
			if (e.Lat == nil) != (e.Lng == nil) {
				fail(fmt.Errorf("%s: lat and lng go together", what))
			}
		default:
			fail(fmt.Errorf("%s: action %q is not merge, rename or continue", what, e.Action))
		}
	}
	if len(covered) != len(provinces) {
		for id, u := range provinces {
			if _, ok := covered[id]; !ok {
				fail(fmt.Errorf("2021 province %s %q is in no unit's from", u.Code, u.Name))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}
