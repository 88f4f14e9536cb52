"""Makes the benchmark's photos from the shared EXIF test images: 12 MP and 3 MP JPEGs with the
source's EXIF orientation, a PNG with alpha, and an animated GIF."""
import os
import sys

from PIL import Image

source_dir, out_dir, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out_dir, exist_ok=True)
families = ["Landscape", "Portrait"]
for i in range(count):
    family = families[i % 2]
    orientation = 1 + (i % 8)
    src = Image.open(os.path.join(source_dir, f"{family}_{orientation}.jpg"))
    exif = src.info.get("exif", b"")
    w, h = src.size
    for label, pixels in (("12mp", 12_000_000), ("3mp", 3_000_000)):
        scale = (pixels / (w * h)) ** 0.5
        size = (round(w * scale), round(h * scale))
        # Sensor-like noise keeps the JPEG as hard to decode as a real photo.
        noise = Image.effect_noise(size, 18).convert("RGB")
        img = Image.blend(src.resize(size, Image.BICUBIC), noise, 0.08)
        img.save(os.path.join(out_dir, f"{label}_{i:02}.jpg"), quality=90, exif=exif)
alpha = Image.open(os.path.join(source_dir, "Landscape_1.jpg")).convert("RGBA")
alpha.putalpha(Image.linear_gradient("L").resize(alpha.size))
alpha.save(os.path.join(out_dir, "alpha.png"))
frames = [Image.open(os.path.join(source_dir, f"Portrait_{n}.jpg")).convert("P") for n in (1, 3)]
frames[0].save(os.path.join(out_dir, "animated.gif"), save_all=True, append_images=frames[1:], duration=200)
