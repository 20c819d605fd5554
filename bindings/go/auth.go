package icms

// #include "shim.h"
import "C"

import (
	"context"
	"sync"
	"time"
	"unsafe"
)

// AuthOptions say how to open an Auth handle (icms_auth_options).
type AuthOptions struct {
	// MasterKey is the 32-byte master key (icms/sys/secrets.h). The library
	// keeps its own copy, wiped when the Auth is closed; the caller may zero
	// this slice as soon as NewAuth returns.
	MasterKey []byte
	Issuer    string // the iss claim written and required
	Audience  string // the aud claim written and required
	// Zero leaves each of these at the library's default.
	AccessTTL        time.Duration
	RefreshTTL       time.Duration
	Leeway           time.Duration
	PasswordOpslimit uint32 // Argon2id passes
	PasswordMemlimit uint32 // Argon2id memory in bytes
}

// Auth is an icms_auth handle: token issuance and verification over one DB.
// Safe for concurrent use. Close it when done; DB.Close closes it too.
//
// Secrets: passwords are []byte and are copied into C memory that is wiped
// after the call (zero your slice when done); refresh and access tokens are
// strings (Go strings cannot be wiped), their C copies wiped after the call.
// Token pairs come back as a Result of strings; their C text is wiped.
type Auth struct {
	mu sync.RWMutex // Close waits for calls in flight
	db *DB
	a  *C.icms_auth
}

// Identity is an identity the host verified with an external provider (icms_auth_identity).
type Identity struct {
	Provider      string // "google", "apple", ...
	Subject       string // the provider's stable user id
	Email         string // required to create a user on first login
	EmailVerified bool
	Name          string // display name for a new user ("" : the email's local part)
	Device        string // session label ("" : none)
}

// PasswordLogin is a password login attempt (icms_auth_password_login).
type PasswordLogin struct {
	Email    string
	Password []byte
	Device   string // session label; "" for none
	Source   string // the client's address, for per-source throttling; "" for none
}

// NewAuth opens an Auth handle over d (icms_auth_new).
func (d *DB) NewAuth(opts AuthOptions) (*Auth, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.db == nil {
		return nil, closedError()
	}
	var a cargs
	defer a.free()
	var key *C.uint8_t
	if len(opts.MasterKey) > 0 {
		key = (*C.uint8_t)(unsafe.Pointer(&opts.MasterKey[0]))
	}
	au := &Auth{db: d}
	if err := callRC(func() C.int {
		return C.icms_go_auth_new(&au.a, d.db, key, C.size_t(len(opts.MasterKey)), a.str(opts.Issuer),
			a.str(opts.Audience), C.int64_t(opts.AccessTTL/time.Millisecond),
			C.int64_t(opts.RefreshTTL/time.Millisecond), C.int64_t(opts.Leeway/time.Millisecond),
			C.uint(opts.PasswordOpslimit), C.uint(opts.PasswordMemlimit))
	}); err != nil {
		return nil, err
	}
	d.authMu.Lock()
	if d.closing {
		d.authMu.Unlock()
		C.icms_auth_free(au.a)
		return nil, closedError()
	}
	if d.auths == nil {
		d.auths = map[*Auth]struct{}{}
	}
	d.auths[au] = struct{}{}
	d.authMu.Unlock()
	return au, nil
}

// Close frees the handle (icms_auth_free); later calls fail with ErrInvalid. Idempotent.
func (au *Auth) Close() error {
	au.mu.Lock()
	defer au.mu.Unlock()
	if au.a != nil {
		C.icms_auth_free(au.a)
		au.a = nil
		au.db.authMu.Lock()
		delete(au.db.auths, au)
		au.db.authMu.Unlock()
	}
	return nil
}

// call runs f on the handle through the DB's invoke (ctx, thread, errors)
// and decodes the answer.
func (au *Auth) call(ctx context.Context, a *cargs, f func(auth *C.icms_auth, out **C.char) C.int) (Result, error) {
	au.mu.RLock()
	defer au.mu.RUnlock()
	if au.a == nil {
		return nil, &Error{Code: int(C.ICMS_EINVALID), Message: "the auth handle is closed"}
	}
	text, err := au.db.invoke(ctx, a, func(_ *C.icms_db, out **C.char) C.int { return f(au.a, out) })
	if err != nil {
		return nil, err
	}
	return decode(text)
}

