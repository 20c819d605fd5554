package icms

// #include "shim.h"
import "C"

import "errors"

// Sentinel errors, one per library code: test with errors.Is(err, icms.ErrNotFound).
var (
	ErrGeneric           = errors.New("icms: failure")
	ErrNoMemory          = errors.New("icms: out of memory")
	ErrInvalid           = errors.New("icms: invalid input")
	ErrNotFound          = errors.New("icms: not found")
	ErrExists            = errors.New("icms: already exists")
	ErrInvalidTransition = errors.New("icms: invalid state transition")
	ErrForbidden         = errors.New("icms: forbidden")
	ErrConflict          = errors.New("icms: conflict")
	ErrBusy              = errors.New("icms: busy")
	ErrBufferTooSmall    = errors.New("icms: buffer too small")
	ErrStorage           = errors.New("icms: storage failure")
	ErrTransport         = errors.New("icms: transport failure")
	ErrVersion           = errors.New("icms: unsupported version")
	ErrIdempotency       = errors.New("icms: idempotency key reused")
	ErrUnauthenticated   = errors.New("icms: unauthenticated")
	ErrLimit             = errors.New("icms: limit exceeded")
	ErrCorrupt           = errors.New("icms: corrupt data")
	ErrCallback          = errors.New("icms: a callback stopped the operation")
)

var sentinels = map[int]error{
	int(C.ICMS_ERROR): ErrGeneric, int(C.ICMS_ENOMEM): ErrNoMemory,
	int(C.ICMS_EINVALID): ErrInvalid, int(C.ICMS_ENOTFOUND): ErrNotFound,
	int(C.ICMS_EEXISTS): ErrExists, int(C.ICMS_EINVALID_TRANSITION): ErrInvalidTransition,
	int(C.ICMS_EFORBIDDEN): ErrForbidden, int(C.ICMS_ECONFLICT): ErrConflict,
	int(C.ICMS_EBUSY): ErrBusy, int(C.ICMS_EBUFS): ErrBufferTooSmall,
	int(C.ICMS_ESTORAGE): ErrStorage, int(C.ICMS_ETRANSPORT): ErrTransport,
	int(C.ICMS_EVERSION): ErrVersion, int(C.ICMS_EIDEMPOTENCY): ErrIdempotency,
	int(C.ICMS_EUNAUTHENTICATED): ErrUnauthenticated, int(C.ICMS_ELIMIT): ErrLimit,
	int(C.ICMS_ECORRUPT): ErrCorrupt, int(C.ICMS_EUSER): ErrCallback,
}

// Error is a failed call: Code is the library's ICMS_E* number, Message its text.
// errors.Is matches it against the sentinel of its code; when a Go callback
// (a Transport) failed, errors.Is and errors.As also reach the callback's error.
type Error struct {
	Code    int
	Message string
	Cause   error // the callback's own error for ErrCallback, else nil
}

func (e *Error) Error() string {
	return "icms: " + e.Message + " (" + C.GoString(C.icms_error_name(C.int(e.Code))) + ")"
}

// Is reports whether target is the sentinel of e's code.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Code]
	return ok && s == target
}

// Unwrap returns the callback's error, if any.
func (e *Error) Unwrap() error { return e.Cause }

// Name is the code's symbolic name ("ICMS_ENOTFOUND").
func (e *Error) Name() string { return C.GoString(C.icms_error_name(C.int(e.Code))) }

// lastError builds the error for rc from this thread's last error. The
// caller holds the OS thread (runtime.LockOSThread) since the call.
func lastError(rc C.int) error {
	last := C.icms_error_last()
	msg := C.GoString(C.icms_strerror(rc))
	if last.code == rc {
		msg = C.GoString(last.message)
	}
	return &Error{Code: int(rc), Message: msg}
}
