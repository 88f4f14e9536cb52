"""The avatar job in libvips: auto-orient, strip, cap the longest side at 1024 (shrink-on-load),
JPEG Q85 (PNG when there is alpha), then centre-cropped squares of 256, 128, 64 and 32 made from
the normalised image."""
import os
import sys

import pyvips

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for path in sys.argv[2:]:
    base = os.path.splitext(os.path.basename(path))[0]
    image = pyvips.Image.thumbnail(path, 1024, size="down")  # applies EXIF orientation
    if image.hasalpha():
        data = image.pngsave_buffer(strip=True)
        ext = "png"
    else:
        data = image.jpegsave_buffer(Q=85, strip=True)
        ext = "jpg"
    with open(os.path.join(out, f"{base}.{ext}"), "wb") as f:
        f.write(data)
    normalised = pyvips.Image.new_from_buffer(data, "")
    for size in (256, 128, 64, 32):
        square = normalised.thumbnail_image(size, height=size, crop="centre")
        thumb = square.pngsave_buffer(strip=True) if ext == "png" else square.jpegsave_buffer(Q=85, strip=True)
        with open(os.path.join(out, f"{base}_{size}.{ext}"), "wb") as f:
            f.write(thumb)
