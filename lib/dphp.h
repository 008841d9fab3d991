/*
 * dphp.h - the programs' interface to libdphp, the library shared by the
 * dphp-* programs: the umbrella of the topic headers they use.  Each
 * topic header is grouped by source file; each function has a one-line
 * summary there and its contract, where one is needed, in prose.  The
 * library's own files include the topic headers they use, and these
 * internal ones, which no program needs: acl.h, backend.h, check.h,
 * conf.h, dirstore.h, etcd.h, etcd_kv.h, journal.h,
 * journal_dir.h, kinds.h, lockrec.h, qname.h, queue_dir.h,
 * queue_etcd.h, tarball.h.
 *
 * A function that can refuse its input says why in the caller's buffer
 * (char *why, size_t whysz), which may be NULL with 0 when the reason
 * is not wanted, and returns -1 (or NULL); it does not print.
 *
 * libdphp is a static, internal library: no ABI promise, not installed.
 */
#ifndef DPHP_H
#define DPHP_H

#include "util.h"
#include "ndjson.h"
#include "id.h"
#include "envelope.h"
#include "store.h"
#include "lock.h"
#include "authz.h"
#include "history.h"
#include "rebuild.h"
#include "snapshot.h"
#include "projection.h"
#include "file.h"
#include "progress.h"

#endif
