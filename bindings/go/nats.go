package icms

// #include "shim.h"
import "C"

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// NatsOptions say where and how to publish (icms_nats_options); zero values
// are the library's defaults.
type NatsOptions struct {
	URL             string // "nats://127.0.0.1:4222"
	Stream          string // "ICMS"
	SubjectPrefix   string // "icms." (subject = prefix + event type)
	Consumer        string // the durable outbox consumer advanced: "nats"
	CreateStream    bool   // create the stream (file storage, prefix + ">") when missing
	Batch           uint   // events per publish round; 0: 256
	Timeout         time.Duration
	DuplicateWindow time.Duration
}

// NatsPublisher drains a database's outbox to a NATS JetStream stream.
// Drain calls are serialized (the C publisher is not for concurrent use);
// DB.Close closes its publishers first.
type NatsPublisher struct {
	d  *DB
	mu sync.Mutex // serializes Drain and Close
	p  *C.icms_nats_publisher
}

// NatsAvailable reports whether libicms was built with NATS support.
func NatsAvailable() bool { return C.icms_nats_available() == 1 }

// NewNatsPublisher is icms_nats_publisher_new: it connects on the first Drain.
func (d *DB) NewNatsPublisher(o NatsOptions) (*NatsPublisher, error) {
	var a cargs
	defer a.free()
	url, stream, prefix, consumer := a.opt(o.URL), a.opt(o.Stream), a.opt(o.SubjectPrefix), a.opt(o.Consumer)
	create := C.int(0)
	if o.CreateStream {
		create = 1
	}
	p := &NatsPublisher{d: d}
	d.authMu.Lock()
	defer d.authMu.Unlock()
	if d.closing || d.db == nil {
		return nil, closedError()
	}
	err := callRC(func() C.int {
		return C.icms_binding_nats_new(&p.p, d.db, url, stream, prefix, consumer, create, C.uint(o.Batch),
			C.int64_t(o.Timeout/time.Millisecond), C.int64_t(o.DuplicateWindow/time.Millisecond))
	})
	if err != nil {
		return nil, err
	}
	if d.publishers == nil {
		d.publishers = map[*NatsPublisher]struct{}{}
	}
	d.publishers[p] = struct{}{}
	return p, nil
}

// Drain publishes every event after the consumer's cursor and returns how
// many the server acknowledged. ErrTransport when the server is unreachable
// or does not acknowledge (the events wait in the outbox). ctx is checked
// before the call; the wait is bounded by NatsOptions.Timeout.
func (p *NatsPublisher) Drain(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil {
		return 0, &Error{Code: int(C.ICMS_EINVALID), Message: "the publisher is closed"}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n := C.icms_binding_nats_drain(p.p)
	if n < 0 {
		return 0, lastError(C.int(n))
	}
	return int(n), nil
}

// Close frees the publisher, after a Drain in flight. Idempotent.
func (p *NatsPublisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p != nil {
		C.icms_nats_publisher_free(p.p)
		p.p = nil
		p.d.authMu.Lock()
		delete(p.d.publishers, p)
		p.d.authMu.Unlock()
	}
	return nil
}
