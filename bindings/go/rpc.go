package icms

// #include "shim.h"
import "C"

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// RPCClient is a Gapcoin node's JSON-RPC client (icms_rpc_client_*) for a
// host's own checks: the built-in libcurl transport, or a Go Transport.
// Safe for concurrent use (Close waits for the calls in flight).
type RPCClient struct {
	mu sync.RWMutex
	c  *C.icms_rpc_client
}

// NewRPCClient is icms_rpc_client_new over g's transport (URL, Username,
// Password, Timeout or Transport; Network is not used here). ErrInvalid for
// a bad URL.
func NewRPCClient(g Gapcoin) (*RPCClient, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	url := C.CString(g.URL)
	defer C.free(unsafe.Pointer(url))
	r := &RPCClient{}
	var rc C.int
	if g.Transport != nil {
		t := C.icms_go_transport_new(C.uintptr_t(cgo.NewHandle(g.Transport)))
		rc = C.icms_rpc_client_new(&r.c, t, url, nil)
	} else {
		user, pass := cstrOpt(g.Username), cstrOpt(g.Password)
		rc = C.icms_go_rpc_curl(&r.c, url, user, pass, C.uint(g.Timeout/time.Millisecond))
		C.free(unsafe.Pointer(user))
		C.icms_go_wipe(pass)
		C.free(unsafe.Pointer(pass))
	}
	if rc < 0 {
		return nil, lastError(rc)
	}
	return r, nil
}

// Close frees the client and its transport, after the calls in flight. Idempotent.
func (r *RPCClient) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil {
		C.icms_rpc_client_free(r.c)
		r.c = nil
	}
	return nil
}

