#!/usr/bin/env python3
"""Extra PIL references for the image tests (testdata/images_v1/extra).

The shared fixture set images_v1 has no 16-bit, CMYK/YCCK, interlaced, low-bit-depth or
palette-with-short-PLTE files, and its resize cases are all downscales of photos. This script
writes small synthetic files of those kinds and records what PIL makes of them: the expected
outputs are PIL's, never vista's.

    python3 tests/image/tools/make_extra_references.py OUT_DIR WRITE_YCCK_JPEG_BINARY

Run with Debian 12's python3-pil (Pillow 9.4.0, system libjpeg-turbo 2.1.5) and python3-numpy;
write_ycck_jpeg is tests/image/tools/write_ycck_jpeg.c built against libjpeg.
PNG files are written by hand (zlib + struct) so every colour type / bit depth / interlace
combination can be produced; PIL only reads them.
"""
import io
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import PIL
from PIL import Image

OUT = sys.argv[1]
YCCK_TOOL = sys.argv[2]
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20240611)
tensors = {}
entries = []


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples, bit_depth):
    """samples: 1-D array of sample values for one scanline."""
    if bit_depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in samples)
    if bit_depth == 8:
        return bytes(int(v) for v in samples)
    per_byte = 8 // bit_depth
    out = bytearray()
    for i in range(0, len(samples), per_byte):
        byte = 0
        group = list(samples[i:i + per_byte]) + [0] * (per_byte - len(samples[i:i + per_byte]))
        for v in group:
            byte = (byte << bit_depth) | int(v)
        out.append(byte)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(samples, bit_depth, color_type, extra=b"", interlace=False):
    """samples: [H, W, S] integer array."""
    h, w, s = samples.shape
    raw = bytearray()
    if not interlace:
        for y in range(h):
            raw += b"\x00" + pack_row(samples[y].reshape(-1), bit_depth)
    else:
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            for y in range(sub.shape[0]):
                raw += b"\x00" + pack_row(sub[y].reshape(-1), bit_depth)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) +
            chunk(b"IEND", b""))


def pil_rgb(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).copy(), im.mode


def add_file(name, data, note):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    rgb, mode = pil_rgb(path)
    key = "decoded." + name
    tensors[key] = rgb
    entries.append({"file": name, "expected": key, "pil_mode": mode, "note": note})


H, W = 13, 19  # odd sizes: partial bytes in low-bit rows, every Adam7 pass non-trivial

# Grayscale, every bit depth; 16-bit values spread over the whole range (PIL clips to 255).
for bd in (1, 2, 4, 8):
    s = rng.integers(0, 2 ** bd, (H, W, 1))
    add_file(f"gray{bd}.png", png_bytes(s, bd, 0), f"grayscale {bd}-bit")
s16 = rng.integers(0, 65536, (H, W, 1))
s16[0, :8, 0] = [0, 1, 254, 255, 256, 300, 1000, 65535]
add_file("gray16.png", png_bytes(s16, 16, 0), "grayscale 16-bit: PIL mode I, convert('RGB') clips to 255")
add_file("gray8_trns.png", png_bytes(rng.integers(0, 256, (H, W, 1)), 8, 0, chunk(b"tRNS", struct.pack(">H", 7))),
         "grayscale 8-bit with tRNS (ignored)")
add_file("gray_alpha8.png", png_bytes(rng.integers(0, 256, (H, W, 2)), 8, 4), "gray+alpha 8-bit (alpha dropped)")
add_file("gray_alpha16.png", png_bytes(rng.integers(0, 65536, (H, W, 2)), 16, 4), "gray+alpha 16-bit (MSB)")
add_file("rgb16.png", png_bytes(rng.integers(0, 65536, (H, W, 3)), 16, 2), "RGB 16-bit (MSB)")
add_file("rgba16.png", png_bytes(rng.integers(0, 65536, (H, W, 4)), 16, 6), "RGBA 16-bit (MSB, alpha dropped)")
rgba = rng.integers(0, 256, (H, W, 4))
rgba[..., 3] = rng.choice([0, 1, 128, 255], (H, W))
add_file("rgba8.png", png_bytes(rgba, 8, 6), "RGBA 8-bit with alpha 0/1/128/255: alpha dropped, no compositing")
add_file("rgb8_trns.png", png_bytes(rng.integers(0, 256, (H, W, 3)), 8, 2, chunk(b"tRNS", struct.pack(">HHH", 1, 2, 3))),
         "RGB 8-bit with tRNS (ignored)")
