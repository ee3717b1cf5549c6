package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/store"
	"dicoso/server/syncdb"
)

// openAuth opens the store of cfg and the auth service over it, as serve does.
func openAuth(t *testing.T, cfg config.Config) (*auth.Service, *store.Store) {
	t.Helper()
	st, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sdb := syncdb.New(st, syncdb.Options{})
	svc, err := newAuth(cfg, st, sdb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sdb.Close()
		st.Close()
	})
	return svc, st
}

func TestFirstStartCreatesOneAdminAndPrintsItsPasswordOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var out bytes.Buffer

	// Two starts on the same data directory.
	for range 2 {
		svc, _ := openAuth(t, cfg)
		if err := bootstrapAdmin(ctx, svc, "", &out, log); err != nil {
			t.Fatal(err)
		}
	}
	m := regexp.MustCompile(`(?m)^admin password: (\S+)$`).FindAllStringSubmatch(out.String(), -1)
	if len(m) != 1 || len(m[0][1]) != 20 {
		t.Fatalf("stdout %q: want the generated password printed exactly once", out.String())
	}
	svc, _ := openAuth(t, cfg)
	users, err := svc.ListUsers(ctx, auth.UserFilter{})
	if err != nil || len(users) != 1 || users[0].Username != "admin" {
		t.Fatalf("users %+v (%v), want just admin", users, err)
	}
	// The printed password logs in, with the key kept in the data directory.
	if _, err := svc.Login(ctx, "admin", m[0][1], auth.Device{ID: "cli-test"}, "127.0.0.1"); err != nil {
		t.Fatalf("printed password: %v", err)
	}
}

func TestConfiguredAdminPasswordIsNotPrinted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	svc, _ := openAuth(t, cfg)
	var out bytes.Buffer
	if err := bootstrapAdmin(ctx, svc, "from-the-environment", &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "from-the-environment") || strings.Contains(out.String(), "password") {
		t.Fatalf("stdout %q shows a password the operator already has", out.String())
	}
	if _, err := svc.Login(ctx, "admin", "from-the-environment", auth.Device{ID: "cli-test"}, "127.0.0.1"); err != nil {
		t.Fatalf("configured password: %v", err)
	}
}

func TestUserAdd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	env := func(k string) string {
		if k == "DICOSO_DATA" {
			return dir
		}
		return ""
	}
	var out, errOut bytes.Buffer
	// Password from stdin; flags of the command and of the server mixed.
	err := userCmd(ctx, []string{"add", "-username", "lan.nguyen", "-log-level", "warn", "-full-name", "Nguyễn Thị Lan",
		"-roles", "secretary, inspector", "-title=Bí thư"}, env, strings.NewReader("field-days-60\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("user add: %v (stderr %s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "created user lan.nguyen") {
		t.Fatalf("stdout %q", out.String())
	}
	// Password from the environment, the -data flag instead of DICOSO_DATA.
	withPw := func(k string) string {
		if k == "DICOSO_USER_PASSWORD" {
			return "minh-password-1"
		}
		return ""
	}
	if err := userCmd(ctx, []string{"add", "-data", dir, "-username", "minh.tran", "-full-name", "Trần Minh", "-roles", "office"},
		withPw, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("user add with DICOSO_USER_PASSWORD: %v", err)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"duplicate", []string{"add", "-username", "lan.nguyen", "-password", "another-pass-1", "-roles", "office"}, "taken"},
		{"bad role", []string{"add", "-username", "hoa.le", "-password", "another-pass-1", "-roles", "chief"}, "role"},
		{"no roles", []string{"add", "-username", "hoa.le", "-password", "another-pass-1"}, "-roles"},
		{"bad username", []string{"add", "-username", "Hoa Le", "-password", "another-pass-1", "-roles", "office"}, "username"},
		{"no subcommand", []string{"remove"}, "usage"},
	} {
		err := userCmd(ctx, tc.args, env, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}

	cfg := config.Default()
	cfg.DataDir = dir
	svc, _ := openAuth(t, cfg)
	for user, pw := range map[string]string{"lan.nguyen": "field-days-60", "minh.tran": "minh-password-1"} {
		// Each on a device of their own: a device id belongs to its first user.
		s, err := svc.Login(ctx, user, pw, auth.Device{ID: "cli-test-" + strings.ReplaceAll(user, ".", "-")}, "127.0.0.1")
		if err != nil {
			t.Fatalf("%s cannot log in: %v", user, err)
		}
		if user == "lan.nguyen" && (strings.Join(s.User.Roles, ",") != "secretary,inspector" || s.User.Title != "Bí thư") {
			t.Errorf("lan: %+v", s.User)
		}
	}
}

func TestSplitFlags(t *testing.T) {
	t.Parallel()
	own, rest := splitFlags([]string{"-data", "/d", "-username", "u", "--roles=a,b", "-addr", ":1", "-password"},
		[]string{"username", "roles", "password"})
	if strings.Join(own, " ") != "-username u --roles=a,b -password" || strings.Join(rest, " ") != "-data /d -addr :1" {
		t.Fatalf("own %q rest %q", own, rest)
	}
}
