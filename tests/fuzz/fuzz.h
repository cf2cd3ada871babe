/* fuzz.h - what the libFuzzer targets share.
 *
 * A target checks invariants besides "does not crash": FUZZ_CHECK aborts
 * with the failed condition, which libFuzzer records as a crash with the
 * input that caused it.
 */
#ifndef VC_FUZZ_H
#define VC_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, \
			__LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* A NUL-terminated heap copy of the input (text parsers take C strings;
 * the copy is exactly size + 1 bytes so that AddressSanitizer sees any
 * read past the end). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An error return must carry its code and a message. */
static inline void fuzz_check_err(int rc, const struct vc_err *e)
{
	FUZZ_CHECK(rc <= 0, "rc %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(e->code == rc, "rc %d but e->code %d", rc, e->code);
		FUZZ_CHECK(e->msg[0] != '\0', "rc %d with an empty message", rc);
		FUZZ_CHECK(memchr(e->msg, '\0', sizeof(e->msg)) != NULL,
			   "message not terminated");
	}
}

#endif