// call runs f with ctx published to a Go Transport and decodes the JSON answer into v.
func (r *RPCClient) call(ctx context.Context, v any, f func(c *C.icms_rpc_client, out **C.char) C.int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.c == nil {
		return &Error{Code: int(C.ICMS_EINVALID), Message: "the RPC client is closed"}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prev := C.icms_go_ctx() // restored: this may run inside a callback of an outer call
	h := cgo.NewHandle(ctx)
	C.icms_go_set_ctx(C.uintptr_t(h))
	var out *C.char
	rc := f(r.c, &out)
	C.icms_go_set_ctx(prev)
	h.Delete()
	text := C.GoString(out)
	C.free(unsafe.Pointer(out))
	if rc < 0 {
		err := lastError(rc).(*Error)
		if p := C.icms_go_take_pending(); p != 0 {
			ph := cgo.Handle(p)
			err.Cause = ph.Value().(error)
			err.Message = "callback failed: " + err.Cause.Error()
			ph.Delete()
		}
		return err
	}
	dec := json.NewDecoder(stringReader(text))
	dec.UseNumber()
	return dec.Decode(v)
}

func (r *RPCClient) named(ctx context.Context, v any, method, arg, arg2 string, n int64) error {
	var a cargs
	defer a.free()
	m, x, y := a.str(method), a.opt(arg), a.opt(arg2)
	return r.call(ctx, v, func(c *C.icms_rpc_client, out **C.char) C.int {
		return C.icms_binding_rpc_call(c, m, x, y, C.int64_t(n), out)
	})
}

// GetBlockCount is the height of the node's best chain.
func (r *RPCClient) GetBlockCount(ctx context.Context) (int64, error) {
	var v struct{ Height int64 }
	err := r.named(ctx, &v, "getblockcount", "", "", 0)
	return v.Height, err
}

// GetBlockHash is the hash of the best chain's block at height; ErrNotFound past the tip.
func (r *RPCClient) GetBlockHash(ctx context.Context, height int64) (string, error) {
	var v struct{ Hash string }
	err := r.named(ctx, &v, "getblockhash", "", "", height)
	return v.Hash, err
}

func (r *RPCClient) bytes(ctx context.Context, method, arg, arg2 string) ([]byte, error) {
	var v struct{ Hex string }
	if err := r.named(ctx, &v, method, arg, arg2, 0); err != nil {
		return nil, err
	}
	return hex.DecodeString(v.Hex)
}

// GetBlock is the raw serialized block.
func (r *RPCClient) GetBlock(ctx context.Context, blockHash string) ([]byte, error) {
	return r.bytes(ctx, "getblock", blockHash, "")
}

// GetBlockHeader is the raw serialized header.
func (r *RPCClient) GetBlockHeader(ctx context.Context, blockHash string) ([]byte, error) {
	return r.bytes(ctx, "getblockheader", blockHash, "")
}

// GetTxOutProof is the serialized merkle block proving txid ("" blockHash: the node finds it).
func (r *RPCClient) GetTxOutProof(ctx context.Context, txid, blockHash string) ([]byte, error) {
	return r.bytes(ctx, "gettxoutproof", txid, blockHash)
}

// RPCTxOut is one output as the node describes it (informative, not verified).
type RPCTxOut struct {
	N       uint32 `json:"n"`
	Value   int64  `json:"value"`
	Script  string `json:"script"`
	Address string `json:"address"`
}

// RPCTx is what getrawtransaction TXID 1 answered (icms_rpc_tx).
type RPCTx struct {
	Raw           []byte     `json:"-"`
	RawHex        string     `json:"raw"`
	TxID          string     `json:"txid"`
	Confirmations int64      `json:"confirmations"`
	InBlock       bool       `json:"in_block"`
	BlockHash     string     `json:"blockhash"`
	BlockTime     int64      `json:"blocktime"`
	Outputs       []RPCTxOut `json:"outputs"`
}

// GetRawTransaction is getrawtransaction TXID 1 (in blockHash when not "").
func (r *RPCClient) GetRawTransaction(ctx context.Context, txid, blockHash string) (*RPCTx, error) {
	var tx RPCTx
	if err := r.named(ctx, &tx, "getrawtransaction", txid, blockHash, 0); err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(tx.RawHex)
	tx.Raw = raw
	return &tx, err
}

// GetNewAddress is a fresh receiving address from the node's wallet.
func (r *RPCClient) GetNewAddress(ctx context.Context) (string, error) {
	var v struct{ Address string }
	err := r.named(ctx, &v, "getnewaddress", "", "", 0)
	return v.Address, err
}

// AddressInfo is what validateaddress answered.
type AddressInfo struct {
	IsValid bool   `json:"is_valid"`
	Address string `json:"address"`
	Script  string `json:"script"`
}

// ValidateAddress is validateaddress ADDRESS.
func (r *RPCClient) ValidateAddress(ctx context.Context, address string) (AddressInfo, error) {
	var v AddressInfo
	err := r.named(ctx, &v, "validateaddress", address, "", 0)
	return v, err
}

// PaymentQuery asks whether TxID paid at least MinAmount to Script (or Address).
type PaymentQuery struct {
	TxID             string
	Script           []byte // or nil with Address set
	Address          string
	Network          int
	MinAmount        int64
	MinConfirmations int64
	SPV              bool   // also verify inclusion, proof of work and depth
	MinDifficulty    uint64 // SPV: 0 = the network's minimum
	BlockHash        string // the block it is believed to be in, or ""
}

// PaymentCheck is the answer of a payment check (icms_rpc_payment).
type PaymentCheck struct {
	Status        string   `json:"status"` // NOT_FOUND, UNCONFIRMED, CONFIRMED, INSUFFICIENT, CONFLICTED
	Amount        int64    `json:"amount"`
	Vouts         []uint32 `json:"vouts"`
	Confirmations int64    `json:"confirmations"`
	BlockHash     string   `json:"blockhash"`
	IsCoinbase    bool     `json:"is_coinbase"`
	SPVVerified   bool     `json:"spv_verified"`
	VerifiedDepth int64    `json:"verified_depth"`
	Pow           struct {
		Computed    bool   `json:"computed"`
		Gap         uint64 `json:"gap"`
		Merit       uint64 `json:"merit"`
		Achieved    uint64 `json:"achieved"`
		NDifficulty uint64 `json:"n_difficulty"`
	} `json:"pow"`
}

// CheckPayment is icms_rpc_check_payment: a status is an answer, not an
// error. ErrCorrupt when the node's data fails verification, ErrInvalid for
// a bad query.
func (r *RPCClient) CheckPayment(ctx context.Context, q PaymentQuery) (*PaymentCheck, error) {
	var a cargs
	defer a.free()
	txid, addr, block := a.str(q.TxID), a.opt(q.Address), a.opt(q.BlockHash)
	var script *C.uint8_t
	if len(q.Script) > 0 {
		p := C.CBytes(q.Script)
		a.ptrs = append(a.ptrs, p)
		script = (*C.uint8_t)(p)
	}
	spv := C.int(0)
	if q.SPV {
		spv = 1
	}
	var v PaymentCheck
	err := r.call(ctx, &v, func(c *C.icms_rpc_client, out **C.char) C.int {
		return C.icms_binding_rpc_check_payment(c, txid, script, C.size_t(len(q.Script)), addr, C.int(q.Network),
			C.int64_t(q.MinAmount), C.int64_t(q.MinConfirmations), spv, C.uint64_t(q.MinDifficulty), block, out)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}
