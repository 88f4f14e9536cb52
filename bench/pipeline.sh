#!/usr/bin/env bash
# The avatar job (auto-orient, strip, longest side 1024, JPEG Q85, four centre-cropped square
# thumbnails) on the same photos, in one run: `employee-avatars normalize`, libvips (pyvips) and
# ImageMagick (`convert`). Prints CPU seconds per image, wall time and peak RSS of each, and the
# ratios project/libvips and project/ImageMagick. Installs what it needs from Debian and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-16}
TESTDATA=${TESTDATA_DIR:-../shared/testdata}/exif-orientation

if ! command -v convert >/dev/null || ! convert -version 2>/dev/null | grep -q ImageMagick \
   || ! ldconfig -p | grep -q libvips.so.42; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvips42 imagemagick >/dev/null
fi
python3 -c 'import PIL, pyvips' 2>/dev/null || pip install -q pillow pyvips
cargo build --release --quiet
BIN=$PWD/target/release/employee-avatars

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 bench/make_photos.py "$TESTDATA" "$WORK/in" "$COUNT"
export RUST_LOG=warn

run() { # tool, set, files...
  local tool=$1 set=$2; shift 2
  local out="$WORK/out-$tool-$set"
  local cmd
  case $tool in
    project) cmd=("$BIN" normalize --out "$out") ;;
    libvips) cmd=(python3 bench/vips_job.py "$out") ;;
    imagemagick) cmd=(bash bench/magick_job.sh "$out") ;;
  esac
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "${cmd[@]}" "$@" >/dev/null
  read -r wall user sys rss <"$WORK/time"
  local n=$#
  python3 -c "print(f'{\"$tool\":12} {\"$set\":6} {$n:4} {$wall:8.2f} {($user+$sys)/$n:10.3f} {$rss/1024:9.0f}')" \
    | tee -a "$WORK/results"
}

echo "$(nproc) cores; $COUNT photos per set; normalize uses images.workers (default: one per core)"
printf '%-12s %-6s %4s %8s %10s %9s\n' tool set n wall_s cpu_s/img rss_MB
for set in 12mp 3mp; do
  for tool in project libvips imagemagick; do
    run "$tool" "$set" "$WORK"/in/"$set"_*.jpg
  done
done
for tool in project libvips imagemagick; do
  run "$tool" mixed "$WORK/in/alpha.png" "$WORK/in/animated.gif"
done
# What starting Python and loading libvips costs, once per libvips run above (not subtracted).
/usr/bin/time -f "%U %S" -o "$WORK/time" python3 -c 'import pyvips'
read -r user sys <"$WORK/time"
python3 -c "print(f'(libvips start-up, included in its runs: {$user + $sys:.2f} CPU s per run)')"
python3 - "$WORK/results" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    tool, set_, n, wall, cpu, rss = line.split()
    rows[(tool, set_)] = (float(cpu), float(rss), float(wall))
for set_ in ("12mp", "3mp"):
    p, v, m = rows[("project", set_)], rows[("libvips", set_)], rows[("imagemagick", set_)]
    print(f"{set_}: CPU/image project/libvips = {p[0] / v[0]:.2f} (target <= 0.9), "
          f"project/ImageMagick = {p[0] / m[0]:.2f} (target <= 0.3); "
          f"peak RSS project/libvips = {p[1] / v[1]:.2f} (target <= 1.5)")
PY
