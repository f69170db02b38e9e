#!/usr/bin/env bash
# espeak-ng and sox in a private prefix, for machines where they cannot be installed (the lent GPU
# machine has no package access).
#
#   tools/corpus/prefix.sh download DEBDIR   here: apt-get download the Debian packages into DEBDIR
#                                            and build the libpcaudio stub (pcaudio_stub.c) there
#   tools/corpus/prefix.sh unpack DEBDIR PREFIX
#                                            there: dpkg -x every .deb of DEBDIR into PREFIX, add the
#                                            stub, check that both programs start
#
# Nothing is installed system-wide: make_corpus.py --prefix PREFIX sets PATH, LD_LIBRARY_PATH,
# ESPEAK_DATA_PATH and MAGIC for its own subprocesses only. libpcaudio (live playback, which pulls
# in ALSA and PulseAudio) is replaced by a stub: the corpus only writes files.
set -euo pipefail
PACKAGES="espeak-ng libespeak-ng1 espeak-ng-data libsonic0 sox libsox3 libltdl7 libpng16-16
          libmagic1 libmagic-mgc libgsm1 libgomp1"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "prefix.sh: $*" >&2; exit 1; }

case "${1:-}" in
download)
  [ $# -eq 2 ] || die "usage: prefix.sh download DEBDIR"
  mkdir -p "$2"
  # shellcheck disable=SC2086
  (cd "$2" && apt-get download $PACKAGES)
  cc -O2 -shared -fPIC -Wall -Wextra -Wl,-soname,libpcaudio.so.0 -o "$2/libpcaudio.so.0" \
    "$here/pcaudio_stub.c"
  echo "prefix.sh: $(ls "$2"/*.deb | wc -l) packages and the pcaudio stub in $2"
  ;;
unpack)
  [ $# -eq 3 ] || die "usage: prefix.sh unpack DEBDIR PREFIX"
  deb=$2 prefix=$3
  ls "$deb"/*.deb >/dev/null 2>&1 || die "$deb: no .deb files (run 'prefix.sh download' first)"
  mkdir -p "$prefix"
  for f in "$deb"/*.deb; do dpkg -x "$f" "$prefix"; done
  lib=$prefix/usr/lib/x86_64-linux-gnu
  if [ -f "$deb/libpcaudio.so.0" ]; then
    cp "$deb/libpcaudio.so.0" "$lib/"
  else
    cc -O2 -shared -fPIC -Wl,-soname,libpcaudio.so.0 -o "$lib/libpcaudio.so.0" "$here/pcaudio_stub.c"
  fi
  export PATH=$prefix/usr/bin:$PATH
  export LD_LIBRARY_PATH=$lib:$prefix/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export ESPEAK_DATA_PATH=$lib MAGIC=$prefix/usr/lib/file/magic.mgc
  espeak-ng --version
  sox --version
  ;;
*)
  die "usage: prefix.sh download DEBDIR | unpack DEBDIR PREFIX"
  ;;
esac
