# ringcast: see README.md.  `make`, `make check`, `make check-asan`, `make install`.
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BASHDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHDIR  ?= $(PREFIX)/share/zsh/vendor-completions
FISHDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE
# zlib decodes gzip itself (src/archive_gz.c): libarchive's reader does not
# check the CRC-32 and ISIZE.  libcrypto hashes the stream (--digest, src/digest.c).
LDLIBS  += $(shell pkg-config --libs liburing libcurl libarchive zlib libcrypto 2>/dev/null || \
             echo -luring -lcurl -larchive -lz -lcrypto) -lpthread

# Debug only, never for use: `make RECLAIM_ON_SEND=1` lets the zero-copy
# transports reuse ring space on the send result instead of the kernel's
# completion, so that the reuse tests can be seen to fail (tests/reuse.bats).
ifeq ($(RECLAIM_ON_SEND),1)
CPPFLAGS += -DRINGCAST_RECLAIM_ON_SEND
endif

# Build directory: `make B=build-asan SAN=1` builds a sanitized copy beside the normal one.
B ?= build
ifeq ($(SAN),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Every source file but main.c: a new module needs no line here.
LIB_SRCS = $(filter-out src/main.c,$(sort $(wildcard src/*.c)))
LIB_OBJS = $(LIB_SRCS:src/%.c=$(B)/%.o)
UNIT     = $(B)/test_ring $(B)/test_parse $(B)/test_cli $(B)/test_http $(B)/test_format $(B)/test_text $(B)/test_digest $(B)/test_frame $(B)/test_tree

# The bash, zsh and fish completions, from one list of the options
# (tests/docs.bats checks it against the table in src/cli.h).
COMPLETIONS = $(B)/ringcast.bash $(B)/_ringcast $(B)/ringcast.fish

all: $(B)/ringcast $(COMPLETIONS)

$(B):
	mkdir -p $@

$(B)/%.o: src/%.c src/*.h | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(B)/ringcast: $(B)/main.o $(LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/test_%: tests/unit/test_%.c tests/unit/tap.h $(LIB_OBJS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -Isrc -o $@ $< $(LIB_OBJS) $(LDFLAGS) $(LDLIBS)

$(COMPLETIONS): completions/ringcast.options completions/gen.awk | $(B)
	awk -v shell=$(if $(filter %.bash,$@),bash,$(if $(filter %.fish,$@),fish,zsh)) \
	  -f completions/gen.awk completions/ringcast.options > $@.tmp && mv $@.tmp $@

# tests/sources.bats reads from it: a FUSE file whose reads fail part way.
$(B)/flakyfs: tests/helpers/flakyfs.c | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(shell pkg-config --cflags fuse3) -o $@ $< \
	  $(shell pkg-config --libs fuse3)

# The whole suite: C unit tests and the bats tests of the real binary, all
# TAP, run by prove.
check: $(B)/ringcast $(UNIT) $(B)/flakyfs
	RINGCAST=$(abspath $(B)/ringcast) FLAKYFS=$(abspath $(B)/flakyfs) RINGCAST_SANITIZED=$(SAN) \
	  prove --comments --exec tests/tap-exec $(UNIT) tests/*.bats

check-asan:
	$(MAKE) B=build-asan SAN=1 check

# Fuzz every parser (clang's libFuzzer, with ASan and UBSan), each for
# FUZZ_TIME seconds from its seed corpus tests/fuzz/corpus-NAME and its
# dictionary tests/fuzz/NAME.dict: http (requests, ranges, ETags), args
# (sizes, durations, DEST, -l, --allow, --dests-from lines), member (archive
# member names), frame (the framed protocol's headers, trailers, verdicts).
# A crash stops it and leaves the input in build-fuzz/.
FUZZ_TIME ?= 60
FUZZ_FLAGS = $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc
fuzz:
	mkdir -p build-fuzz
	clang $(FUZZ_FLAGS) -o build-fuzz/fuzz_http tests/fuzz/fuzz_http.c src/http.c src/http_date.c
	clang $(FUZZ_FLAGS) -o build-fuzz/fuzz_args tests/fuzz/fuzz_args.c $(LIB_SRCS) $(LDLIBS)
	clang $(FUZZ_FLAGS) -o build-fuzz/fuzz_member tests/fuzz/fuzz_member.c $(LIB_SRCS) $(LDLIBS)
	clang $(FUZZ_FLAGS) -o build-fuzz/fuzz_frame tests/fuzz/fuzz_frame.c src/frame.c
	for t in http args member frame; do \
	  mkdir -p build-fuzz/corpus-$$t && \
	  build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -max_len=8192 \
	    -dict=tests/fuzz/$$t.dict -artifact_prefix=build-fuzz/$$t- \
	    build-fuzz/corpus-$$t tests/fuzz/corpus-$$t || exit 1; \
	done

# The C sources in .clang-format's style: `make format` rewrites them,
# `make format-check` (CI) fails on one that does not follow it.
FORMAT_SRCS = src/*.c src/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/helpers/flakyfs.c bench/*.c
format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

install: $(B)/ringcast $(COMPLETIONS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHDIR) \
	  $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	install -m 755 $(B)/ringcast $(DESTDIR)$(BINDIR)/ringcast
	install -m 644 man/ringcast.1 $(DESTDIR)$(MANDIR)/man1/ringcast.1
	install -m 644 $(B)/ringcast.bash $(DESTDIR)$(BASHDIR)/ringcast
	install -m 644 $(B)/_ringcast $(DESTDIR)$(ZSHDIR)/_ringcast
	install -m 644 $(B)/ringcast.fish $(DESTDIR)$(FISHDIR)/ringcast.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ringcast $(DESTDIR)$(MANDIR)/man1/ringcast.1 \
	  $(DESTDIR)$(BASHDIR)/ringcast $(DESTDIR)$(ZSHDIR)/_ringcast \
	  $(DESTDIR)$(FISHDIR)/ringcast.fish

demo: $(B)/ringcast
	RINGCAST=$(B)/ringcast examples/demo.sh

bench: $(B)/ringcast
	bench/run

clean:
	rm -rf build build-asan build-clang build-fuzz build-unsafe

.PHONY: all check check-asan fuzz format format-check install uninstall demo bench clean
