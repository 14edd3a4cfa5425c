/* fts_tier.h: hwc_tier(), the search's relevance tier on SQLite (fts_tier.c). */
#ifndef HWC_FTS_TIER_H
#define HWC_FTS_TIER_H

#include <sqlite3.h>
#include <stdbool.h>

/* Registers hwc_tier on the connection; false when FTS5 is missing. */
bool fts_tier_register(sqlite3 *h);

#endif
