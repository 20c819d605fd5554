/* Reference-counted, thread-safe library initialisation. */
#include <pthread.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "core.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_count;

static void *cjson_malloc(size_t size)
{
    return icms__malloc(size);
}

static void cjson_free(void *ptr)
{
    icms__free(ptr);
}

int icms_init(void)
{
    int result;
    pthread_mutex_lock(&init_lock);
    if (init_count == 0) {
        /* sodium_init is itself idempotent; < 0 means no usable randomness. */
        if (sodium_init() < 0) {
            pthread_mutex_unlock(&init_lock);
            return icms__error(ICMS_ERROR, "libsodium could not be initialised");
        }
        cJSON_Hooks hooks = {cjson_malloc, cjson_free};
        cJSON_InitHooks(&hooks);
    }
    result = ++init_count;
    pthread_mutex_unlock(&init_lock);
    return result;
}

int icms_shutdown(void)
{
    int result;
    pthread_mutex_lock(&init_lock);
    if (init_count == 0) {
        pthread_mutex_unlock(&init_lock);
        return icms__error(ICMS_ERROR, "icms_shutdown without a matching icms_init");
    }
    result = --init_count;
    if (result == 0)
        cJSON_InitHooks(NULL);
    pthread_mutex_unlock(&init_lock);
    return result;
}

bool icms__initialized(void)
{
    pthread_mutex_lock(&init_lock);
    bool yes = init_count > 0;
    pthread_mutex_unlock(&init_lock);
    return yes;
}

bool icms__init_lock_idle(void)
{
    pthread_mutex_lock(&init_lock);
    if (init_count == 0)
        return true;
    pthread_mutex_unlock(&init_lock);
    return false;
}

void icms__init_unlock(void)
{
    pthread_mutex_unlock(&init_lock);
}

const char *icms_version(void)
{
    return ICMS_VERSION;
}

int icms_version_number(void)
{
    return ICMS_VERSION_NUMBER;
}
