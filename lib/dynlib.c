/*
 * dynlib.c - libarchive, libcurl, libcrypto and libjq, loaded when
 * first needed.  Linked into every program, the first two and the forty
 * libraries they bring (TLS, Kerberos, LDAP, ICU...) made each start
 * take about 13 ms more on our machines, and libcrypto alone 3.5 ms
 * (BENCHMARKS.md), paid by every stage of a pipeline and every
 * admission, although most runs read plain files from a directory
 * store and sign nothing.  A run that needs one loads it with dlopen(3)
 * by its ABI's soname, once.
 */
#define CURL_DISABLE_TYPECHECK	/* curl_easy_setopt a function, not a macro */

#include <dlfcn.h>

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <jq.h>

#include "dynlib.h"
#include "util.h"

void *dphp_la[DPHP_LA_N];
void *dphp_curl[DPHP_CURL_N];
void *dphp_crypto[DPHP_CRYPTO_N];
void *dphp_jq[DPHP_JQ_N];

/* load soname and the n functions named into fn, once: 0, or -1 after
 * a message (and again at the next call) */
static int
load(const char *soname, const char *const *names, void **fn, size_t n)
{
	void *h;
	size_t i;

	if (fn[n - 1] != NULL)
		return 0;
	if ((h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		dphp_error("cannot load %s: %s", soname, dlerror());
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((fn[i] = dlsym(h, names[i])) == NULL) {
			dphp_error("cannot load %s: it has no %s", soname,
			    names[i]);
			fn[n - 1] = NULL;
			return -1;
		}
	return 0;
}

int
dphp_archive_load(void)
{
	static const char *const names[DPHP_LA_N] = {
		"archive_entry_filetype",
		"archive_entry_free",
		"archive_entry_hardlink",
		"archive_entry_new",
		"archive_entry_pathname",
		"archive_entry_set_filetype",
		"archive_entry_set_gid",
		"archive_entry_set_mtime",
		"archive_entry_set_pathname",
		"archive_entry_set_perm",
		"archive_entry_set_size",
		"archive_entry_set_uid",
		"archive_entry_size",
		"archive_entry_size_is_set",
		"archive_error_string",
		"archive_format",
		"archive_read_data",
		"archive_read_free",
		"archive_read_new",
		"archive_read_next_header",
		"archive_read_open_fd",
		"archive_read_support_filter_all",
		"archive_read_support_format_empty",
		"archive_read_support_format_raw",
		"archive_read_support_format_tar",
		"archive_write_add_filter_by_name",
		"archive_write_close",
		"archive_write_data",
		"archive_write_fail",
		"archive_write_free",
		"archive_write_header",
		"archive_write_new",
		"archive_write_open_fd",
		"archive_write_set_bytes_in_last_block",
		"archive_write_set_filter_option",
		"archive_write_set_format_pax_restricted",
	};

	return load("libarchive.so.13", names, dphp_la, DPHP_LA_N);
}

int
dphp_curl_load(void)
{
	static const char *const names[DPHP_CURL_N] = {
		"curl_easy_cleanup",
		"curl_easy_getinfo",
		"curl_easy_init",
		"curl_easy_perform",
		"curl_easy_setopt",
		"curl_easy_strerror",
		"curl_slist_append",
		"curl_slist_free_all",
	};

	return load("libcurl.so.4", names, dphp_curl, DPHP_CURL_N);
}

int
dphp_crypto_load(void)
{
	static const char *const names[DPHP_CRYPTO_N] = {
		"CRYPTO_memcmp",
		"EVP_sha256",
		"HMAC",
	};

	return load("libcrypto.so.3", names, dphp_crypto, DPHP_CRYPTO_N);
}

int
dphp_jq_load(void)
{
	static const char *const names[DPHP_JQ_N] = {
		"jq_compile",
		"jq_get_error_message",
		"jq_get_exit_code",
		"jq_halt",
		"jq_halted",
		"jq_init",
		"jq_next",
		"jq_set_debug_cb",
		"jq_set_error_cb",
		"jq_start",
		"jq_teardown",
		"jv_copy",
		"jv_dump_string",
		"jv_free",
		"jv_get_kind",
		"jv_invalid",
		"jv_invalid_get_msg",
		"jv_invalid_has_msg",
		"jv_number_value",
		"jv_parse_sized",
		"jv_string_length_bytes",
		"jv_string_value",
	};

	return load("libjq.so.1", names, dphp_jq, DPHP_JQ_N);
}
