/*
 * queue_gauges.h: the depth of the durable queues on /metrics.
 *
 * Every QUEUE_GAUGES_EVERY_S a ticker counts, in the shared database, the
 * jobs waiting to run and those that failed for good, and the outbox mails
 * waiting to go and those given up on; the counts become the gauges
 * hwc3d_jobs_queued, hwc3d_jobs_failed, hwc3d_mail_outbox_queued and
 * hwc3d_mail_outbox_failed.  Each instance reports the same shared
 * numbers, as an exporter of a shared queue does.  The counts use the
 * (status, ...) indexes of both tables.
 */
#ifndef HWC_QUEUE_GAUGES_H
#define HWC_QUEUE_GAUGES_H

#include "../db/db.h"

#define QUEUE_GAUGES_EVERY_S 5

/* One count now (the ticker's run; also for tests). */
void queue_gauges_sample(db_t *db);
void queue_gauges_start(void);
void queue_gauges_stop(void);

#endif
