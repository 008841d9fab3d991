/*
 * dynlib.h - shared libraries loaded when first needed (dynlib.c):
 * libarchive, for compressed or archived input, snapshots and journal
 * archives; libcurl, for the etcd store; libcrypto, for signing keys;
 * libjq, for handlers written in jq.  A file that calls one includes
 * this header after the library's own, so that each call goes through
 * the table loaded by dphp_archive_load, dphp_curl_load,
 * dphp_crypto_load or dphp_jq_load (0, or -1 after a message), which it
 * calls first.
 */
#ifndef DPHP_DYNLIB_H
#define DPHP_DYNLIB_H

/* each part only after its library's header, whose declarations the
 * casts below take their types from */
#ifdef ARCHIVE_VERSION_NUMBER
enum {
	DPHP_LA_archive_entry_filetype,
	DPHP_LA_archive_entry_free,
	DPHP_LA_archive_entry_hardlink,
	DPHP_LA_archive_entry_new,
	DPHP_LA_archive_entry_pathname,
	DPHP_LA_archive_entry_set_filetype,
	DPHP_LA_archive_entry_set_gid,
	DPHP_LA_archive_entry_set_mtime,
	DPHP_LA_archive_entry_set_pathname,
	DPHP_LA_archive_entry_set_perm,
	DPHP_LA_archive_entry_set_size,
	DPHP_LA_archive_entry_set_uid,
	DPHP_LA_archive_entry_size,
	DPHP_LA_archive_entry_size_is_set,
	DPHP_LA_archive_error_string,
	DPHP_LA_archive_format,
	DPHP_LA_archive_read_data,
	DPHP_LA_archive_read_free,
	DPHP_LA_archive_read_new,
	DPHP_LA_archive_read_next_header,
	DPHP_LA_archive_read_open_fd,
	DPHP_LA_archive_read_support_filter_all,
	DPHP_LA_archive_read_support_format_empty,
	DPHP_LA_archive_read_support_format_raw,
	DPHP_LA_archive_read_support_format_tar,
	DPHP_LA_archive_write_add_filter_by_name,
	DPHP_LA_archive_write_close,
	DPHP_LA_archive_write_data,
	DPHP_LA_archive_write_fail,
	DPHP_LA_archive_write_free,
	DPHP_LA_archive_write_header,
	DPHP_LA_archive_write_new,
	DPHP_LA_archive_write_open_fd,
	DPHP_LA_archive_write_set_bytes_in_last_block,
	DPHP_LA_archive_write_set_filter_option,
	DPHP_LA_archive_write_set_format_pax_restricted,
	DPHP_LA_N
};
extern void *dphp_la[DPHP_LA_N];
int dphp_archive_load(void);
#define archive_entry_filetype ((__typeof__(archive_entry_filetype) *)dphp_la[DPHP_LA_archive_entry_filetype])
#define archive_entry_free ((__typeof__(archive_entry_free) *)dphp_la[DPHP_LA_archive_entry_free])
#define archive_entry_hardlink ((__typeof__(archive_entry_hardlink) *)dphp_la[DPHP_LA_archive_entry_hardlink])
#define archive_entry_new ((__typeof__(archive_entry_new) *)dphp_la[DPHP_LA_archive_entry_new])
#define archive_entry_pathname ((__typeof__(archive_entry_pathname) *)dphp_la[DPHP_LA_archive_entry_pathname])
#define archive_entry_set_filetype ((__typeof__(archive_entry_set_filetype) *)dphp_la[DPHP_LA_archive_entry_set_filetype])
#define archive_entry_set_gid ((__typeof__(archive_entry_set_gid) *)dphp_la[DPHP_LA_archive_entry_set_gid])
#define archive_entry_set_mtime ((__typeof__(archive_entry_set_mtime) *)dphp_la[DPHP_LA_archive_entry_set_mtime])
#define archive_entry_set_pathname ((__typeof__(archive_entry_set_pathname) *)dphp_la[DPHP_LA_archive_entry_set_pathname])
#define archive_entry_set_perm ((__typeof__(archive_entry_set_perm) *)dphp_la[DPHP_LA_archive_entry_set_perm])
#define archive_entry_set_size ((__typeof__(archive_entry_set_size) *)dphp_la[DPHP_LA_archive_entry_set_size])
#define archive_entry_set_uid ((__typeof__(archive_entry_set_uid) *)dphp_la[DPHP_LA_archive_entry_set_uid])
#define archive_entry_size ((__typeof__(archive_entry_size) *)dphp_la[DPHP_LA_archive_entry_size])
#define archive_entry_size_is_set ((__typeof__(archive_entry_size_is_set) *)dphp_la[DPHP_LA_archive_entry_size_is_set])
#define archive_error_string ((__typeof__(archive_error_string) *)dphp_la[DPHP_LA_archive_error_string])
#define archive_format ((__typeof__(archive_format) *)dphp_la[DPHP_LA_archive_format])
#define archive_read_data ((__typeof__(archive_read_data) *)dphp_la[DPHP_LA_archive_read_data])
#define archive_read_free ((__typeof__(archive_read_free) *)dphp_la[DPHP_LA_archive_read_free])
#define archive_read_new ((__typeof__(archive_read_new) *)dphp_la[DPHP_LA_archive_read_new])
#define archive_read_next_header ((__typeof__(archive_read_next_header) *)dphp_la[DPHP_LA_archive_read_next_header])
#define archive_read_open_fd ((__typeof__(archive_read_open_fd) *)dphp_la[DPHP_LA_archive_read_open_fd])
#define archive_read_support_filter_all ((__typeof__(archive_read_support_filter_all) *)dphp_la[DPHP_LA_archive_read_support_filter_all])
#define archive_read_support_format_empty ((__typeof__(archive_read_support_format_empty) *)dphp_la[DPHP_LA_archive_read_support_format_empty])
#define archive_read_support_format_raw ((__typeof__(archive_read_support_format_raw) *)dphp_la[DPHP_LA_archive_read_support_format_raw])
#define archive_read_support_format_tar ((__typeof__(archive_read_support_format_tar) *)dphp_la[DPHP_LA_archive_read_support_format_tar])
#define archive_write_add_filter_by_name ((__typeof__(archive_write_add_filter_by_name) *)dphp_la[DPHP_LA_archive_write_add_filter_by_name])
#define archive_write_close ((__typeof__(archive_write_close) *)dphp_la[DPHP_LA_archive_write_close])
#define archive_write_data ((__typeof__(archive_write_data) *)dphp_la[DPHP_LA_archive_write_data])
#define archive_write_fail ((__typeof__(archive_write_fail) *)dphp_la[DPHP_LA_archive_write_fail])
#define archive_write_free ((__typeof__(archive_write_free) *)dphp_la[DPHP_LA_archive_write_free])
#define archive_write_header ((__typeof__(archive_write_header) *)dphp_la[DPHP_LA_archive_write_header])
#define archive_write_new ((__typeof__(archive_write_new) *)dphp_la[DPHP_LA_archive_write_new])
#define archive_write_open_fd ((__typeof__(archive_write_open_fd) *)dphp_la[DPHP_LA_archive_write_open_fd])
#define archive_write_set_bytes_in_last_block ((__typeof__(archive_write_set_bytes_in_last_block) *)dphp_la[DPHP_LA_archive_write_set_bytes_in_last_block])
#define archive_write_set_filter_option ((__typeof__(archive_write_set_filter_option) *)dphp_la[DPHP_LA_archive_write_set_filter_option])
#define archive_write_set_format_pax_restricted ((__typeof__(archive_write_set_format_pax_restricted) *)dphp_la[DPHP_LA_archive_write_set_format_pax_restricted])
#endif

