# linux-cr: top-level entry points. Everything lands in $(LCR_BUILD)
# (default ./build); the kernel tree is $(LCR_BUILD)/linux.
LCR_BUILD ?= $(CURDIR)/build
export LCR_BUILD
S := $(CURDIR)/scripts
UAPI := $(LCR_BUILD)/headers/include

.PHONY: all setup tree export kernel kernel-debug headers kunit userspace \
	initramfs guest-test guest-test-debug shell checkpatch test demo soak \
	kernel-bench bench clean help

all: help

help:
	@echo "make demo          build everything, boot the guest, checkpoint/restart a counter"
	@echo "make test          the whole test run (what CI runs), ends with 'N passed, N failed'"
	@echo "make setup         apt-get install what the rig needs"
	@echo "make tree          $(LCR_BUILD)/linux = Debian source (ckpt-base) + patches/"
	@echo "make export        patches/ = git format-patch ckpt-base..HEAD of the tree"
	@echo "make kernel        build the QEMU guest kernel (+ uapi headers)"
	@echo "make kernel-debug  build the debug kernel (KASAN, lockdep, kmemleak...)"
	@echo "make kunit         run the KUnit tests"
	@echo "make userspace     build userspace/ and tests/guest/ against the uapi headers"
	@echo "make initramfs     build the busybox initramfs"
	@echo "make guest-test    run /tests/run-all.sh in the guest (guest-test-debug: debug kernel)"
	@echo "make shell         boot the guest to an interactive shell"
	@echo "make checkpatch    checkpatch.pl --strict over the series"
	@echo "make soak          fuzz restart(2) in the guest for MINUTES=30 (DEBUG=1: debug kernel)"
	@echo "make kernel-bench  build the bench kernel (the QEMU kernel + what CRIU needs)"
	@echo "make bench         time checkpoint/restart of 1, 64, 256 MiB against memcpy, tmpfs and"
	@echo "                   CRIU in the guest (SIZES=1,64,256 ROUNDS=3 NOCRIU=1); not in make test"
	@echo "make clean         remove build outputs (keeps $(LCR_BUILD)/linux)"

setup:
	$(S)/setup.sh

tree: setup
	$(S)/tree.sh

export:
	$(S)/export.sh

kernel: tree
	$(S)/build-kernel.sh qemu

headers: kernel

kernel-debug: tree
	$(S)/build-kernel.sh debug

kunit: tree
	$(S)/kunit.sh

userspace: kernel
	$(MAKE) -C userspace O=$(LCR_BUILD)/userspace UAPI=$(UAPI)
	$(MAKE) -C tests/guest O=$(LCR_BUILD)/tests UAPI=$(UAPI)

initramfs: setup
	$(S)/mkinitramfs.sh

guest-test: kernel userspace initramfs
	$(S)/guest.sh /tests/run-all.sh

guest-test-debug: kernel-debug userspace initramfs
	$(S)/guest.sh --debug "LCR_TEST_TIMEOUT=600 /tests/run-all.sh"

shell: kernel initramfs
	$(S)/guest.sh --shell

checkpatch: tree
	$(S)/checkpatch.sh

test:
	$(S)/test.sh

MINUTES ?= 30
soak: kernel userspace initramfs
	$(S)/soak.sh $(if $(DEBUG),--debug) $(MINUTES)

demo:
	$(S)/demo.sh

kernel-bench: tree
	$(S)/build-kernel.sh bench

bench: kernel-bench
	$(S)/bench.sh $(if $(SIZES),--sizes $(SIZES)) $(if $(ROUNDS),--rounds $(ROUNDS)) \
		$(if $(NOCRIU),--no-criu)

clean:
	rm -rf $(LCR_BUILD)/kernel-qemu $(LCR_BUILD)/kernel-debug $(LCR_BUILD)/kunit \
		$(LCR_BUILD)/kernel-bench $(LCR_BUILD)/bench $(LCR_BUILD)/initramfs-bench-root \
		$(LCR_BUILD)/initramfs-bench.cpio.gz \
		$(LCR_BUILD)/kunit-selftest $(LCR_BUILD)/kunit-selftest.kunitconfig \
		$(LCR_BUILD)/headers $(LCR_BUILD)/userspace $(LCR_BUILD)/tests \
		$(LCR_BUILD)/initramfs-root $(LCR_BUILD)/initramfs.cpio.gz \
		$(LCR_BUILD)/logs $(LCR_BUILD)/accel
