#ifndef ORCA_CLIBPQ_SHIM_H
#define ORCA_CLIBPQ_SHIM_H

// libpq 15. The header lives in /usr/include/postgresql on Debian and is found through `pkg-config libpq`.
#include <libpq-fe.h>

/// `PG_DIAG_SQLSTATE` is a character-literal macro; expose it as a typed constant for Swift.
static const int orca_pg_diag_sqlstate = PG_DIAG_SQLSTATE;
/// `PG_DIAG_MESSAGE_PRIMARY`, typed for Swift.
static const int orca_pg_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY;

#endif
