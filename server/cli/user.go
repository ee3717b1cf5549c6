package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/store"
	"dicoso/server/syncdb"
)

// newAuth builds the auth service with the signing key from the
// configuration or the data directory (generated there on first start).
func newAuth(cfg config.Config, st *store.Store, sdb *syncdb.DB) (*auth.Service, error) {
	secret, err := auth.LoadSecret(cfg.DataDir, cfg.JWTSecret)
	if err != nil {
		return nil, err
	}
	return auth.New(st, auth.Options{Secret: secret, AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, Sync: sdb})
}

// bootstrapAdmin creates user "admin" on a store with no users. A generated
// password is printed once, to stdout, and kept nowhere else; a configured
// one (DICOSO_ADMIN_PASSWORD) is not echoed.
func bootstrapAdmin(ctx context.Context, svc *auth.Service, password string, stdout io.Writer, log *slog.Logger) error {
	created, generated, err := svc.BootstrapAdmin(ctx, password)
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	if !created {
		return nil
	}
	log.Info("created the first user", "username", "admin")
	if generated != "" {
		fmt.Fprintf(stdout, "created user admin\nadmin password: %s\n(shown once; change it after logging in)\n", generated)
	}
	return nil
}

// userCmd runs `dicoso user <subcommand>`; add is the only one.
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: dicoso user add -username NAME -full-name NAME -roles r1,r2 [-password P] [-title T] [-department-id ID] [-unit-id ID] [server flags]")
	}
	return userAdd(ctx, args[1:], getenv, stdin, stdout, stderr)
}

// userAdd creates a user from the command line. The password is -password,
// else DICOSO_USER_PASSWORD, else the first line of stdin (so it need not
// appear in the shell history or the process list).
func userAdd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	// The flags of `user add` itself; the rest (-data, ...) go to config.Parse.
	own, rest := splitFlags(args, []string{"username", "password", "full-name", "roles", "title", "department-id", "unit-id"})
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var nu auth.NewUser
	var roles string
	fs.StringVar(&nu.Username, "username", "", "login name: 3-64 of a-z 0-9 . _ -")
	fs.StringVar(&nu.Password, "password", "", "password (else DICOSO_USER_PASSWORD, else read from stdin)")
	fs.StringVar(&nu.FullName, "full-name", "", "full name as shown in the app")
	fs.StringVar(&roles, "roles", "", "comma-separated roles: admin, inspection_committee, office, department, secretary, inspector, unit_liaison")
	fs.StringVar(&nu.Title, "title", "", "job title")
	fs.StringVar(&nu.DepartmentID, "department-id", "", "department id (UUID)")
	fs.StringVar(&nu.UnitID, "unit-id", "", "unit id (UUID), for a unit liaison")
	if err := fs.Parse(own); err != nil {
		return err
	}
	cfg, extra, err := config.Parse("user add", rest, getenv, stderr)
	if err != nil {
		return err
	}
	if len(extra) > 0 || fs.NArg() > 0 {
		return fmt.Errorf("user add: unexpected arguments %q", append(fs.Args(), extra...))
	}
	if nu.Username == "" || roles == "" {
		return errors.New("user add: -username and -roles are required")
	}
	for r := range strings.SplitSeq(roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			nu.Roles = append(nu.Roles, r)
		}
	}
	if nu.Password == "" {
		nu.Password = getenv("DICOSO_USER_PASSWORD")
	}
	if nu.Password == "" {
		fmt.Fprint(stderr, "password: ")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		nu.Password = strings.TrimRight(line, "\r\n")
	}

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	sdb := syncdb.New(st, syncdb.Options{ClockSkew: cfg.ClockSkew})
	defer sdb.Close()
	svc, err := newAuth(cfg, st, sdb)
	if err != nil {
		return err
	}
	u, err := svc.CreateUser(ctx, "", nu)
	var fe *auth.FieldError
	switch {
	case errors.As(err, &fe):
		return fmt.Errorf("user add: %s", fe.Message)
	case errors.Is(err, auth.ErrUsernameTaken):
		return fmt.Errorf("user add: username %q is taken", nu.Username)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s) with roles %s\n", u.Username, u.ID, strings.Join(u.Roles, ","))
	return nil
}

// splitFlags separates the flags named in names (as -name value, -name=value
// or with two dashes) from the other arguments, keeping order.
func splitFlags(args, names []string) (own, rest []string) {
	isOwn := func(a string) (bool, bool) {
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			return false, false
		}
		name := strings.TrimLeft(a, "-")
		name, _, hasValue := strings.Cut(name, "=")
		for _, n := range names {
			if n == name {
				return true, hasValue
			}
		}
		return false, false
	}
	for i := 0; i < len(args); i++ {
		ok, inline := isOwn(args[i])
		if !ok {
			rest = append(rest, args[i])
			continue
		}
		own = append(own, args[i])
		if !inline && i+1 < len(args) {
			i++
			own = append(own, args[i])
		}
	}
	return own, rest
}
