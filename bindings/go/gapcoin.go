package icms

// #include "shim.h"
import "C"

import "unsafe"

// Gapcoin networks and node generations (icms_gapcoin_network_t, icms_gapcoin_node_t).
const (
	Mainnet  = int(C.ICMS_GAPCOIN_MAIN)
	Testnet  = int(C.ICMS_GAPCOIN_TEST)
	Node0_9  = int(C.ICMS_GAPCOIN_NODE_0_9)
	Node0_16 = int(C.ICMS_GAPCOIN_NODE_0_16)
	Node2606 = int(C.ICMS_GAPCOIN_NODE_2606)
)

// mallocText runs f, which answers text allocated with malloc, and returns it as a Go string.
func mallocText(f func(out **C.char) C.int) (string, error) {
	var out *C.char
	var text string
	err := callRC(func() C.int {
		rc := f(&out)
		if out != nil {
			text = C.GoString(out)
			C.free(unsafe.Pointer(out))
		}
		return rc
	})
	return text, err
}

// TxDecode is icms_gapcoin_tx_decode as a Result: txid, wtxid, version,
// locktime, size, base_size, has_witness, coinbase, total_out, inputs and
// outputs (value, script in hex, type, and the address a node of that
// network and generation shows, when the script has one).
func TxDecode(raw []byte, network, node int) (Result, error) {
	p, n := bytesArg(raw)
	text, err := mallocText(func(out **C.char) C.int {
		return C.icms_binding_gapcoin_tx_json(p, n, C.int(network), C.int(node), out)
	})
	if err != nil {
		return nil, err
	}
	return decode(text)
}

// HeaderDecode is icms_gapcoin_header_decode as a Result (hashes in display order, adder in hex).
func HeaderDecode(raw []byte) (Result, error) {
	p, n := bytesArg(raw)
	text, err := mallocText(func(out **C.char) C.int {
		return C.icms_binding_gapcoin_header_json(p, n, out)
	})
	if err != nil {
		return nil, err
	}
	return decode(text)
}

// AddressToScript is icms_gapcoin_address_to_script: the output script an address expects.
func AddressToScript(address string, network int) ([]byte, error) {
	c := C.CString(address)
	defer C.free(unsafe.Pointer(c))
	var script *C.uint8_t
	var n C.size_t
	var b []byte
	err := callRC(func() C.int {
		rc := C.icms_gapcoin_address_to_script(c, C.icms_gapcoin_network_t(network), &script, &n)
		if script != nil {
			b = C.GoBytes(unsafe.Pointer(script), C.int(n))
			C.icms_free(unsafe.Pointer(script))
		}
		return rc
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ScriptToAddress is icms_gapcoin_script_to_address: the address a node of
// that network and generation shows for script; ErrNotFound when none.
func ScriptToAddress(script []byte, network, node int) (string, error) {
	p, n := bytesArg(script)
	var address string
	err := callRC(func() C.int {
		var out *C.char
		rc := C.icms_gapcoin_script_to_address(p, n, C.icms_gapcoin_network_t(network),
			C.icms_gapcoin_node_t(node), &out)
		if out != nil {
			address = C.GoString(out)
			C.icms_free(unsafe.Pointer(out))
		}
		return rc
	})
	return address, err
}
