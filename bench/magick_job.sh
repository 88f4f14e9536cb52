#!/usr/bin/env bash
# The avatar job in ImageMagick: auto-orient, strip, cap at 1024, Q85, then four centre-cropped
# squares made from the normalised image.
set -euo pipefail
out=$1; shift
mkdir -p "$out"
for path in "$@"; do
  base=$(basename "${path%.*}")
  ext=jpg
  case "$path" in *.png) ext=png ;; esac
  convert "$path[0]" -auto-orient -strip -resize '1024x1024>' -quality 85 "$out/$base.$ext"
  for size in 256 128 64 32; do
    convert "$out/$base.$ext" -resize "${size}x${size}^" -gravity center -extent "${size}x${size}" \
      -strip -quality 85 "$out/${base}_$size.$ext"
  done
done
