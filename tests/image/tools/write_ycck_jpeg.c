/* Writes a 4-component JPEG from raw CMYK bytes with libjpeg, as a test input for the decoder:
 *   write_ycck_jpeg IN.cmyk WIDTH HEIGHT OUT.jpg ycck|cmyk|cmyk-noadobe
 * ycck: colour-transformed to YCCK (Adobe transform 2); cmyk: stored as is (Adobe transform 0);
 * cmyk-noadobe: stored as is without an Adobe APP14 marker.
 * Build: cc write_ycck_jpeg.c -ljpeg -o write_ycck_jpeg */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s IN.cmyk WIDTH HEIGHT OUT.jpg ycck|cmyk|cmyk-noadobe\n", argv[0]);
    return 2;
  }
  int width = atoi(argv[2]), height = atoi(argv[3]);
  size_t n = (size_t)width * height * 4;
  unsigned char *pixels = malloc(n);
  FILE *in = fopen(argv[1], "rb");
  if (!in || fread(pixels, 1, n, in) != n) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
  fclose(in);
  FILE *out = fopen(argv[4], "wb");
  if (!out) { fprintf(stderr, "cannot write %s\n", argv[4]); return 1; }
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, out);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 92, TRUE);
  if (strcmp(argv[5], "ycck") == 0) {
    jpeg_set_colorspace(&cinfo, JCS_YCCK);
  } else {
    jpeg_set_colorspace(&cinfo, JCS_CMYK);
    if (strcmp(argv[5], "cmyk-noadobe") == 0) cinfo.write_Adobe_marker = FALSE;
  }
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = pixels + (size_t)cinfo.next_scanline * width * 4;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  fclose(out);
  free(pixels);
  return 0;
}
