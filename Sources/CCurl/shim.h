#ifndef ORCA_CCURL_SHIM_H
#define ORCA_CCURL_SHIM_H

#include <curl/curl.h>

// Swift cannot call C variadic functions, so `curl_easy_setopt` and `curl_easy_getinfo` are unavailable.
// These typed, non-variadic wrappers forward to them; each one matches one of the argument types that
// libcurl documents for an option (long, char *, void *, curl_off_t, function pointer, curl_slist *).

/// `curl_easy_setopt` for options taking a `long` (flags, timeouts in ms, sizes).
static inline CURLcode orca_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// `curl_easy_setopt` for options taking a NUL-terminated string (libcurl copies it, except
/// `CURLOPT_POSTFIELDS`, which must outlive the transfer).
static inline CURLcode orca_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// `curl_easy_setopt` for options taking an opaque pointer (`CURLOPT_WRITEDATA`, `CURLOPT_ERRORBUFFER`, ...).
static inline CURLcode orca_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// `curl_easy_setopt` for options taking a `curl_off_t` (the `..._LARGE` size options).
static inline CURLcode orca_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// `curl_easy_setopt` for `CURLOPT_WRITEFUNCTION` and `CURLOPT_HEADERFUNCTION` (same signature).
static inline CURLcode orca_curl_setopt_write_callback(CURL *handle, CURLoption option,
                                                       curl_write_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

/// `curl_easy_setopt` for options taking a `struct curl_slist *` (`CURLOPT_HTTPHEADER`, ...).
static inline CURLcode orca_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *list) {
    return curl_easy_setopt(handle, option, list);
}

/// `curl_easy_getinfo` for `CURLINFO_LONG` items (e.g. `CURLINFO_RESPONSE_CODE`).
static inline CURLcode orca_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// `curl_easy_getinfo` for `CURLINFO_DOUBLE` items (e.g. `CURLINFO_TOTAL_TIME`).
static inline CURLcode orca_curl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// `curl_easy_getinfo` for `CURLINFO_OFF_T` items (e.g. `CURLINFO_TOTAL_TIME_T`).
static inline CURLcode orca_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// `curl_global_init(CURL_GLOBAL_DEFAULT)`; the flag is an expression macro Swift does not import.
static inline CURLcode orca_curl_global_init_default(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

#endif
