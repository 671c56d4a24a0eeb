#!/bin/sh
# Builds and runs fftw_peer.c (FFTW's own planned execution) with 1 and N threads.
set -e
here=$(dirname "$0")
out=${TMPDIR:-/tmp}/beamline-fftw-peer
cc -O2 -o "$out" "$here/fftw_peer.c" -lfftw3_threads -lfftw3 -lm -lpthread
"$out" 1
"$out" "${1:-$(nproc)}"
