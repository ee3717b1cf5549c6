package store

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
)

// pgConnector hands database/sql PostgreSQL connections (pgx's stdlib
// driver) that take statements in the project's SQLite parameter form and
// rewrite them (placeholders.go) before pgx sees them.
type pgConnector struct{ inner driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := cn.(*stdlib.Conn)
	if !ok {
		cn.Close()
		return nil, fmt.Errorf("pgx connector gave a %T, not a *stdlib.Conn", cn)
	}
	return &pgConn{Conn: sc}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is pgx's connection with every statement text rewritten. The
// embedded connection keeps its other methods (transactions, ping, reset),
// so database/sql sees the same capabilities.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, a, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	return c.Conn.ExecContext(ctx, q, a)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, a, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	return c.Conn.QueryContext(ctx, q, a)
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	r, err := rewrite(query)
	if err != nil {
		return nil, err
	}
	st, err := c.Conn.PrepareContext(ctx, r.sql)
	if err != nil {
		return nil, err
	}
	return &pgStmt{Stmt: st, r: r}, nil
}

// pgStmt is a prepared statement that places named arguments.
type pgStmt struct {
	driver.Stmt
	r *rewritten
}

// NumInput is -1: database/sql must not count the arguments, since one
// named argument may stand at several places.
func (s *pgStmt) NumInput() int { return -1 }

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	a, err := s.r.place(args)
	if err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, a)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	a, err := s.r.place(args)
	if err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, a)
}

// bind rewrites a statement and places its arguments. A statement without
// arguments is passed as written: migrations hold function bodies whose
// text is not to be touched, and pgx sends it in one round trip.
func bind(query string, args []driver.NamedValue) (string, []driver.NamedValue, error) {
	if len(args) == 0 {
		return query, nil, nil
	}
	r, err := rewrite(query)
	if err != nil {
		return "", nil, err
	}
	a, err := r.place(args)
	return r.sql, a, err
}

// place puts each argument at its position: a named one where its name
// stands, a positional one at its ordinal. A name the statement does not
// use is ignored, as SQLite's driver does. A Go bool goes as 1 or 0: flags
// are whole-number columns on both stores (SQLite has no other kind), and
// SQLite's driver sends a bool the same way.
func (r *rewritten) place(args []driver.NamedValue) ([]driver.NamedValue, error) {
	out := make([]driver.NamedValue, r.params)
	set := make([]bool, r.params)
	for _, a := range args {
		pos := a.Ordinal
		if a.Name != "" {
			p, ok := r.names[a.Name]
			if !ok {
				continue
			}
			pos = p
		}
		if pos < 1 || pos > r.params {
			return nil, fmt.Errorf("sql: argument %d given to a statement of %d parameters", pos, r.params)
		}
		v := a.Value
		if b, ok := v.(bool); ok {
			v = int64(0)
			if b {
				v = int64(1)
			}
		}
		out[pos-1] = driver.NamedValue{Ordinal: pos, Value: v}
		set[pos-1] = true
	}
	for i, ok := range set {
		if !ok {
			return nil, fmt.Errorf("sql: no argument for parameter $%d", i+1)
		}
	}
	return out, nil
}
