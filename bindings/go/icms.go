// Package icms is libicms for Go: a thin cgo layer over the C API.
//
//	db, err := icms.Open(icms.Options{Path: "/tmp/icms.db"})
//	admin, err := db.UserBootstrapAdmin(ctx, icms.Host, map[string]any{"name": "Ada", "email": "ada@example.com"})
//
// Every command icms_<name>(db, req, ..., char **out) is the method
// DB.<Name>(ctx, actor, ...): JSON arguments are any value encoding/json
// takes (nil for none); the JSON result is a Result (a map decoded with
// json.Number, so int64 money stays exact: use Result.Int). A failure is an
// *Error matching its sentinel: errors.Is(err, icms.ErrInvalidTransition).
//
// Threads: a DB may be used from many goroutines at once (the C handle is
// thread-safe). Each call holds its OS thread for its duration (the
// library's last error is per thread). ctx is checked before each call and
// handed to a Go Transport; the built-in libcurl transport is bounded by
// Gapcoin.Timeout instead.
package icms

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -licms
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// ActorKind says who is behind a call.
type ActorKind int

const (
	ActorUser   ActorKind = C.ICMS_ACTOR_USER
	ActorSystem ActorKind = C.ICMS_ACTOR_SYSTEM
	ActorHost   ActorKind = C.ICMS_ACTOR_HOST
)

// Request is who is acting and why (icms_request). Empty strings are unset.
type Request struct {
	Kind           ActorKind
	ActorID        string
	IdempotencyKey string
	CorrelationID  string
	TraceID        string
	SpanID         string
	RequestID      string
	Source         string
	AccessToken    string
}

var (
	// Host is the embedding application, trusted with an admin's rights.
	Host = Request{Kind: ActorHost}
	// System is the library's own periodic work.
	System = Request{Kind: ActorSystem}
	// Anonymous may read what is public.
	Anonymous = Request{}
)

// User is a request by the user with that id (which the host authenticated).
func User(id string) Request { return Request{Kind: ActorUser, ActorID: id} }

// Token is a request by the user an access token names (the library verifies it).
func Token(accessToken string) Request { return Request{Kind: ActorUser, AccessToken: accessToken} }

// WithKey is r with an idempotency key.
func (r Request) WithKey(key string) Request { r.IdempotencyKey = key; return r }

// Result is a command's JSON answer, numbers kept as json.Number.
type Result map[string]any

// Str is the string at key ("" when absent or not a string).
func (r Result) Str(key string) string { s, _ := r[key].(string); return s }

// Int is the integer at key (0 when absent): exact for every int64.
func (r Result) Int(key string) int64 {
	n, _ := r[key].(json.Number)
	v, _ := n.Int64()
	return v
}

// Obj is the object at key.
func (r Result) Obj(key string) Result { m, _ := r[key].(map[string]any); return Result(m) }

// List is the array of objects at key.
func (r Result) List(key string) []Result {
	a, _ := r[key].([]any)
	out := make([]Result, 0, len(a))
	for _, x := range a {
		m, _ := x.(map[string]any)
		out = append(out, Result(m))
	}
	return out
}

// Transport sends one HTTP POST for the library (a host's own HTTP stack).
// It returns the HTTP status and body of any answer; an error stops the
// command, which returns an *Error matching ErrCallback that wraps it.
type Transport interface {
	Post(ctx context.Context, url string, headers []string, body []byte, maxLen int64) (status int, answer []byte, err error)
}

// TransportFunc adapts a function to Transport.
type TransportFunc func(ctx context.Context, url string, headers []string, body []byte, maxLen int64) (int, []byte, error)

// Post calls f.
func (f TransportFunc) Post(ctx context.Context, url string, headers []string, body []byte, maxLen int64) (int, []byte, error) {
	return f(ctx, url, headers, body, maxLen)
}

// Gapcoin says how to reach the node payments are verified against.
type Gapcoin struct {
	URL      string
	Username string        // HTTP Basic (built-in transport)
	Password string        // HTTP Basic (built-in transport)
	Timeout  time.Duration // built-in transport; 0 = 30 s
	Network  int           // 0 mainnet
	// Transport replaces the built-in libcurl transport when not nil.
	Transport Transport
}

// Options say how to open a database.
type Options struct {
	Path string // the SQLite file, created if missing
	// FakeClockMs, when not 0, runs the database on a fake clock starting
	// there (ms since the epoch), reachable through DB.Clock.
	FakeClockMs   int64
	KYCOptional   bool
	Sync          int // 0 FULL, 1 NORMAL, 2 OFF (tests)
	Gapcoin       *Gapcoin
	RetryAttempts int
}

