/* Ending a project's open participation requests when the project ends. */
#ifndef ICMS_SRC_APP_PARTICIPATION_END_H
#define ICMS_SRC_APP_PARTICIPATION_END_H

#include "app/command.h"

/*
 * Every PENDING or APPROVED request of project becomes CANCELLED, with its
 * audit entry and participation.cancelled event, in the command's transaction.
 */
int icms__participations_end(icms__cmd *cmd, const cJSON *project);

#endif
