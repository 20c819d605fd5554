package icms_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"libicms.org/icms"
)

const (
	issuer   = "https://icms.test"
	audience = "icms-test"
)

type authFixture struct {
	path  string
	db    *icms.DB
	admin icms.Result
	key   []byte
	auth  *icms.Auth
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	f := &authFixture{path: filepath.Join(t.TempDir(), "icms.db")}
	f.db = open(t, icms.Options{Path: f.path})
	var err error
	f.admin, err = f.db.UserBootstrapAdmin(context.Background(), icms.Host,
		map[string]any{"name": "Ada", "email": "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	f.key = make([]byte, 32)
	if _, err := rand.Read(f.key); err != nil {
		t.Fatal(err)
	}
	f.auth, err = f.db.NewAuth(f.options(f.key))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Argon2id at libsodium's minimum: the tests are about the binding, not the hash's cost.
func (f *authFixture) options(key []byte) icms.AuthOptions {
	return icms.AuthOptions{MasterKey: key, Issuer: issuer, Audience: audience,
		PasswordOpslimit: 1, PasswordMemlimit: 8192}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got %v, want %v", err, target)
	}
}

var ines = icms.Identity{Provider: "google", Subject: "sub-1", Email: "ines@example.com", EmailVerified: true}

func TestAuthExternalLoginTokensVerify(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	id := ines
	id.Name, id.Device = "Ines", "test"
	pair := must(t)(f.auth.LoginExternal(ctx, icms.Host, id))
	if pair.Str("token_type") != "Bearer" || pair["user_created"] != true || pair.Int("expires_in") != 900 {
		t.Fatalf("pair %v", pair)
	}
	claims := must(t)(f.auth.Verify(ctx, pair.Str("access_token")))
	if claims.Str("sub") != pair.Str("user_id") || claims.Str("sid") != pair.Str("session_id") ||
		claims.Str("iss") != issuer || claims.Str("aud") != audience {
		t.Fatalf("claims %v", claims)
	}
	me := must(t)(f.db.UserGet(ctx, icms.Token(pair.Str("access_token")), pair.Str("user_id")))
	if me.Str("email") != "ines@example.com" {
		t.Fatalf("user %v", me)
	}
	again := must(t)(f.auth.LoginExternal(ctx, icms.Host, icms.Identity{Provider: "google", Subject: "sub-1"}))
	if again.Str("user_id") != pair.Str("user_id") || again["user_created"] != false {
		t.Fatalf("again %v", again)
	}
	linked := must(t)(f.auth.LinkIdentity(ctx, icms.Token(pair.Str("access_token")), "apple", "a-1"))
	if linked["linked"] != true {
		t.Fatalf("linked %v", linked)
	}
	viaApple := must(t)(f.auth.LoginExternal(ctx, icms.Host, icms.Identity{Provider: "apple", Subject: "a-1"}))
	if viaApple.Str("user_id") != pair.Str("user_id") {
		t.Fatal("apple signs in another user")
	}
}

func TestAuthExternalLoginRefusals(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	unverified := ines
	unverified.EmailVerified = false
	_, err := f.auth.LoginExternal(ctx, icms.Host, unverified)
	wantErr(t, err, icms.ErrInvalid)
	taken := ines
	taken.Email = "ada@example.com"
	_, err = f.auth.LoginExternal(ctx, icms.Host, taken)
	wantErr(t, err, icms.ErrExists)
	_, err = f.auth.LinkIdentity(ctx, icms.Anonymous, "apple", "a-2")
	wantErr(t, err, icms.ErrForbidden)
}

func TestAuthPasswordRefreshAndTheftDetection(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	password := []byte("correct horse")
	if err := f.auth.PasswordSet(ctx, icms.Host, f.admin.Str("id"), password); err != nil {
		t.Fatal(err)
	}
	pair := must(t)(f.auth.LoginPassword(ctx, icms.Host, icms.PasswordLogin{Email: "ada@example.com",
		Password: password, Device: "laptop", Source: "127.0.0.1"}))
	if pair.Str("user_id") != f.admin.Str("id") {
		t.Fatalf("pair %v", pair)
	}
	newer := must(t)(f.auth.Refresh(ctx, icms.Host, pair.Str("refresh_token")))
	if newer.Str("refresh_token") == pair.Str("refresh_token") {
		t.Fatal("the refresh token was not replaced")
	}
	must(t)(f.auth.Verify(ctx, newer.Str("access_token")))
	_, err := f.auth.Refresh(ctx, icms.Host, pair.Str("refresh_token"))
	wantErr(t, err, icms.ErrUnauthenticated)
	_, err = f.auth.Refresh(ctx, icms.Host, newer.Str("refresh_token"))
	wantErr(t, err, icms.ErrUnauthenticated)
	_, err = f.auth.Verify(ctx, newer.Str("access_token"))
	wantErr(t, err, icms.ErrUnauthenticated)
}

func TestAuthPasswordRefusals(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	wantErr(t, f.auth.PasswordSet(ctx, icms.Host, f.admin.Str("id"), []byte("short")), icms.ErrInvalid)
	if err := f.auth.PasswordSet(ctx, icms.Host, f.admin.Str("id"), []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	_, err := f.auth.LoginPassword(ctx, icms.Host, icms.PasswordLogin{Email: "ada@example.com", Password: []byte("wrong horse")})
	wantErr(t, err, icms.ErrUnauthenticated)
	if strings.Contains(err.Error(), "wrong horse") {
		t.Fatal("the password is in the message")
	}
}

func TestAuthVerifyRefusalsAndExpiry(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	_, err := f.auth.Verify(ctx, "not-a-token")
	wantErr(t, err, icms.ErrUnauthenticated)
	pair := must(t)(f.auth.LoginExternal(ctx, icms.Host, ines))
	if err := f.db.Clock().Advance(16 * time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err = f.auth.Verify(ctx, pair.Str("access_token"))
	wantErr(t, err, icms.ErrUnauthenticated)
}

func TestAuthJWKSAndRotation(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	pair := must(t)(f.auth.LoginExternal(ctx, icms.Host, ines))
	jwks := must(t)(f.auth.JWKS(ctx))
	kid := jwks.List("keys")[0].Str("kid")
	_, err := f.auth.RotateKeys(ctx, icms.Token(pair.Str("access_token")))
	wantErr(t, err, icms.ErrForbidden)
	rotated := must(t)(f.auth.RotateKeys(ctx, icms.Host))
	if r, _ := rotated["retired"].([]any); len(r) != 1 || r[0] != kid {
		t.Fatalf("rotated %v", rotated)
	}
	keys := must(t)(f.auth.JWKS(ctx)).List("keys")
	if len(keys) != 2 || keys[0].Str("kid") != rotated.Str("kid") || keys[1].Str("kid") != kid {
		t.Fatalf("jwks %v", keys)
	}
	must(t)(f.auth.Verify(ctx, pair.Str("access_token"))) // the old key still verifies
}

func TestAuthMasterKey(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	_, err := f.db.NewAuth(f.options(make([]byte, 31)))
	wantErr(t, err, icms.ErrInvalid)
	_, err = f.db.NewAuth(f.options(nil))
	wantErr(t, err, icms.ErrInvalid)
	noIssuer := f.options(f.key)
	noIssuer.Issuer = ""
	_, err = f.db.NewAuth(noIssuer)
	wantErr(t, err, icms.ErrInvalid)
	other := make([]byte, 32)
	rand.Read(other)
	_, err = f.db.NewAuth(f.options(other))
	wantErr(t, err, icms.ErrCorrupt)
	for i := range f.key { // the handle keeps its own copy
		f.key[i] = 0
	}
	must(t)(f.auth.LoginExternal(ctx, icms.Host, ines))
}

func TestAuthClosedWithItsDB(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	key := make([]byte, 32)
	copy(key, f.key)
	other, err := f.db.NewAuth(f.options(key))
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	other.Close()
	_, err = other.JWKS(ctx)
	wantErr(t, err, icms.ErrInvalid)
	f.db.Close()
	_, err = f.auth.Verify(ctx, "x")
	wantErr(t, err, icms.ErrInvalid)
	_, err = f.db.NewAuth(f.options(key))
	wantErr(t, err, icms.ErrInvalid)
}

func TestAuthGoroutinesShareOneHandle(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	pair := must(t)(f.auth.LoginExternal(ctx, icms.Host, ines))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if _, err := f.auth.Verify(ctx, pair.Str("access_token")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestAuditCheckpointAndTamperedEntry(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	pk, sk, err := icms.AuditKeypair()
	if err != nil || len(pk) != 32 || len(sk) != 64 {
		t.Fatalf("keypair %d %d %v", len(pk), len(sk), err)
	}
	must(t)(f.auth.LoginExternal(ctx, icms.Host, ines))
	checkpoint, err := f.db.AuditCheckpoint(ctx, sk)
	if err != nil {
		t.Fatal(err)
	}
	report := must(t)(f.db.AuditVerify(ctx, checkpoint, pk))
	if report["valid"] != true || report.Int("entries") < 2 {
		t.Fatalf("report %v", report)
	}
	if r := must(t)(f.db.AuditVerify(ctx, "", nil)); r["valid"] != true {
		t.Fatalf("links only %v", r)
	}
	must(t)(f.db.UserCreate(ctx, icms.User(f.admin.Str("id")), map[string]any{"name": "Otto", "email": "otto@example.com"}))
	if r := must(t)(f.db.AuditVerify(ctx, checkpoint, pk)); r["valid"] != true {
		t.Fatalf("grown chain %v", r)
	}
	f.db.Close()
	out, err := exec.Command("sqlite3", f.path, `DROP TRIGGER icms_append_only_update; `+
		`UPDATE kv_log SET v = replace(CAST(v AS TEXT), '"provider":"google"', '"provider":"gOOgle"') `+
		`WHERE k >= X'02617564697400' AND k < X'02617564697401'`).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v %s", err, out)
	}
	db := open(t, icms.Options{Path: f.path})
	report, err = db.AuditVerify(ctx, checkpoint, pk)
	wantErr(t, err, icms.ErrCorrupt)
	if report["valid"] != false || report.Int("bad_seq") <= 1 || !strings.Contains(report.Str("reason"), "edited") {
		t.Fatalf("report %v", report)
	}
}

func TestAuditCheckpointRefusals(t *testing.T) {
	f, ctx := newAuthFixture(t), context.Background()
	pk, sk, err := icms.AuditKeypair()
	if err != nil {
		t.Fatal(err)
	}
	checkpoint, err := f.db.AuditCheckpoint(ctx, sk)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.db.AuditCheckpoint(ctx, sk[:32])
	wantErr(t, err, icms.ErrInvalid)
	_, err = f.db.AuditCheckpoint(ctx, nil)
	wantErr(t, err, icms.ErrInvalid)
	_, err = f.db.AuditVerify(ctx, checkpoint, pk[:31])
	wantErr(t, err, icms.ErrInvalid)
	_, err = f.db.AuditVerify(ctx, `{"seq":1}`, pk)
	wantErr(t, err, icms.ErrInvalid)
	otherPK, _, _ := icms.AuditKeypair()
	_, err = f.db.AuditVerify(ctx, checkpoint, otherPK)
	wantErr(t, err, icms.ErrCorrupt)
}