// DB is an open database. Safe for concurrent use.
type DB struct {
	mu    sync.RWMutex // Close waits for calls in flight
	db    *C.icms_db
	clock *FakeClock

	authMu     sync.Mutex // guards auths, subs, publishers and closing
	auths      map[*Auth]struct{}
	subs       map[*Subscription]struct{}
	publishers map[*NatsPublisher]struct{}
	// Every subscription's C struct, freed after icms_close (a dispatch may
	// reach a closed subscription's struct until then).
	subStructs []*C.icms_binding_sub
	closing    bool // Close has begun: NewAuth, Subscribe and NewNatsPublisher refuse
}

// FakeClock is the database's fake clock (Options.FakeClockMs).
type FakeClock struct {
	db *DB
	c  *C.icms_clock
}

var initOnce sync.Once

// Open opens (creating if needed) a database.
func Open(opts Options) (*DB, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rc := C.icms_init(); rc < 0 {
		return nil, lastError(rc)
	}
	var clock *C.icms_clock
	if opts.FakeClockMs != 0 {
		if rc := C.icms_clock_fake_new(C.int64_t(opts.FakeClockMs), &clock); rc < 0 {
			C.icms_shutdown()
			return nil, lastError(rc)
		}
	}
	var rpc *C.icms_rpc_client
	network := 0
	if g := opts.Gapcoin; g != nil {
		network = g.Network
		curl := C.CString(g.URL)
		defer C.free(unsafe.Pointer(curl))
		var rc C.int
		if g.Transport != nil {
			t := C.icms_go_transport_new(C.uintptr_t(cgo.NewHandle(g.Transport)))
			rc = C.icms_rpc_client_new(&rpc, t, curl, nil)
		} else {
			user, pass := cstrOpt(g.Username), cstrOpt(g.Password)
			rc = C.icms_go_rpc_curl(&rpc, curl, user, pass, C.uint(g.Timeout/time.Millisecond))
			C.free(unsafe.Pointer(user))
			if pass != nil {
				// Wipe the password copy before freeing it.
				C.memset(unsafe.Pointer(pass), 0, C.strlen(pass))
				C.free(unsafe.Pointer(pass))
			}
		}
		if rc < 0 {
			err := lastError(rc)
			C.icms_clock_free(clock)
			C.icms_shutdown()
			return nil, err
		}
	}
	path := C.CString(opts.Path)
	defer C.free(unsafe.Pointer(path))
	kyc := C.int(0)
	if opts.KYCOptional {
		kyc = 1
	}
	d := &DB{}
	if rc := C.icms_go_open(&d.db, path, clock, rpc, kyc, C.uint(opts.Sync), C.uint(network),
		C.uint(opts.RetryAttempts)); rc < 0 {
		err := lastError(rc)
		C.icms_shutdown()
		return nil, err
	}
	if clock != nil {
		d.clock = &FakeClock{db: d, c: clock}
	}
	return d, nil
}

// Close closes the database; later calls fail with ErrInvalid. Idempotent.
func (d *DB) Close() error {
	// The auth handles borrow the database: they go first (each waits for
	// its own calls in flight; taken before d.mu, as their calls take them).
	// Subscriptions and publishers too: each Close waits for its callbacks
	// or drain in flight (a subscription closed by another goroutine is
	// waited for through its done channel).
	d.authMu.Lock()
	auths, subs, pubs := d.auths, d.subs, d.publishers
	d.auths, d.subs, d.publishers = nil, nil, nil
	d.closing = true
	d.authMu.Unlock()
	for au := range auths {
		au.Close()
	}
	for s := range subs {
		s.Close()
		<-s.done
	}
	for p := range pubs {
		p.Close()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.db != nil {
		C.icms_close(d.db)
		d.db = nil
		for _, cs := range d.subStructs {
			C.icms_binding_sub_free(cs)
		}
		d.subStructs = nil
		C.icms_shutdown()
	}
	return nil
}

// Clock is the fake clock of Options.FakeClockMs, or nil.
func (d *DB) Clock() *FakeClock { return d.clock }

func closedError() error {
	return &Error{Code: int(C.ICMS_EINVALID), Message: "the database is closed"}
}

// Now reads the clock.
func (c *FakeClock) Now() (int64, error) {
	c.db.mu.RLock()
	defer c.db.mu.RUnlock()
	if c.db.db == nil {
		return 0, closedError()
	}
	return int64(C.icms_clock_now(c.c)), nil
}

// Advance moves the clock by delta.
func (c *FakeClock) Advance(delta time.Duration) error {
	c.db.mu.RLock()
	defer c.db.mu.RUnlock()
	if c.db.db == nil {
		return closedError()
	}
	return callRC(func() C.int { return C.icms_clock_fake_advance(c.c, C.int64_t(delta/time.Millisecond)) })
}

func cstrOpt(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// callRC runs f on a held OS thread and turns its code into an error.
func callRC(f func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rc := f(); rc < 0 {
		return lastError(rc)
	}
	return nil
}

// cargs holds the C strings of one call, freed together. Secrets (a
// password, a token) are wiped before they are freed; wipeOut also wipes the
// C copy of the call's answer (a token pair) once Go has its own.
type cargs struct {
	ptrs    []unsafe.Pointer
	secrets []*C.char
	wipeOut bool
	err     error
}

// secret is a C copy of a secret string, wiped and freed with the call's arguments.
func (a *cargs) secret(s string) *C.char {
	p := C.CString(s)
	a.secrets = append(a.secrets, p)
	return p
}

// secretBytes is a NUL-terminated C copy of b, wiped and freed with the call's arguments.
func (a *cargs) secretBytes(b []byte) *C.char {
	p := (*C.char)(C.malloc(C.size_t(len(b) + 1)))
	s := unsafe.Slice((*byte)(unsafe.Pointer(p)), len(b)+1)
	copy(s, b)
	s[len(b)] = 0
	a.secrets = append(a.secrets, p)
	return p
}

func (a *cargs) str(s string) *C.char {
	p := C.CString(s)
	a.ptrs = append(a.ptrs, unsafe.Pointer(p))
	return p
}

func (a *cargs) opt(s string) *C.char {
	if s == "" {
		return nil
	}
	return a.str(s)
}

// json encodes v (nil: NULL; a string, []byte or json.RawMessage: as is).
func (a *cargs) json(v any) *C.char {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return a.str(x)
	case []byte:
		return a.str(string(x))
	case json.RawMessage:
		return a.str(string(x))
	}
	b, err := json.Marshal(v)
	if err != nil {
		if a.err == nil {
			a.err = err
		}
		return nil
	}
	return a.str(string(b))
}

func (a *cargs) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
	a.ptrs = nil
	for _, p := range a.secrets {
		C.icms_go_wipe(p)
		C.free(unsafe.Pointer(p))
	}
	a.secrets = nil
}

