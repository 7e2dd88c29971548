#!/usr/bin/env bash
# Builds Open vSwitch's userspace library (lib/libopenvswitch.a) from Debian's
# openvswitch-source tarball into OUTDIR, for the reference column of bench/classifier.
# Nothing from Open vSwitch is committed; this only unpacks and builds in the build tree.
#   bench/classifier/build-ovs.sh OUTDIR      -> OUTDIR/openvswitch/lib/.libs/libopenvswitch.a
set -euo pipefail
out=${1:?usage: build-ovs.sh OUTDIR}
tarball=${OVS_TARBALL:-}
if [ -z "$tarball" ]; then
	for t in /usr/src/openvswitch/openvswitch.tar.gz /usr/src/openvswitch*.tar.*; do
		[ -f "$t" ] && { tarball=$t; break; }
	done
fi
[ -f "$tarball" ] || { echo "build-ovs: no openvswitch-source tarball found" >&2; exit 1; }
mkdir -p "$out"
src=$out/openvswitch
lib=$src/lib/.libs/libopenvswitch.a
if [ -f "$lib" ]; then echo "$lib"; exit 0; fi
if [ ! -f "$src/configure" ]; then
	tar -C "$out" -xzf "$tarball"
fi
cd "$src"
if [ ! -f Makefile ]; then
	PYTHON3=/usr/bin/python3 ./configure --disable-ssl --disable-libcapng --enable-ndebug \
		CFLAGS="-O2 -g" >configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }
fi
# Generated headers first (automake builds BUILT_SOURCES only for "make all"), then the library.
built=$(printf 'print-built:\n\t@echo $(BUILT_SOURCES)\n' | make -s -f Makefile -f - print-built)
make -j"$(nproc)" $built >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
make -j"$(nproc)" lib/libopenvswitch.la >>make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
echo "$lib"