// LoginExternal is icms_auth_login_external: a token pair.
func (au *Auth) LoginExternal(ctx context.Context, actor Request, id Identity) (Result, error) {
	a := cargs{wipeOut: true}
	defer a.free()
	req := a.request(&actor)
	verified := C.int(0)
	if id.EmailVerified {
		verified = 1
	}
	p, s, e, n, dv := a.opt(id.Provider), a.opt(id.Subject), a.opt(id.Email), a.opt(id.Name), a.opt(id.Device)
	return au.call(ctx, &a, func(auth *C.icms_auth, out **C.char) C.int {
		return C.icms_go_auth_login_external(auth, req, p, s, e, verified, n, dv, out)
	})
}

// LinkIdentity is icms_auth_link_identity: {"user_id","provider","linked":true}.
func (au *Auth) LinkIdentity(ctx context.Context, actor Request, provider, subject string) (Result, error) {
	var a cargs
	defer a.free()
	req := a.request(&actor)
	p, s := a.opt(provider), a.opt(subject)
	return au.call(ctx, &a, func(auth *C.icms_auth, out **C.char) C.int {
		return C.icms_go_auth_link_identity(auth, req, p, s, out)
	})
}

// PasswordSet is icms_auth_password_set.
func (au *Auth) PasswordSet(ctx context.Context, actor Request, userID string, password []byte) error {
	var a cargs
	defer a.free()
	req := a.request(&actor)
	u, pw := a.str(userID), a.secretBytes(password)
	_, err := au.call(ctx, &a, func(auth *C.icms_auth, _ **C.char) C.int {
		return C.icms_auth_password_set(auth, req, u, pw)
	})
	return err
}

// LoginPassword is icms_auth_login_password: a token pair.
func (au *Auth) LoginPassword(ctx context.Context, actor Request, login PasswordLogin) (Result, error) {
	a := cargs{wipeOut: true}
	defer a.free()
	req := a.request(&actor)
	e, pw, dv, src := a.opt(login.Email), a.secretBytes(login.Password), a.opt(login.Device), a.opt(login.Source)
	return au.call(ctx, &a, func(auth *C.icms_auth, out **C.char) C.int {
		return C.icms_go_auth_login_password(auth, req, e, pw, dv, src, out)
	})
}

// Refresh is icms_auth_refresh: a new token pair; refreshToken is spent.
func (au *Auth) Refresh(ctx context.Context, actor Request, refreshToken string) (Result, error) {
	a := cargs{wipeOut: true}
	defer a.free()
	req := a.request(&actor)
	t := a.secret(refreshToken)
	return au.call(ctx, &a, func(auth *C.icms_auth, out **C.char) C.int {
		return C.icms_auth_refresh(auth, req, t, out)
	})
}

// Verify is icms_auth_verify: the access token's claims, or an error matching ErrUnauthenticated.
func (au *Auth) Verify(ctx context.Context, accessToken string) (Result, error) {
	var a cargs
	defer a.free()
	t := a.secret(accessToken)
	return au.call(ctx, &a, func(auth *C.icms_auth, out **C.char) C.int {
		return C.icms_auth_verify(auth, t, out)
	})
}

// RotateKeys is icms_auth_rotate_keys: {"kid","retired":[...]}.
func (au *Auth) RotateKeys(ctx context.Context, actor Request) (Result, error) {
	var a cargs
	defer a.free()
	req := a.request(&actor)
	return au.call(ctx, &a, func(auth *C.icms_auth, out **C.char) C.int {
		return C.icms_auth_rotate_keys(auth, req, out)
	})
}

// JWKS is icms_auth_jwks: the public signing keys as a JWKS document.
func (au *Auth) JWKS(ctx context.Context) (Result, error) {
	var a cargs
	defer a.free()
	return au.call(ctx, &a, func(auth *C.icms_auth, out **C.char) C.int {
		return C.icms_auth_jwks(auth, out)
	})
}
