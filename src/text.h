/*
 * Text that comes from outside (file and archive member names, URLs, a
 * server's reason phrase, anything on the command line) as it may be shown:
 * UTF-8 decoding, and the escaping that keeps a terminal or a log from
 * acting on what it holds.  Pure: no I/O, no allocation.
 */
#ifndef RINGCAST_TEXT_H
#define RINGCAST_TEXT_H

#include <stddef.h>

/* The UTF-8 sequence at p (n bytes left, n > 0): its length, with its code
 * point in *cp, or 0 if it is not a valid one (RFC 3629, 4: no overlong
 * forms, no surrogates, nothing past U+10FFFF). */
size_t text_utf8_seq(const unsigned char *p, size_t n, unsigned *cp);

/* s rendered for a terminal or a log line, into buf (len bytes, len > 0;
 * NUL-terminated); returns buf.  Printable UTF-8 is kept as it is, so names
 * in any script read as they are.  Escaped, so that nothing in s can move
 * the cursor, change colours or the window title, start a new line or
 * pass for another character: a backslash as "\\"; tab, newline and
 * carriage return as "\t", "\n", "\r"; every other C0 control, DEL, a C1
 * control (U+0080 to U+009F, which some terminals obey as ESC sequences),
 * a bidirectional formatting character (U+202A to U+202E, U+2066 to
 * U+2069, which reorder what follows) and every byte that is not part of
 * valid UTF-8 as "\xNN" per byte (lower-case hex), the form bash's $'...'
 * reads back.  What does not fit in buf is cut at a character's end. */
const char *text_escape(const char *s, char *buf, size_t len);

#endif