add_file("rgb8_interlaced.png", png_bytes(rng.integers(0, 256, (H, W, 3)), 8, 2, interlace=True), "RGB 8-bit Adam7")
add_file("gray16_interlaced.png", png_bytes(rng.integers(0, 65536, (H, W, 1)), 16, 0, interlace=True),
         "grayscale 16-bit Adam7")

# Palettes: every bit depth, full palettes, with tRNS.
for bd in (1, 2, 4, 8):
    n = 2 ** bd
    palette = rng.integers(0, 256, (n, 3)).astype(np.uint8).tobytes()
    trns = bytes(rng.integers(0, 256, n // 2 + 1).astype(np.uint8))
    s = rng.integers(0, n, (H, W, 1))
    add_file(f"palette{bd}.png", png_bytes(s, bd, 3, chunk(b"PLTE", palette) + chunk(b"tRNS", trns)),
             f"palette {bd}-bit with tRNS (ignored by convert('RGB'))")
palette = rng.integers(0, 256, (16, 3)).astype(np.uint8).tobytes()
add_file("palette8_interlaced.png",
         png_bytes(rng.integers(0, 16, (H, W, 1)), 8, 3, chunk(b"PLTE", palette), interlace=True),
         "palette 8-bit Adam7")

# JPEG: subsampling variants written by PIL, CMYK written by PIL (Adobe, inverted), YCCK and
# plain CMYK written by libjpeg, a file with junk bytes before a marker (libjpeg warns, PIL decodes).
yy, xx = np.mgrid[0:48, 0:64]
smooth = np.stack([(xx * 4) % 256, (yy * 5) % 256, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
noisy = np.clip(smooth.astype(int) + rng.integers(-40, 41, smooth.shape), 0, 255).astype(np.uint8)
for sub, label in ((0, "444"), (1, "422"), (2, "420")):
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, "JPEG", quality=90, subsampling=sub)
    add_file(f"rgb_{label}.jpg", buf.getvalue(), f"YCbCr JPEG {label} written by PIL")
buf = io.BytesIO()
Image.fromarray(noisy).save(buf, "JPEG", quality=90, progressive=True, subsampling=2)
progressive = buf.getvalue()
add_file("rgb_progressive.jpg", progressive, "progressive YCbCr 4:2:0 written by PIL")
cmyk = np.concatenate([noisy, rng.integers(0, 256, (48, 64, 1)).astype(np.uint8)], -1)
buf = io.BytesIO()
Image.fromarray(cmyk, "CMYK").save(buf, "JPEG", quality=90)
add_file("cmyk_pil.jpg", buf.getvalue(), "CMYK JPEG written by PIL (Adobe marker, inverted values)")
raw_path = os.path.join(OUT, "cmyk.raw.tmp")
cmyk.tofile(raw_path)
for mode in ("ycck", "cmyk", "cmyk-noadobe"):
    out = os.path.join(OUT, f"{mode.replace('-', '_')}_libjpeg.jpg")
    subprocess.run([YCCK_TOOL, raw_path, "64", "48", out, mode], check=True)
    with open(out, "rb") as f:
        data = f.read()
    add_file(os.path.basename(out), data, f"4-component JPEG written by libjpeg as {mode}")
os.remove(raw_path)
baseline = open(os.path.join(OUT, "rgb_420.jpg"), "rb").read()
sos = baseline.index(b"\xff\xda")
junk = baseline[:sos] + b"\x00\x11\x22" + baseline[sos:]
add_file("junk_before_marker.jpg", junk, "3 junk bytes before SOS: libjpeg warns (extraneous data), PIL decodes")

# Bad files: what PIL says about each (the tests only require an error naming the file).
bad = []


def add_bad(name, data, note):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    try:
        with Image.open(path) as im:
            im.convert("RGB")
        pil = "decoded without error"
    except Exception as e:  # noqa: BLE001 - record whatever PIL raises
        pil = f"{type(e).__name__}: {e}"
    bad.append({"file": name, "note": note, "pil": pil})


good_png = png_bytes(rng.integers(0, 256, (H, W, 3)), 8, 2)
add_bad("truncated.png", good_png[: len(good_png) // 2], "PNG cut in the middle of IDAT")
broken = bytearray(good_png)
broken[29] ^= 0xFF  # last byte of the IHDR CRC
add_bad("bad_ihdr_crc.png", bytes(broken), "PNG with a wrong IHDR CRC")
broken = bytearray(good_png)
idat = good_png.index(b"IDAT")
broken[idat + 4 + 10] ^= 0x5A  # inside the zlib stream
add_bad("corrupt_idat.png", bytes(broken), "PNG with damaged compressed data (and so a wrong CRC)")
add_bad("truncated_scan.jpg", baseline[: int(len(baseline) * 0.6)], "baseline JPEG cut inside the scan")
add_bad("truncated_progressive.jpg", progressive[: int(len(progressive) * 0.6)], "progressive JPEG cut")
add_bad("not_an_image.txt", b"this is a text file, not an image\n", "text")
add_bad("empty.png", b"", "empty file")
add_bad("only_signature.png", b"\x89PNG\r\n\x1a\n", "PNG signature only")

# Resize: PIL Image.resize(BICUBIC) on small images in every direction (up, down, one axis, 1 px).
resize_cases = []
src_rgb = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
src_rgb[:10, :10] = 255  # saturated block: overshoot must clip
src_rgb[10:20, 10:20] = 0
src_gray = rng.integers(0, 256, (29, 41)).astype(np.uint8)
tensors["resize.input_rgb"] = src_rgb
tensors["resize.input_gray"] = src_gray[..., None]
for i, (oh, ow) in enumerate([(17, 23), (64, 80), (37, 100), (5, 53), (37, 20), (1, 1), (200, 3), (36, 52), (112, 150)]):
    key = f"resize.rgb.{i}"
    tensors[key] = np.asarray(Image.fromarray(src_rgb).resize((ow, oh), Image.BICUBIC))
    resize_cases.append({"input": "resize.input_rgb", "out_hw": [oh, ow], "expected": key})
for i, (oh, ow) in enumerate([(10, 14), (60, 90), (29, 7)]):
    key = f"resize.gray.{i}"
    tensors[key] = np.asarray(Image.fromarray(src_gray).resize((ow, oh), Image.BICUBIC))[..., None]
    resize_cases.append({"input": "resize.input_gray", "out_hw": [oh, ow], "expected": key})

# expand2square (LLaVA) on odd remainders, both orientations.
square_cases = []
for i, (h, w) in enumerate([(7, 10), (10, 7), (6, 9), (9, 4), (5, 5)]):
    img = Image.fromarray(rng.integers(0, 256, (h, w, 3)).astype(np.uint8))
    bg = (122, 116, 104)
    if w == h:
        res = img
    elif w > h:
        res = Image.new(img.mode, (w, w), bg)
        res.paste(img, (0, (w - h) // 2))
    else:
        res = Image.new(img.mode, (h, h), bg)
        res.paste(img, ((h - w) // 2, 0))
    tensors[f"square.input.{i}"] = np.asarray(img)
    tensors[f"square.expected.{i}"] = np.asarray(res)
    square_cases.append({"input": f"square.input.{i}", "expected": f"square.expected.{i}", "background": list(bg)})


def save_safetensors(path, arrays):
    header, blobs, offset = {}, [], 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        assert a.dtype == np.uint8
        header[name] = {"dtype": "U8", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


save_safetensors(os.path.join(OUT, "references.safetensors"), tensors)
with open(os.path.join(OUT, "references.json"), "w") as f:
    json.dump({
        "description": "PIL references for image decoding and resizing beyond images_v1 (synthetic files).",
        "generator": "tests/image/tools/make_extra_references.py",
        "pil_version": PIL.__version__,
        "numpy_version": np.__version__,
        "rules": {
            "decoded": "PNG and JPEG: exact (same libjpeg-turbo, default settings)",
            "resize": "exact (PIL Image.resize BICUBIC on uint8)",
            "square": "exact (LLaVA expand2square with Image.new + paste)",
            "bad": "vista must raise an error naming the file; 'pil' records what PIL raised",
        },
        "decoded": entries,
        "bad": bad,
        "resize": resize_cases,
        "square": square_cases,
    }, f, indent=1)
print(f"{len(entries)} decoded, {len(bad)} bad, {len(resize_cases)} resize, {len(square_cases)} square references")
