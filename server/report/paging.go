package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// The console's lists (notes, the findings register, one person's trips
// and check-ins) page the same way: keyset paging over one sort key, rows
// without a key last in either direction, then the row id, so the order is
// total and a page boundary never splits or repeats a row; a page is read
// with one row more than asked, whose presence means another page. A
// cursor is opaque to clients: the sort key and id of the last row sent,
// with a fingerprint of the listing (reader, filter and order) so that it
// continues only the listing it came from. Rows written between two pages
// are placed by their key: after the cursor they are sent in a later page,
// before it they are not, and no other row moves.

// ErrBadCursor is returned for a cursor this listing did not make, or one
// made for another filter or order.
var ErrBadCursor = errors.New("the cursor does not continue this listing")

// pageCursor is where a page ended: the sort key of its last row (and
// whether it had none), and its id, with the fingerprint of its listing.
type pageCursor struct {
	Version int    `json:"v"`
	Filter  string `json:"f"`
	Null    bool   `json:"n"`
	Key     any    `json:"k"` // a string, or an int64 for a numeric key
	ID      string `json:"id"`
}

func (c pageCursor) encode() string {
	b, _ := json.Marshal(c) // strings, bools and numbers always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

// fingerprint names a listing by what decides its rows and their order.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s|", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// keyset is the order of a paged listing.
type keyset struct {
	// Key is the SQL of the sort key over the listing's rows (aliased s).
	Key string
	// Desc sorts the key descending; rows without a key stay last.
	Desc bool
	// Number: the key is an integer, else text.
	Number bool
	// Missing is the SQL condition of a row without a key, which sorts
	// last; "" is a key that IS NULL.
	Missing string
}

// decode reads a cursor of this listing (fingerprint fp); "" is the
// first page (nil).
func (k keyset) decode(s, fp string) (*pageCursor, error) {
	if s == "" {
		return nil, nil //nolint:nilnil // no cursor: the first page
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var c pageCursor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&c) != nil || c.Version != 1 || c.ID == "" || c.Filter != fp {
		return nil, ErrBadCursor
	}
	switch v := c.Key.(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil || !k.Number {
			return nil, ErrBadCursor
		}
		c.Key = n
	case string:
		if k.Number {
			return nil, ErrBadCursor
		}
	default:
		return nil, ErrBadCursor
	}
	return &c, nil
}

// page is the SQL of one page of rows (a query with an id column, aliased
// s) after cursor c, with the sort key and whether it is missing as the
// last two columns (key_null, key), and its arguments after args.
func (k keyset) page(rows string, args []any, c *pageCursor, limit int) (string, []any) {
	zero := "''"
	if k.Number {
		zero = "0"
	}
	missing := k.Missing
	if missing == "" {
		missing = k.Key + " IS NULL"
	}
	q := "SELECT * FROM (SELECT s.*, CASE WHEN " + missing + " THEN 1 ELSE 0 END AS key_null, COALESCE(" + k.Key + ", " + zero +
		") AS key FROM (" + rows + ") s) AS keyed"
	args = slices.Clone(args)
	dir, cmpOp := "ASC", ">"
	if k.Desc {
		dir, cmpOp = "DESC", "<"
	}
	if c != nil {
		q += ` WHERE key_null > :after_null OR (key_null = :after_null AND (key ` + cmpOp + ` :after_key OR (key = :after_key AND id ` + cmpOp + ` :after_id)))`
		null := 0
		if c.Null {
			null = 1
		}
		args = append(args, sql.Named("after_null", null), sql.Named("after_key", c.Key), sql.Named("after_id", c.ID))
	}
	q += " ORDER BY key_null ASC, key " + dir + ", id " + dir + " LIMIT :limit"
	return q, append(args, sql.Named("limit", limit+1))
}

// readPage runs one page of a listing (fingerprint fp) and scans its rows
// with scan, which reads the row's own columns, then key_null and key into
// the cursor, and sets its ID. It returns at most limit rows, and the cursor of the
// next page when there is one.
func readPage[T any](ctx context.Context, tx *sql.Tx, q string, args []any, limit int, fp string,
	scan func(rs *sql.Rows, c *pageCursor) (T, error)) ([]T, *string, error) {
	rs, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	// The page stops early: close it before the caller's next query, which
	// PostgreSQL runs on the same connection.
	defer rs.Close()
	out := []T{}
	var last pageCursor
	var next *string
	for rs.Next() {
		if len(out) == limit {
			last.Version, last.Filter = 1, fp
			s := last.encode()
			next = &s
			break
		}
		var c pageCursor
		it, err := scan(rs, &c)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, it)
		last = c
	}
	if err := rs.Err(); err != nil {
		return nil, nil, err
	}
	return out, next, nil
}
