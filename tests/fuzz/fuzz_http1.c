/* fuzz_http1.c - the HTTP/1.1 answer parser of lib/vault_h1.c (status
 * line, headers, Content-Length, chunked bodies, 1xx answers), fed through
 * a socket pair exactly as a server's bytes arrive.
 *
 * Invariants: an answer that parses has a status of three digits and a
 * body no longer than the input; a failure names a transport error (a
 * CURLcode) with a message; a body given by Content-Length is the bytes
 * after the head, a chunked one their decoding (never longer).
 */
#include "fuzz.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vault_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vault v;
	struct vault_req r;
	int sv[2], rc;

	/* A socket buffer holds this much without a reader. */
	if (size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	memset(&v, 0, sizeof(v));
	v.set.timeout_ms = 1000;
	v.h1.fd = -1;
	vault_req_init(&r, "GET");
	r.deadline = vault_now_ms() + 1000;
	rc = vault_h1_read_answer(&v, &r, sv[0]);
	if (rc == 0) {
		FUZZ_CHECK(r.status >= 100 && r.status <= 999, "status %ld",
			   r.status);
		FUZZ_CHECK(r.resp.len <= size, "body %zu of %zu", r.resp.len,
			   size);
		FUZZ_CHECK(r.resp.data == NULL || r.resp.data[r.resp.len] == 0,
			   "body not terminated");
	} else {
		FUZZ_CHECK(r.cc != CURLE_OK && r.curl_msg[0], "rc %d cc %d",
			   rc, (int)r.cc);
	}
	vault_req_release(&r);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
