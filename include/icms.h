/*
 * libicms: container-import investment projects, funded and verified in Gapcoin.
 *
 * The umbrella header: include this one. Headers for those who write stores,
 * transports and other ports live in icms/sys/ and are not pulled in here.
 */
#ifndef ICMS_H
#define ICMS_H

#include "icms/common.h"

#endif
