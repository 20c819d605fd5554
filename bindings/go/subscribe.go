package icms

// #include "shim.h"
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Event is one committed event as a subscriber sees it (icms_event_view).
type Event struct {
	Seq     int64
	Type    string          // "project.published"
	Subject string          // the id of the record the event is about
	JSON    json.RawMessage // the whole event, as EventsRead answers it
}

// Decode is the whole event as a Result (numbers as json.Number).
func (e Event) Decode() (Result, error) { return decode(string(e.JSON)) }

// EventFunc handles one event. ctx is the context of the command whose
// commit produced it (context.Background() when none). An error (or a
// panic) never fails that command: it is counted and handed to the
// subscription's onError.
type EventFunc func(ctx context.Context, ev Event) error

// Subscription is a push subscription (DB.Subscribe).
type Subscription struct {
	d       *DB
	pattern string
	fn      EventFunc
	onError func(Event, error)
	sub     *C.icms_binding_sub
	h       cgo.Handle

	mu      sync.Mutex
	closing bool          // a Close has begun
	closed  bool          // the C subscription is closed: the counts below are final
	final   [2]uint64     // delivered, failures at close (DB.Close frees the C struct)
	done    chan struct{} // closed once the C subscription is closed
}

// Subscribe calls fn for each committed event whose type matches pattern
// ("*", "project.*" or an exact type): icms_events_subscribe.
//
// fn runs on the goroutine (and OS thread) that ran the command, right after
// its commit, and may run commands itself. Delivery is at most once and not
// durable (EventsRead is). An error or a panic from fn is recovered, counted
// (Failures) and handed to onError (may be nil) on the same goroutine.
//
// The C side holds only a runtime/cgo.Handle (an integer), never a Go
// pointer; Close deletes it once no callback can start any more.
func (d *DB) Subscribe(pattern string, fn EventFunc, onError func(Event, error)) (*Subscription, error) {
	if fn == nil {
		return nil, &Error{Code: int(C.ICMS_EINVALID), Message: "a callback is required"}
	}
	s := &Subscription{d: d, pattern: pattern, fn: fn, onError: onError, done: make(chan struct{})}
	cp := C.CString(pattern)
	defer C.free(unsafe.Pointer(cp))
	// Under authMu: DB.Close either sees this subscription or refuses it,
	// and icms_close cannot have run while closing is false.
	d.authMu.Lock()
	defer d.authMu.Unlock()
	if d.closing || d.db == nil {
		return nil, closedError()
	}
	s.h = cgo.NewHandle(s)
	err := callRC(func() C.int { return C.icms_go_subscribe(d.db, cp, C.uintptr_t(s.h), &s.sub) })
	if err != nil {
		s.h.Delete()
		return nil, err
	}
	if d.subs == nil {
		d.subs = map[*Subscription]struct{}{}
	}
	d.subs[s] = struct{}{}
	d.subStructs = append(d.subStructs, s.sub)
	return s, nil
}

// Close stops delivery: no callback starts after it returns, and it waits
// for callbacks running on other goroutines. A callback may close its own
// subscription (it is not waited for). Idempotent; DB.Close closes every
// subscription first.
func (s *Subscription) Close() error {
	s.mu.Lock()
	if s.closing {
		// Another Close is doing it (and may be waiting for this very
		// goroutine's callback): do not wait here.
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.mu.Unlock()
	C.icms_binding_sub_close(s.sub)
	s.h.Delete()
	s.mu.Lock()
	s.final = [2]uint64{uint64(C.icms_binding_sub_delivered(s.sub)), uint64(C.icms_binding_sub_failures(s.sub))}
	s.closed = true
	s.mu.Unlock()
	s.d.authMu.Lock()
	delete(s.d.subs, s)
	s.d.authMu.Unlock()
	close(s.done)
	return nil
}

// Delivered is how many events were handed to the callback.
func (s *Subscription) Delivered() uint64 { return s.count(0) }

// Failures is how many of those returned an error or panicked.
func (s *Subscription) Failures() uint64 { return s.count(1) }

// count reads a counter: from C while open (s.mu keeps DB.Close from freeing
// the struct meanwhile: it frees only after Close set closed under s.mu),
// from the final copy once closed.
func (s *Subscription) count(i int) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.final[i]
	}
	if i == 0 {
		return uint64(C.icms_binding_sub_delivered(s.sub))
	}
	return uint64(C.icms_binding_sub_failures(s.sub))
}

// icmsGoDeliverEvent is the Go side of a subscription: it runs on the
// committing thread (a goroutine inside a cgo call) and never lets a panic
// unwind into C.
//
//export icmsGoDeliverEvent
func icmsGoDeliverEvent(handle C.uintptr_t, seq C.longlong, typ *C.char, text *C.char, n C.longlong) (rc C.int) {
	s := cgo.Handle(handle).Value().(*Subscription)
	ev := Event{Seq: int64(seq), Type: C.GoString(typ),
		JSON: json.RawMessage(C.GoBytes(unsafe.Pointer(text), C.int(n)))}
	var head struct {
		Subject string `json:"subject"`
	}
	_ = json.Unmarshal(ev.JSON, &head)
	ev.Subject = head.Subject
	ctx := context.Background()
	if h := C.icms_go_ctx(); h != 0 {
		ctx = cgo.Handle(h).Value().(context.Context)
	}
	err := s.call(ctx, ev)
	if err == nil {
		return 0
	}
	if s.onError != nil {
		func() {
			defer func() { _ = recover() }() // a panicking onError is ignored too
			s.onError(ev, err)
		}()
	}
	return -1
}

func (s *Subscription) call(ctx context.Context, ev Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("icms: subscriber panicked: %v", r)
		}
	}()
	return s.fn(ctx, ev)
}
