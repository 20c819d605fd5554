/*
 * libicms: container-import investment projects, funded and verified in Gapcoin.
 *
 * The umbrella header: include this one. Headers for those who write stores,
 * clocks, transports and other ports live in icms/sys/ and are not pulled in
 * here (icms/rpc.h brings icms/sys/transport.h, since an RPC client is built
 * on a transport).
 */
#ifndef ICMS_H
#define ICMS_H

#include "icms/common.h"
#include "icms/types.h"
#include "icms/util.h"

#include "icms/db.h"
#include "icms/request.h"

#include "icms/users.h"
#include "icms/auth.h"
#include "icms/projects.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/events.h"
#include "icms/audit.h"

#include "icms/gapcoin.h"
#include "icms/rpc.h"

#endif
