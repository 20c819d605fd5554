package icms

// #include "shim.h"
import "C"

import (
	"context"
	"unsafe"
)

// AuditKeypair is icms_audit_keypair: a new Ed25519 key pair (32 and 64
// bytes) for signing audit checkpoints. Keep the secret key out of the
// store, and zero it when done.
func AuditKeypair() (publicKey, secretKey []byte, err error) {
	publicKey = make([]byte, C.ICMS_AUDIT_PUBLIC_KEY_BYTES)
	secretKey = make([]byte, C.ICMS_AUDIT_SECRET_KEY_BYTES)
	err = callRC(func() C.int {
		return C.icms_audit_keypair((*C.uint8_t)(unsafe.Pointer(&publicKey[0])), C.size_t(len(publicKey)),
			(*C.uint8_t)(unsafe.Pointer(&secretKey[0])), C.size_t(len(secretKey)))
	})
	if err != nil {
		return nil, nil, err
	}
	return publicKey, secretKey, nil
}

func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// AuditCheckpoint is icms_audit_checkpoint: the audit chain's head signed
// with secretKey, as the JSON text {"seq","hash","signature"} to keep
// outside the store verbatim.
func (d *DB) AuditCheckpoint(ctx context.Context, secretKey []byte) (string, error) {
	var a cargs
	defer a.free()
	sk, n := bytesArg(secretKey)
	text, err := d.invoke(ctx, &a, func(db *C.icms_db, out **C.char) C.int {
		return C.icms_audit_checkpoint(db, sk, n, out)
	})
	if err != nil {
		return "", err
	}
	return text, nil
}

// AuditVerify is icms_audit_verify: the report {"valid","entries","bad_seq",
// "reason"}. checkpoint ("" for none: links only) with the public key that
// signed it. A broken chain returns the report AND an error matching
// ErrCorrupt; a malformed checkpoint or key, ErrInvalid.
func (d *DB) AuditVerify(ctx context.Context, checkpoint string, publicKey []byte) (Result, error) {
	var a cargs
	defer a.free()
	cp := a.opt(checkpoint)
	pk, n := bytesArg(publicKey)
	text, err := d.invoke(ctx, &a, func(db *C.icms_db, out **C.char) C.int {
		return C.icms_audit_verify(db, cp, pk, n, out)
	})
	report, derr := decode(text)
	if err != nil {
		return report, err
	}
	return report, derr
}
