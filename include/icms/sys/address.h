/*
 * The address-provider port: where a payment's receiving address comes from.
 *
 * By default libicms asks the Gapcoin node (getnewaddress over the RPC
 * client given at icms_open). A host that keeps its own wallet supplies a
 * provider instead. Not included by icms.h.
 */
#ifndef ICMS_SYS_ADDRESS_H
#define ICMS_SYS_ADDRESS_H

#include "icms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct icms_address_provider {
    unsigned int version; /**< ICMS_ADDRESS_PROVIDER_VERSION */
    /**
     * A fresh receiving address for a payment to project_id (UUID text).
     * *address_out is allocated with the library's allocator (icms_... the
     * host may use a copy made with its own and return it through
     * icms_address_dup()). Return ICMS_OK or a negative code (ICMS_ETRANSPORT
     * when the wallet cannot be reached); the library never produces
     * ICMS_EUSER, so a provider may use it to stop.
     * Called outside any store transaction.
     */
    int (*next_address)(struct icms_address_provider *self, const char *project_id,
                        char **address_out);
    /** Release the provider; may be NULL. */
    void (*free)(struct icms_address_provider *self);
    void *payload; /**< the provider's own; the library never reads it */
} icms_address_provider;

#define ICMS_ADDRESS_PROVIDER_VERSION 1
#define ICMS_ADDRESS_PROVIDER_INIT {ICMS_ADDRESS_PROVIDER_VERSION, NULL, NULL, NULL}

/** A copy of address made with the library's allocator, for next_address to return. */
ICMS_EXTERN char *icms_address_dup(const char *address);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_SYS_ADDRESS_H */
