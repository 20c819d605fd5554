/* The clock port's two built-in clocks: the system's real time and a fake for tests. */
#include <stdatomic.h>
#include <time.h>

#include "core.h"
#include "icms/sys/clock.h"

static int64_t realtime_ms(void)
{
    struct timespec ts;
    /* CLOCK_REALTIME cannot fail on a supported system; report the epoch if it somehow does. */
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

static int64_t realtime_now(icms_clock *clock)
{
    (void)clock;
    return realtime_ms();
}

static void clock_free_self(icms_clock *clock)
{
    icms__free(clock->payload);
    icms__free(clock);
}

int icms_clock_realtime_new(icms_clock **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "clock: out may not be NULL");
    *out = NULL;
    icms_clock *clock = icms__malloc(sizeof *clock);
    if (!clock)
        return ICMS_ENOMEM;
    *clock = (icms_clock)ICMS_CLOCK_INIT;
    clock->now_ms = realtime_now;
    clock->free = clock_free_self;
    *out = clock;
    return ICMS_OK;
}

/* The fake clock's reading is atomic so a test thread may move it while others read it. */
struct fake_clock {
    _Atomic int64_t now;
};

static int64_t fake_now(icms_clock *clock)
{
    struct fake_clock *fake = clock->payload;
    return atomic_load(&fake->now);
}

int icms_clock_fake_new(int64_t start_ms, icms_clock **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "clock: out may not be NULL");
    *out = NULL;
    icms_clock *clock = icms__malloc(sizeof *clock);
    if (!clock)
        return ICMS_ENOMEM;
    struct fake_clock *fake = icms__malloc(sizeof *fake);
    if (!fake) {
        icms__free(clock);
        return ICMS_ENOMEM;
    }
    atomic_init(&fake->now, start_ms);
    *clock = (icms_clock)ICMS_CLOCK_INIT;
    clock->now_ms = fake_now;
    clock->free = clock_free_self;
    clock->payload = fake;
    *out = clock;
    return ICMS_OK;
}

static struct fake_clock *as_fake(icms_clock *clock)
{
    if (!clock || clock->now_ms != fake_now || !clock->payload)
        return NULL;
    return clock->payload;
}

int icms_clock_fake_set(icms_clock *clock, int64_t ms)
{
    struct fake_clock *fake = as_fake(clock);
    if (!fake)
        return icms__error(ICMS_EINVALID, "clock: not a fake clock");
    atomic_store(&fake->now, ms);
    return ICMS_OK;
}

int icms_clock_fake_advance(icms_clock *clock, int64_t delta_ms)
{
    struct fake_clock *fake = as_fake(clock);
    if (!fake)
        return icms__error(ICMS_EINVALID, "clock: not a fake clock");
    int64_t old = atomic_load(&fake->now);
    int64_t next;
    do {
        if (!icms__add_i64(old, delta_ms, &next))
            return icms__error(ICMS_EINVALID, "clock: advancing by %lld ms overflows",
                               (long long)delta_ms);
    } while (!atomic_compare_exchange_weak(&fake->now, &old, next));
    return ICMS_OK;
}

int64_t icms_clock_now(icms_clock *clock)
{
    if (!clock || !clock->now_ms)
        return realtime_ms();
    return clock->now_ms(clock);
}

void icms_clock_free(icms_clock *clock)
{
    if (clock && clock->free)
        clock->free(clock);
}
