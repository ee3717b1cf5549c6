package auth

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"dicoso/server/store/storetest"
	"dicoso/server/syncdb"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	h := HashPassword("Đi cơ sở 60 ngày")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with our parameters", h)
	}
	for pw, want := range map[string]bool{
		"Đi cơ sở 60 ngày":  true,
		"Đi cơ sở 60 ngày ": false,
		"di co so 60 ngay":  false,
		"":                  false,
	} {
		ok, err := VerifyPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if h2 := HashPassword("Đi cơ sở 60 ngày"); h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	// Parameters are read from the hash, so older settings still verify.
	salt := []byte("sixteen byte slt")
	key := argon2.IDKey([]byte("older"), salt, 1, 8192, 1, 32)
	old := "$argon2id$v=19$m=8192,t=1,p=1$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
	if ok, err := VerifyPassword(old, "older"); err != nil || !ok {
		t.Errorf("a hash made with other parameters does not verify: %v %v", ok, err)
	}
	if _, err := VerifyPassword(old[:len(old)-30], "older"); err == nil {
		t.Error("a truncated key verified without error")
	}
	for _, bad := range []string{"", "plain", "$2a$10$bcrypt", "$argon2id$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"} {
		if ok, err := VerifyPassword(bad, "x"); err == nil || ok {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

func TestSecretIsGeneratedOnceAndKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k1, err := LoadSecret(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != 32 {
		t.Fatalf("generated key has %d bytes, want 32", len(k1))
	}
	fi, err := os.Stat(filepath.Join(dir, SecretFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadSecret(dir, "")
	if err != nil || string(k2) != string(k1) {
		t.Fatalf("second start got another key (%v)", err)
	}
	left, err := filepath.Glob(filepath.Join(dir, SecretFile+".tmp*"))
	if err != nil || len(left) != 0 {
		t.Errorf("temporary files left: %v %v", left, err)
	}
	configured := strings.Repeat("s", 40)
	if k, err := LoadSecret(dir, configured); err != nil || string(k) != configured {
		t.Errorf("configured secret not used: %v", err)
	}
	if _, err := LoadSecret(dir, "short"); err == nil {
		t.Error("a short configured secret was accepted")
	}
	if err := os.WriteFile(filepath.Join(dir, SecretFile), []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecret(dir, ""); err == nil {
		t.Error("a corrupt secret file was accepted (and would silently log everyone out if replaced)")
	}
}

func TestLimiterSlidingWindow(t *testing.T) {
	t.Parallel()
	l := newLimiter(LimitRules{Window: 10 * time.Minute, PerUserIP: 3, PerIP: 3})
	t0 := time.Date(2021, 6, 1, 8, 0, 0, 0, time.UTC)
	for i := range 3 {
		if _, ok := l.begin(t0.Add(time.Duration(i)*time.Minute), "Lan", "2001:db8::1"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	// Same user, same /64, other case: refused until the first attempt ages out.
	wait, ok := l.begin(t0.Add(3*time.Minute), "lan", "2001:db8::2")
	if ok || wait != 7*time.Minute {
		t.Fatalf("4th attempt: ok=%v wait=%v, want refused for 7m", ok, wait)
	}
	if _, ok := l.begin(t0.Add(10*time.Minute+time.Second), "lan", "2001:db8::1"); !ok {
		t.Fatal("attempt after the first aged out refused")
	}
	// Other users from the same address use up the per-address allowance.
	if _, ok := l.begin(t0.Add(11*time.Minute), "minh", "2001:db8::1"); !ok {
		t.Fatal("another user refused early")
	}
	if _, ok := l.begin(t0.Add(11*time.Minute), "hoa", "2001:db8::1"); ok {
		t.Fatal("per-address cap not applied")
	}
	// A success forgives: the pair starts over.
	started := t0.Add(30 * time.Minute)
	l.begin(started, "tuan", "192.0.2.1")
	l.succeeded(started, "tuan", "192.0.2.1")
	if n := len(l.times(userIPKey("tuan", "192.0.2.1"))) + len(l.times(ipKey("192.0.2.1"))); n != 0 {
		t.Fatalf("%d attempts left after a success", n)
	}
	// Old keys are swept.
	l.begin(t0.Add(2*time.Hour), "x", "192.0.2.2")
	if len(l.attempts) != 2 {
		t.Fatalf("%d keys after the sweep, want only the newest pair", len(l.attempts))
	}
}

// TestLimiterKeepsItsCap: a flood of new usernames and addresses, far past
// the cap, never grows the limiter beyond it; the address that keeps
// guessing stays limited throughout, and the kept keys and their order
// agree.
func TestLimiterKeepsItsCap(t *testing.T) {
	t.Parallel()
	const keyCap = 64
	l := newLimiter(LimitRules{Window: 15 * time.Minute, PerUserIP: 3, PerIP: 5, MaxKeys: keyCap})
	now := time.Date(2021, 6, 1, 8, 0, 0, 0, time.UTC)
	for range 3 {
		if _, ok := l.begin(now, "admin", "203.0.113.7"); !ok {
			t.Fatal("the first attempts were refused")
		}
	}
	for i := range 100 * keyCap {
		now = now.Add(10 * time.Millisecond)
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
		l.begin(now, "user"+strconv.Itoa(i), ip)
		if n := l.size(); n > keyCap || n != l.recent.Len() {
			t.Fatalf("after %d new addresses: %d keys, %d in order, cap %d", i+1, n, l.recent.Len(), keyCap)
		}
		if i%10 == 0 {
			if _, ok := l.begin(now, "admin", "203.0.113.7"); ok {
				t.Fatalf("the guessing address got another try after %d flooding addresses", i+1)
			}
		}
	}
	// Once the flood is over the window, it is forgotten.
	l.begin(now.Add(time.Hour), "lan", "192.0.2.1")
	if n := l.size(); n != 2 {
		t.Fatalf("%d keys an hour after the flood, want the newest pair", n)
	}
}

func TestBootstrapAdminOnlyOnAnEmptyStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	sdb := syncdb.New(st, syncdb.Options{})
	t.Cleanup(sdb.Close)
	svc := Ephemeral(st, Options{Sync: sdb})

	created, generated, err := svc.BootstrapAdmin(ctx, "")
	if err != nil || !created || len(generated) != 20 {
		t.Fatalf("first start: created=%v password=%q err=%v", created, generated, err)
	}
	created, again, err := svc.BootstrapAdmin(ctx, "")
	if err != nil || created || again != "" {
		t.Fatalf("second start: created=%v password=%q err=%v", created, again, err)
	}
	users, err := svc.ListUsers(ctx, UserFilter{})
	if err != nil || len(users) != 1 || users[0].Username != "admin" || !users[0].HasRole(RoleAdmin) {
		t.Fatalf("users %+v (%v), want one admin", users, err)
	}
	if _, err := svc.Login(ctx, "admin", generated, Device{ID: "cli"}, "127.0.0.1"); err != nil {
		t.Fatalf("the printed password does not log in: %v", err)
	}
}

func TestUserWithoutPasswordCannotLogIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	sdb := syncdb.New(st, syncdb.Options{})
	t.Cleanup(sdb.Close)
	svc := Ephemeral(st, Options{Sync: sdb})
	// A user as seed data would load one: public part only, no password.
	err := st.InTx(ctx, func(tx *sql.Tx) error {
		return sdb.ApplyServerTx(ctx, tx, "", []syncdb.ServerChange{{Table: "users", RowID: "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b",
			Fields: map[string]any{"username": "seeded", "full_name": "Seeded", "roles": []string{RoleSecretary}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "anything-at-all"} {
		if _, err := svc.Login(ctx, "seeded", pw, Device{ID: "d1"}, "127.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("login with %q: %v, want ErrInvalidCredentials", pw, err)
		}
	}
}
