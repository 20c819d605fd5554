/*
 * The domain: pure rules, no I/O. The application layer asks these functions
 * before it writes anything; they take values and return values.
 *   machine.h              the table engine and the party mask
 *   project_rules.h        the project lifecycle
 *   participation_rules.h  participation requests
 *   payment_rules.h        payments (and when one is late)
 *   read_rules.h           who may see a project, who may list which records
 *   money.h                funding target, landed costs, distributions, caps, outcomes
 */
#ifndef ICMS_DOMAIN_H
#define ICMS_DOMAIN_H

#include "domain/machine.h"
#include "domain/money.h"
#include "domain/participation_rules.h"
#include "domain/payment_rules.h"
#include "domain/project_rules.h"
#include "domain/read_rules.h"

#endif