func (a *cargs) request(r *Request) *C.icms_request {
	req := (*C.icms_request)(C.calloc(1, C.size_t(unsafe.Sizeof(C.icms_request{}))))
	a.ptrs = append(a.ptrs, unsafe.Pointer(req))
	req.version = C.ICMS_REQUEST_VERSION
	req.actor_kind = C.icms_actor_kind_t(r.Kind)
	req.actor_id = a.opt(r.ActorID)
	req.idempotency_key = a.opt(r.IdempotencyKey)
	req.correlation_id = a.opt(r.CorrelationID)
	req.trace_id = a.opt(r.TraceID)
	req.span_id = a.opt(r.SpanID)
	req.request_id = a.opt(r.RequestID)
	req.source = a.opt(r.Source)
	req.access_token = a.opt(r.AccessToken)
	return req
}

// invoke is THE place a call is made and its code becomes an error: it
// checks ctx, holds the OS thread (the last error and the callback slots
// are per thread), publishes ctx to a Go Transport, and collects a
// callback's error.
func (d *DB) invoke(ctx context.Context, a *cargs, f func(db *C.icms_db, out **C.char) C.int) (string, error) {
	if a.err != nil {
		return "", &Error{Code: int(C.ICMS_EINVALID), Message: "cannot encode an argument as JSON: " + a.err.Error()}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.db == nil {
		return "", closedError()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// A command run from inside a callback (a subscriber, a notifier) must
	// leave the outer call's context in place when it returns.
	prev := C.icms_go_ctx()
	h := cgo.NewHandle(ctx)
	C.icms_go_set_ctx(C.uintptr_t(h))
	var out *C.char
	rc := f(d.db, &out)
	C.icms_go_set_ctx(prev)
	h.Delete()
	text := ""
	if out != nil {
		text = C.GoString(out)
		if a.wipeOut {
			C.icms_go_wipe(out)
		}
		C.icms_free(unsafe.Pointer(out))
	}
	if rc < 0 {
		err := lastError(rc).(*Error)
		if p := C.icms_go_take_pending(); p != 0 {
			ph := cgo.Handle(p)
			err.Cause = ph.Value().(error)
			err.Message = "callback failed: " + err.Cause.Error()
			ph.Delete()
		}
		return text, err // a failure may still answer (icms_audit_verify's report)
	}
	return text, nil
}

func decode(text string) (Result, error) {
	if text == "" {
		return nil, nil
	}
	dec := json.NewDecoder(stringReader(text))
	dec.UseNumber()
	var r Result
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	return r, nil
}

// command runs a (db, req, ..., out) call and decodes its JSON answer.
func (d *DB) command(ctx context.Context, a *cargs, actor Request,
	f func(db *C.icms_db, req *C.icms_request, out **C.char) C.int) (Result, error) {
	req := a.request(&actor)
	text, err := d.invoke(ctx, a, func(db *C.icms_db, out **C.char) C.int { return f(db, req, out) })
	if err != nil {
		return nil, err
	}
	return decode(text)
}

// Version is the library's version string.
func Version() string { return C.GoString(C.icms_version()) }
