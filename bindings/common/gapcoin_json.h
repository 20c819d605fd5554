/*
 * Gapcoin decoding for the bindings, as JSON text: the C API decodes into
 * structs (icms/gapcoin.h), which every binding would otherwise have to
 * walk in its own language. Shared by the SWIG interface (Python, Node) and
 * the Go shim; it only formats what the library decoded.
 *
 * Results come through *out, allocated with malloc: free them with free()
 * (not icms_free: a host may have replaced the library's allocator).
 */
#ifndef ICMS_BINDING_GAPCOIN_JSON_H
#define ICMS_BINDING_GAPCOIN_JSON_H

#include <stddef.h>
#include <stdint.h>

/*
 * A serialized transaction as {"txid","wtxid","version","locktime","size",
 * "base_size","has_witness","coinbase","total_out","inputs":[{"prev_txid",
 * "vout","script_sig","sequence","witness":[hex...]}],"outputs":[{"value",
 * "script","type","address"?}]}: hashes in display order, scripts in hex,
 * values in base units; an output's address as a node of that network and
 * generation shows it (absent when it has none).
 * Errors: icms_gapcoin_tx_decode's, ICMS_EINVALID for an unknown network or
 * node, ICMS_ENOMEM.
 */
int icms_binding_gapcoin_tx_json(const uint8_t *in_bytes, size_t in_len, int network, int node,
                                 char **malloc_out);

/*
 * A serialized header as {"hash","version","prev_hash","merkle_root","time",
 * "n_difficulty","nonce","shift","adder","size"} (hashes in display order,
 * nAdd in hex, little-endian as serialized). Errors: icms_gapcoin_header_decode's.
 */
int icms_binding_gapcoin_header_json(const uint8_t *in_bytes, size_t in_len, char **malloc_out);

/* The output script an address expects, in hex (icms_gapcoin_address_to_script). */
int icms_binding_gapcoin_address_to_script_hex(const char *address, int network,
                                               char **malloc_out);

#endif