#ifdef CURLINC_CURL_H
enum {
	DPHP_CURL_curl_easy_cleanup,
	DPHP_CURL_curl_easy_getinfo,
	DPHP_CURL_curl_easy_init,
	DPHP_CURL_curl_easy_perform,
	DPHP_CURL_curl_easy_setopt,
	DPHP_CURL_curl_easy_strerror,
	DPHP_CURL_curl_slist_append,
	DPHP_CURL_curl_slist_free_all,
	DPHP_CURL_N
};
extern void *dphp_curl[DPHP_CURL_N];
int dphp_curl_load(void);
#define curl_easy_cleanup ((__typeof__(curl_easy_cleanup) *)dphp_curl[DPHP_CURL_curl_easy_cleanup])
#undef curl_easy_getinfo	/* curl.h makes it a macro */
#define curl_easy_getinfo ((__typeof__(curl_easy_getinfo) *)dphp_curl[DPHP_CURL_curl_easy_getinfo])
#define curl_easy_init ((__typeof__(curl_easy_init) *)dphp_curl[DPHP_CURL_curl_easy_init])
#define curl_easy_perform ((__typeof__(curl_easy_perform) *)dphp_curl[DPHP_CURL_curl_easy_perform])
#undef curl_easy_setopt	/* curl.h makes it a macro */
#define curl_easy_setopt ((__typeof__(curl_easy_setopt) *)dphp_curl[DPHP_CURL_curl_easy_setopt])
#define curl_easy_strerror ((__typeof__(curl_easy_strerror) *)dphp_curl[DPHP_CURL_curl_easy_strerror])
#define curl_slist_append ((__typeof__(curl_slist_append) *)dphp_curl[DPHP_CURL_curl_slist_append])
#define curl_slist_free_all ((__typeof__(curl_slist_free_all) *)dphp_curl[DPHP_CURL_curl_slist_free_all])
#endif

