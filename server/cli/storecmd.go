package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"dicoso/server/store"
)

// storeCmd is `dicoso store copy --from FILE --to URL`: the embedded store
// moved into an empty PostgreSQL database (docs/postgres.md, README).
func storeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "copy" {
		return errors.New("usage: dicoso store copy --from FILE --to postgres://...")
	}
	fs := flag.NewFlagSet("store copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the SQLite store file to copy (the server using it must be stopped)")
	to := fs.String("to", "", "the empty PostgreSQL database to copy into, postgres://user:password@host:port/db?sslmode=...")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		return errors.New("usage: dicoso store copy --from FILE --to postgres://...")
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("store copy: %w", err)
	}
	src, err := store.Open(ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.OpenPostgres(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	rep, err := store.Copy(ctx, src, dst)
	if err != nil {
		return err
	}
	total := 0
	for _, t := range rep.Tables {
		fmt.Fprintf(stdout, "%-20s %d\n", t.Table, t.Rows)
		total += t.Rows
	}
	fmt.Fprintf(stdout, "copied %d rows from %s to %s\n", total, *from, dst.Path())
	return nil
}
