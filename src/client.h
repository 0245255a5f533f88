/*
 * One connection of serve mode, from accept to close: read a request,
 * parse it, answer it (http.c decides the response), send the head and the
 * blob's bytes (sendfile), and at the end linger until the client has
 * everything.  Raw TCP (no --http): the first blob, then a clean end.  What
 * happens goes up through struct client_ops; the list of clients and what
 * is counted are the server's.
 */
#ifndef RINGCAST_CLIENT_H
#define RINGCAST_CLIENT_H

#include "catalog.h"
#include "http.h"
#include "loop.h"

#include <stddef.h>
#include <stdint.h>

struct client;

/* Each is called with client_env.arg, on the loop's thread. */
struct client_ops {
	/* A response: begun (HTTP; error when its status is 400 or more), or
	 * sent whole (raw TCP, never an error). */
	void (*answered)(void *arg, int error);
	/* n more bytes went out. */
	void (*sent)(void *arg, uint64_t n);
	/* c is gone, its socket closed; it is freed when this returns.
	 * failed: it broke off, timed out or could not be served; else it
	 * ended cleanly (between requests, or after its last response). */
	void (*left)(void *arg, struct client *c, int failed);
};

/* What every client of one server shares: the server fills it, owns it,
 * and sets draining and calls client_clock between events. */
struct client_env {
	struct loop *loop;
	const struct catalog *cat;
	int http;                   /* --http; else raw TCP */
	size_t max_header;          /* --max-header (bytes) */
	uint64_t header_timeout_ms; /* --header-timeout */
	uint64_t idle_timeout_ms;   /* --idle-timeout */
	char *path;                 /* max_header + 1 bytes for a decoded path */
	char date[48];              /* "Date: ...\r\n", of now (client_clock) */
	int64_t now;                /* seconds since the epoch, for dates */
	int draining;               /* no request after the ones in hand */
	const struct client_ops *ops;
	void *arg;
};

enum client_state {
	C_READ,
	C_SEND,
	C_CLOSING
};

struct client {
	struct client *prev, *next; /* the server's list: its own */
	/* The rest is client.c's. */
	struct loop_io io;
	struct client_env *env;
	enum client_state state;
	uint64_t deadline;        /* now_ms() when the sweep gives up on it */
	char head[HTTP_HEAD_MAX]; /* the response head being sent */
	size_t head_len, head_off;
	const struct blob *body;
	uint64_t body_off, body_end;
	int close_after; /* end the connection after this response */
	int corked;      /* TCP_CORK is on for a large body */
	int readable;    /* EPOLLIN seen since recv last found nothing */
	int answered;    /* a response was begun: between requests it is idle */
	char *rbuf;      /* request bytes, max_header of them */
	size_t rlen, consumed;
};

/* Bring env's Date line up to the current second. */
void client_clock(struct client_env *env);

/* A client for connection fd (which it owns from now on, and closes when
 * there is no memory: NULL).  Link it, then client_start. */
struct client *client_new(struct client_env *env, int fd);

/* Watch its socket and begin: read a request (HTTP) or send the first
 * blob.  c may be gone (ops->left) when it returns. */
void client_start(struct client *c);

/* Is c waiting for a request (not in a response nor closing)?  And has
 * none begun (between requests: nothing of it lost if c ends)? */
int client_waiting(const struct client *c);
int client_between(const struct client *c);

/* End c now: its socket is closed and ops->left is told failed. */
void client_end(struct client *c, int failed);

/* The periodic check (every few hundred ms): give up on a deadline passed
 * (now: now_ms()), free the request buffer of a client between requests,
 * let a lingering one go once the client has everything.  c may be gone. */
void client_sweep(struct client *c, uint64_t now);

#endif
