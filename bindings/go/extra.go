package icms

// #include "shim.h"
import "C"

import (
	"context"
	"unsafe"
)

// Tick is icms_tick: the library's periodic work (expiry, retention, notifications).
func (d *DB) Tick(ctx context.Context) (Result, error) {
	var a cargs
	defer a.free()
	text, err := d.invoke(ctx, &a, func(db *C.icms_db, out **C.char) C.int { return C.icms_tick(db, out) })
	if err != nil {
		return nil, err
	}
	return decode(text)
}

// PaymentVerifyBatch is icms_payment_verify_batch.
func (d *DB) PaymentVerifyBatch(ctx context.Context, actor Request, paymentIDs []string) (Result, error) {
	var a cargs
	defer a.free()
	n := len(paymentIDs)
	ids := (**C.char)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	a.ptrs = append(a.ptrs, unsafe.Pointer(ids))
	slots := unsafe.Slice(ids, n+1)
	for i, id := range paymentIDs {
		slots[i] = a.str(id)
	}
	return d.command(ctx, &a, actor, func(db *C.icms_db, req *C.icms_request, out **C.char) C.int {
		return C.icms_payment_verify_batch(db, req, ids, C.size_t(n), out)
	})
}

// EventsFromCursor continues a consumer from its acknowledged cursor (EventsRead's after).
const EventsFromCursor = int64(C.ICMS_EVENTS_FROM_CURSOR)

// EventsRead is icms_events_read.
func (d *DB) EventsRead(ctx context.Context, actor Request, consumer string, after int64, max uint) (Result, error) {
	var a cargs
	defer a.free()
	c := a.str(consumer)
	return d.command(ctx, &a, actor, func(db *C.icms_db, req *C.icms_request, out **C.char) C.int {
		return C.icms_events_read(db, req, c, C.int64_t(after), C.uint(max), out)
	})
}

func (d *DB) eventsCall(ctx context.Context, actor Request, consumer string,
	f func(db *C.icms_db, req *C.icms_request, c *C.char) C.int) error {
	var a cargs
	defer a.free()
	c := a.str(consumer)
	_, err := d.command(ctx, &a, actor, func(db *C.icms_db, req *C.icms_request, _ **C.char) C.int {
		return f(db, req, c)
	})
	return err
}

// EventsAck is icms_events_ack.
func (d *DB) EventsAck(ctx context.Context, actor Request, consumer string, seq int64) error {
	return d.eventsCall(ctx, actor, consumer, func(db *C.icms_db, req *C.icms_request, c *C.char) C.int {
		return C.icms_events_ack(db, req, c, C.int64_t(seq))
	})
}

// EventsSeek is icms_events_seek.
func (d *DB) EventsSeek(ctx context.Context, actor Request, consumer string, seq int64) error {
	return d.eventsCall(ctx, actor, consumer, func(db *C.icms_db, req *C.icms_request, c *C.char) C.int {
		return C.icms_events_seek(db, req, c, C.int64_t(seq))
	})
}

// EventsConsumerDelete is icms_events_consumer_delete.
func (d *DB) EventsConsumerDelete(ctx context.Context, actor Request, consumer string) error {
	return d.eventsCall(ctx, actor, consumer, func(db *C.icms_db, req *C.icms_request, c *C.char) C.int {
		return C.icms_events_consumer_delete(db, req, c)
	})
}

// NotifyRun is icms_notify_run: route new events to notifications and send
// those due through the Notifier, now. The report counts what happened.
func (d *DB) NotifyRun(ctx context.Context) (Result, error) {
	var a cargs
	defer a.free()
	text, err := d.invoke(ctx, &a, func(db *C.icms_db, out **C.char) C.int { return C.icms_notify_run(db, out) })
	if err != nil {
		return nil, err
	}
	return decode(text)
}
