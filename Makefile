# vaultctl - one non-recursive Makefile (the layout of the tree:
# doc/architecture.md, section 1).
# The version lives in lib/vc.h (VC_VERSION).
CC      ?= cc
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
DESTDIR ?=
# Host mode (make install as root): the binaries are setgid to GROUP, and
# the configuration they read is SYSCONFDIR/vaultctl/vaultctl.cnf, compiled
# in.  GROUP= (empty) or not root: plain binaries, personal mode.
SYSCONFDIR ?= /etc
GROUP   ?= vaultctl

PKGS     = libmariadb libcurl libcjson libsodium readline
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl and libmariadb are not linked: lib/curl_shim.c and
# lib/mariadb_shim.c load them on first use, so commands that never talk
# to Vault, or to the database (--help, usage errors, run --fallback with
# the server down), do not pay for them and their TLS libraries at
# start-up.  --as-needed drops what a binary does not use (readline
# outside the shell).
PKG_LIBS   := -Wl,--as-needed $(shell pkg-config --libs $(filter-out libcurl libmariadb,$(PKGS)) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN     = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -Ilib -Icmd/common -DVC_SYSCONFDIR='"$(SYSCONFDIR)"'
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -ldl
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
endif

LIB_SRC  = $(sort $(wildcard lib/*.c))
LIB_OBJ  = $(LIB_SRC:.c=.o)
LIB      = lib/libvaultctl.a
COMMON_SRC = $(sort $(wildcard cmd/common/*.c))
COMMON_OBJ = $(COMMON_SRC:.c=.o)
TOOLS   := $(shell sed -n 's/^[[:space:]]*VC_TOOL.\([a-z]*\),.*/\1/p' cmd/common/tools.h)
BINS     = $(addprefix bin/vaultctl-,$(TOOLS)) bin/vaultctl
TEST_SRC = $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN = $(TEST_SRC:.c=)
# Test-only programs the harness runs (tests/tools/vc-values: hygiene scan).
TEST_TOOLS = tests/tools/vc-values
MANS     = $(sort $(wildcard man/*.[1-8]))

# Objects depend on the flags they were built with, so that switching
# SANITIZE=1 on or off rebuilds everything instead of mixing objects.
FLAGS_STAMP = .build-flags
FLAGS_NOW  := $(CC) $(ALL_CFLAGS) $(CPPFLAGS) $(LDFLAGS)
$(shell [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = '$(FLAGS_NOW)' ] || echo '$(FLAGS_NOW)' > $(FLAGS_STAMP))

all: $(BINS)

$(FLAGS_STAMP): ;

%.o: %.c $(FLAGS_STAMP)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

define tool_rule
bin/vaultctl-$(1): $$(patsubst %.c,%.o,$$(sort $$(wildcard cmd/$(1)/*.c))) $$(COMMON_OBJ) $$(LIB)
	@mkdir -p bin
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

# The front command links every tool's command table for `vaultctl shell`
# (commands in-process over one connection); `vaultctl X` still execs.
TABLE_OBJ = $(filter-out %/main.o,$(patsubst %.c,%.o,$(foreach t,$(TOOLS),$(sort $(wildcard cmd/$(t)/*.c)))))
bin/vaultctl: $(patsubst %.c,%.o,$(sort $(wildcard cmd/vaultctl/*.c))) $(TABLE_OBJ) $(COMMON_OBJ) $(LIB)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_%: tests/unit/test_%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

tests/tools/%: tests/tools/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests: $(TEST_BIN) $(TEST_TOOLS)

deps:
	@sh tests/harness/deps.sh

# deps runs first, in a make of its own: this make read its flags
# (pkg-config) before the packages were there, so the build is a sub-make
# that reads them again.  The same holds for demo and check-galera.
check: deps
	@$(MAKE) --no-print-directory all tests
	@VC_BINS="$(BINS)" VC_VALGRIND="$(VALGRIND)" bash tests/run.sh

check-unit: all tests
	@bash tests/run.sh unit

# A three-node MariaDB Galera cluster on this machine (galera-4, rsync),
# started and stopped by the suite itself: about a minute.
check-galera: deps
	@$(MAKE) --no-print-directory all
	@bats --tap tests/galera

# libFuzzer targets of every parser of outside input, 10 minutes each.
fuzz:
	tests/fuzz/run.sh 600

demo: deps
	@$(MAKE) --no-print-directory all
	@bash tests/harness/demo.sh

lint-man:
	mandoc -Tlint -W warning $(MANS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	@if [ "$$(id -u)" = 0 ] && [ -n "$(GROUP)" ]; then \
		getent group '$(GROUP)' >/dev/null || groupadd --system '$(GROUP)' || exit 1; \
		for b in $(notdir $(BINS)); do \
			chown 'root:$(GROUP)' $(DESTDIR)$(BINDIR)/$$b && \
			chmod 2755 $(DESTDIR)$(BINDIR)/$$b || exit 1; done; \
		install -d -m 0750 -o root -g '$(GROUP)' $(DESTDIR)$(SYSCONFDIR)/vaultctl; \
		echo "host mode: $(BINDIR)/vaultctl* setgid $(GROUP), configuration $(SYSCONFDIR)/vaultctl/vaultctl.cnf"; \
	else \
		echo "personal mode: $(BINDIR)/vaultctl* are not setgid (not root, or GROUP= empty)"; \
	fi
	for m in $(MANS); do s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	for t in vaultctl $(addprefix vaultctl-,$(TOOLS)); do \
		[ ! -f completions/vaultctl.bash ] || install -m 0644 completions/vaultctl.bash $(DESTDIR)$(BASHCOMPDIR)/$$t; done
	[ ! -f completions/_vaultctl ] || install -m 0644 completions/_vaultctl $(DESTDIR)$(ZSHCOMPDIR)/_vaultctl
	[ ! -f completions/vaultctl.fish ] || install -m 0644 completions/vaultctl.fish $(DESTDIR)$(FISHCOMPDIR)/vaultctl.fish

clean:
	rm -f lib/*.o lib/*.d $(LIB) cmd/*/*.o cmd/*/*.d tests/unit/*.o tests/unit/*.d $(TEST_BIN) tests/tools/*.o tests/tools/*.d $(TEST_TOOLS) $(BINS) $(FLAGS_STAMP)
	rm -rf bench/out tests/fuzz/build

.PHONY: all deps check check-unit check-galera fuzz demo install clean tests lint-man
.SECONDARY:

-include $(wildcard lib/*.d cmd/*/*.d tests/unit/*.d tests/tools/*.d)
