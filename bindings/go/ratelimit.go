package icms

// #include "shim.h"
import "C"

import (
	"encoding/json"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// RateLimitOptions configure a RateLimiter (icms_ratelimit_options); zero
// values are the library's defaults (100 and 1000 per minute, 10000 keys).
type RateLimitOptions struct {
	AnonymousLimit     uint32
	AuthenticatedLimit uint32
	Window             time.Duration
	MaxKeys            int
	// FakeClockMs, when not 0, runs the limiter on a fake clock starting
	// there (tests), moved with RateLimiter.Advance.
	FakeClockMs int64
}

// RateDecision is what one hit decided (icms_ratelimit_result).
type RateDecision struct {
	Allowed      bool  `json:"allowed"`
	Limit        int64 `json:"limit"`
	Remaining    int64 `json:"remaining"`
	RetryAfterMs int64 `json:"retry_after_ms"`
}

// RateLimiter is an in-memory sliding-window rate limiter. Safe for
// concurrent use; Close waits for the hits in flight.
type RateLimiter struct {
	mu    sync.RWMutex
	l     *C.icms_ratelimit
	clock *C.icms_clock // borrowed: the limiter owns it
}

// NewRateLimiter is icms_ratelimit_new. ErrInvalid for a negative window
// or key count.
func NewRateLimiter(o RateLimitOptions) (*RateLimiter, error) {
	if o.Window < 0 || o.MaxKeys < 0 {
		return nil, &Error{Code: int(C.ICMS_EINVALID), Message: "window and max keys may not be negative"}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := &RateLimiter{}
	if o.FakeClockMs != 0 {
		if rc := C.icms_clock_fake_new(C.int64_t(o.FakeClockMs), &r.clock); rc < 0 {
			return nil, lastError(rc)
		}
	}
	// The limiter owns the clock from here, even when this fails.
	if rc := C.icms_binding_ratelimit_new(&r.l, C.uint32_t(o.AnonymousLimit), C.uint32_t(o.AuthenticatedLimit),
		C.int64_t(o.Window/time.Millisecond), C.size_t(o.MaxKeys), r.clock); rc < 0 {
		return nil, lastError(rc)
	}
	return r, nil
}

// Hit counts one request of key (1..256 bytes; the kinds count separately).
// A refusal is an answer (Allowed false, RetryAfterMs > 0), not an error;
// ErrInvalid for a bad key.
func (r *RateLimiter) Hit(key string, authenticated bool) (RateDecision, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.l == nil {
		return RateDecision{}, &Error{Code: int(C.ICMS_EINVALID), Message: "the rate limiter is closed"}
	}
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	auth := C.int(0)
	if authenticated {
		auth = 1
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var out *C.char
	rc := C.icms_binding_ratelimit_hit(r.l, auth, ck, &out)
	if rc < 0 && rc != C.ICMS_ELIMIT {
		return RateDecision{}, lastError(rc)
	}
	text := C.GoString(out)
	C.free(unsafe.Pointer(out))
	var d RateDecision
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		return RateDecision{}, err
	}
	return d, nil
}

// Size is how many keys the limiter remembers.
func (r *RateLimiter) Size() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.l == nil {
		return 0
	}
	return int(C.icms_ratelimit_size(r.l))
}

// Advance moves the fake clock (RateLimitOptions.FakeClockMs); ErrInvalid without one.
func (r *RateLimiter) Advance(delta time.Duration) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.l == nil || r.clock == nil {
		return &Error{Code: int(C.ICMS_EINVALID), Message: "the rate limiter is closed or has no fake clock"}
	}
	return callRC(func() C.int { return C.icms_clock_fake_advance(r.clock, C.int64_t(delta/time.Millisecond)) })
}

// Close frees the limiter (and its clock). Idempotent.
func (r *RateLimiter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.l != nil {
		C.icms_ratelimit_free(r.l)
		r.l, r.clock = nil, nil
	}
	return nil
}