#ifdef OPENSSL_HMAC_H
enum {
	DPHP_CRYPTO_CRYPTO_memcmp,
	DPHP_CRYPTO_EVP_sha256,
	DPHP_CRYPTO_HMAC,
	DPHP_CRYPTO_N
};
extern void *dphp_crypto[DPHP_CRYPTO_N];
int dphp_crypto_load(void);
#define CRYPTO_memcmp ((__typeof__(CRYPTO_memcmp) *)dphp_crypto[DPHP_CRYPTO_CRYPTO_memcmp])
#define EVP_sha256 ((__typeof__(EVP_sha256) *)dphp_crypto[DPHP_CRYPTO_EVP_sha256])
#define HMAC ((__typeof__(HMAC) *)dphp_crypto[DPHP_CRYPTO_HMAC])
#endif

#ifdef JQ_H
enum {
	DPHP_JQ_jq_compile,
	DPHP_JQ_jq_get_error_message,
	DPHP_JQ_jq_get_exit_code,
	DPHP_JQ_jq_halt,
	DPHP_JQ_jq_halted,
	DPHP_JQ_jq_init,
	DPHP_JQ_jq_next,
	DPHP_JQ_jq_set_debug_cb,
	DPHP_JQ_jq_set_error_cb,
	DPHP_JQ_jq_start,
	DPHP_JQ_jq_teardown,
	DPHP_JQ_jv_copy,
	DPHP_JQ_jv_dump_string,
	DPHP_JQ_jv_free,
	DPHP_JQ_jv_get_kind,
	DPHP_JQ_jv_invalid,
	DPHP_JQ_jv_invalid_get_msg,
	DPHP_JQ_jv_invalid_has_msg,
	DPHP_JQ_jv_number_value,
	DPHP_JQ_jv_parse_sized,
	DPHP_JQ_jv_string_length_bytes,
	DPHP_JQ_jv_string_value,
	DPHP_JQ_N
};
extern void *dphp_jq[DPHP_JQ_N];
int dphp_jq_load(void);
#define jq_compile ((__typeof__(jq_compile) *)dphp_jq[DPHP_JQ_jq_compile])
#define jq_get_error_message ((__typeof__(jq_get_error_message) *)dphp_jq[DPHP_JQ_jq_get_error_message])
#define jq_get_exit_code ((__typeof__(jq_get_exit_code) *)dphp_jq[DPHP_JQ_jq_get_exit_code])
#define jq_halt ((__typeof__(jq_halt) *)dphp_jq[DPHP_JQ_jq_halt])
#define jq_halted ((__typeof__(jq_halted) *)dphp_jq[DPHP_JQ_jq_halted])
#define jq_init ((__typeof__(jq_init) *)dphp_jq[DPHP_JQ_jq_init])
#define jq_next ((__typeof__(jq_next) *)dphp_jq[DPHP_JQ_jq_next])
#define jq_set_debug_cb ((__typeof__(jq_set_debug_cb) *)dphp_jq[DPHP_JQ_jq_set_debug_cb])
#define jq_set_error_cb ((__typeof__(jq_set_error_cb) *)dphp_jq[DPHP_JQ_jq_set_error_cb])
#define jq_start ((__typeof__(jq_start) *)dphp_jq[DPHP_JQ_jq_start])
#define jq_teardown ((__typeof__(jq_teardown) *)dphp_jq[DPHP_JQ_jq_teardown])
#define jv_copy ((__typeof__(jv_copy) *)dphp_jq[DPHP_JQ_jv_copy])
#define jv_dump_string ((__typeof__(jv_dump_string) *)dphp_jq[DPHP_JQ_jv_dump_string])
#define jv_free ((__typeof__(jv_free) *)dphp_jq[DPHP_JQ_jv_free])
#define jv_get_kind ((__typeof__(jv_get_kind) *)dphp_jq[DPHP_JQ_jv_get_kind])
#define jv_invalid ((__typeof__(jv_invalid) *)dphp_jq[DPHP_JQ_jv_invalid])
#define jv_invalid_get_msg ((__typeof__(jv_invalid_get_msg) *)dphp_jq[DPHP_JQ_jv_invalid_get_msg])
#define jv_invalid_has_msg ((__typeof__(jv_invalid_has_msg) *)dphp_jq[DPHP_JQ_jv_invalid_has_msg])
#define jv_number_value ((__typeof__(jv_number_value) *)dphp_jq[DPHP_JQ_jv_number_value])
#define jv_parse_sized ((__typeof__(jv_parse_sized) *)dphp_jq[DPHP_JQ_jv_parse_sized])
#define jv_string_length_bytes ((__typeof__(jv_string_length_bytes) *)dphp_jq[DPHP_JQ_jv_string_length_bytes])
#define jv_string_value ((__typeof__(jv_string_value) *)dphp_jq[DPHP_JQ_jv_string_value])
#endif

#endif
