// SPDX-License-Identifier: Apache-2.0
/*
 * of_floor: the FLOW_MOD benchmark's floor row (bench/vswd/flow-mod.sh). The least an
 * OpenFlow 1.3 switch can do for `ovs-ofctl add-flows`: listen on a Unix socket, send
 * HELLO, then read each message whole and answer what the client waits for (BARRIER and
 * ECHO requests, FEATURES, and every multipart request (ovs-ofctl 3.1 asks for the table
 * features first) with OFPBRC_BAD_MULTIPART), dropping everything else unparsed.
 * Whatever ovs-ofctl and the kernel spend per rule against it is in every switch's
 * count too, so a switch's own cost is its count minus this one.
 *   of_floor PATH        (serves one connection after another until killed)
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { OFP13 = 4, HELLO = 0, ERROR = 1, ECHO_REQUEST = 2, ECHO_REPLY = 3, FEATURES_REQUEST = 5,
       FEATURES_REPLY = 6, MULTIPART_REQUEST = 18, MULTIPART_REPLY = 19, BARRIER_REQUEST = 20,
       BARRIER_REPLY = 21 };

struct ofp_header {
	uint8_t version, type;
	uint16_t length;
	uint32_t xid;
};

static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int reply(int fd, uint8_t type, uint32_t xid, const void *body, uint16_t len)
{
	unsigned char out[8 + 128];
	struct ofp_header h = { OFP13, type, htons((uint16_t)(8 + len)), xid };

	memcpy(out, &h, 8);
	if (len)
		memcpy(out + 8, body, len);
	return write(fd, out, 8 + len) == 8 + len ? 0 : -1;
}

static void serve(int fd)
{
	static unsigned char body[65536];
	unsigned char features[24] = { 0 };
	struct ofp_header h;

	if (reply(fd, HELLO, 0, NULL, 0))
		return;
	features[7] = 1; /* datapath id 1 */
	features[12] = 254; /* n_tables */
	while (!read_full(fd, &h, sizeof(h))) {
		uint16_t len = ntohs(h.length);

		if (len < 8 || read_full(fd, body, len - 8u))
			return;
		if (h.type == BARRIER_REQUEST && reply(fd, BARRIER_REPLY, h.xid, NULL, 0))
			return;
		if (h.type == ECHO_REQUEST && reply(fd, ECHO_REPLY, h.xid, NULL, 0))
			return;
		if (h.type == FEATURES_REQUEST &&
		    reply(fd, FEATURES_REPLY, h.xid, features, sizeof(features)))
			return;
		if (h.type == MULTIPART_REQUEST) {
			/* OFPET_BAD_REQUEST, OFPBRC_BAD_MULTIPART, the request's header */
			unsigned char err[4 + 8] = { 0, 1, 0, 2 };

			memcpy(err + 4, &h, 8);
			if (reply(fd, ERROR, h.xid, err, sizeof(err)))
				return;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int l;

	if (argc != 2 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: of_floor SOCKET-PATH\n");
		return 2;
	}
	strcpy(a.sun_path, argv[1]);
	unlink(argv[1]);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4)) {
		perror("of_floor");
		return 1;
	}
	for (;;) {
		int fd = accept(l, NULL, NULL);

		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
}
