#ifndef ORCA_CHIREDIS_SHIM_H
#define ORCA_CHIREDIS_SHIM_H

// hiredis 0.14 (Debian 12). Swift cannot call the variadic entry points (`redisCommand`,
// `redisAppendCommand`, `redisFormatCommand`); use the binary-safe `...Argv` variants instead.
#include <hiredis/hiredis.h>

#endif
