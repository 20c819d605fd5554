package icms

// #include "shim.h"
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"runtime/cgo"
)

// Notification is one notification to send (icms_notification).
type Notification struct {
	ID          string // the same on every attempt: dedupe on it
	UserID      string
	Channel     string // "email", "push" or "sms"
	Address     string // email address or phone number; "" for push
	TemplateKey string
	Data        json.RawMessage // what the template needs
	EventID     string
	Attempt     uint
}

// Notifier delivers notifications (an email, push or SMS gateway). Send
// returns nil once the notification is handed over; an error matching
// ErrInvalid means it can never be delivered (dead-lettered); any other
// error (or a panic) means retry later with backoff.
type Notifier interface {
	Send(ctx context.Context, n Notification) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, n Notification) error

// Send calls f.
func (f NotifierFunc) Send(ctx context.Context, n Notification) error { return f(ctx, n) }

// SetNotifier gives the database n (nil removes it): icms_notify_set_notifier.
// NotifyRun and Tick call it, on their goroutine, with their ctx.
func (d *DB) SetNotifier(n Notifier) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.db == nil {
		return closedError()
	}
	var cn *C.icms_notifier
	if n != nil {
		if cn = C.icms_go_notifier_new(C.uintptr_t(cgo.NewHandle(n))); cn == nil {
			return &Error{Code: int(C.ICMS_ENOMEM), Message: "out of memory"}
		}
	}
	return callRC(func() C.int { return C.icms_notify_set_notifier(d.db, cn) })
}

func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

//export icmsGoNotify
func icmsGoNotify(handle C.uintptr_t, x *C.icms_notification) (rc C.int) {
	defer func() {
		if recover() != nil {
			rc = C.ICMS_EUSER // a panicking notifier is a failed attempt: retried later
		}
	}()
	n := cgo.Handle(handle).Value().(Notifier)
	ctx := context.Background()
	if h := C.icms_go_ctx(); h != 0 {
		ctx = cgo.Handle(h).Value().(context.Context)
	}
	note := Notification{
		ID: goString(x.id), UserID: goString(x.user_id), Channel: goString(x.channel),
		Address: goString(x.address), TemplateKey: goString(x.template_key),
		EventID: goString(x.event_id), Attempt: uint(x.attempt),
	}
	if x.data_json != nil {
		note.Data = json.RawMessage(C.GoString(x.data_json))
	}
	if err := n.Send(ctx, note); err != nil {
		if errors.Is(err, ErrInvalid) {
			return C.ICMS_EINVALID
		}
		return C.ICMS_EUSER
	}
	return C.ICMS_OK
}
