#include "core/io/Jpeg2000Decoder.h"

#include <openjpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <thread>

#include "core/base/Errors.h"

namespace jseg {
namespace {

enum class Container { None, Codestream, Jp2 };

Container detectContainer(const uint8_t* d, std::size_t n) {
  static const uint8_t kJ2k[4] = {0xFF, 0x4F, 0xFF, 0x51};
  static const uint8_t kJp2[12] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A};
  if (d && n >= sizeof(kJp2) && std::memcmp(d, kJp2, sizeof(kJp2)) == 0) return Container::Jp2;
  if (d && n >= sizeof(kJ2k) && std::memcmp(d, kJ2k, sizeof(kJ2k)) == 0) return Container::Codestream;
  return Container::None;
}

// OpenJPEG pulls bytes through callbacks; this is the cursor over the caller's buffer.
struct MemoryCursor {
  const uint8_t* data;
  std::size_t size;
  std::size_t pos;
};

OPJ_SIZE_T readBytes(void* buffer, OPJ_SIZE_T n, void* user) {
  auto* c = static_cast<MemoryCursor*>(user);
  if (c->pos >= c->size) return static_cast<OPJ_SIZE_T>(-1);  // OpenJPEG's end-of-stream signal
  const std::size_t k = std::min<std::size_t>(n, c->size - c->pos);
  std::memcpy(buffer, c->data + c->pos, k);
  c->pos += k;
  return k;
}

OPJ_OFF_T skipBytes(OPJ_OFF_T n, void* user) {
  auto* c = static_cast<MemoryCursor*>(user);
  if (n < 0) {
    const std::size_t back = static_cast<std::size_t>(-n);
    if (back > c->pos) return -1;
    c->pos -= back;
    return n;
  }
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(n), c->size - c->pos);
  c->pos += k;
  return static_cast<OPJ_OFF_T>(k);
}

OPJ_BOOL seekTo(OPJ_OFF_T target, void* user) {
  auto* c = static_cast<MemoryCursor*>(user);
  if (target < 0 || static_cast<std::size_t>(target) > c->size) return OPJ_FALSE;
  c->pos = static_cast<std::size_t>(target);
  return OPJ_TRUE;
}

void collectError(const char* msg, void* user) {
  auto* s = static_cast<std::string*>(user);
  if (s->empty() && msg) {
    *s = msg;
    while (!s->empty() && (s->back() == '\n' || s->back() == '\r')) s->pop_back();
  }
}
void ignoreMessage(const char*, void*) {}

struct CodecDeleter {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};

} // namespace

bool Jpeg2000Decoder::looksLikeJpeg2000(const uint8_t* data, std::size_t size) {
  return detectContainer(data, size) != Container::None;
}

Jpeg2000Image Jpeg2000Decoder::decode(const uint8_t* data, std::size_t size, const std::string& what) {
  const Container kind = detectContainer(data, size);
  if (kind == Container::None)
    throw InputError(what + ": the JPEG 2000 data has neither a codestream nor a JP2 signature (corrupt file?)");

  std::unique_ptr<opj_codec_t, CodecDeleter> codec(
      opj_create_decompress(kind == Container::Jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  if (!codec) throw InputError(what + ": OpenJPEG could not create a decoder");
  std::string error;
  opj_set_error_handler(codec.get(), collectError, &error);
  opj_set_warning_handler(codec.get(), ignoreMessage, nullptr);
  opj_set_info_handler(codec.get(), ignoreMessage, nullptr);

  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  if (!opj_setup_decoder(codec.get(), &params)) throw InputError(what + ": OpenJPEG decoder setup failed");
  // Without strict mode OpenJPEG "succeeds" on a truncated codestream and leaves part of the slice empty.
  opj_decoder_set_strict_mode(codec.get(), OPJ_TRUE);
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  opj_codec_set_threads(codec.get(), static_cast<int>(std::min(hw, 4u)));

  MemoryCursor cursor{data, size, 0};
  std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_create(64 * 1024, OPJ_TRUE));
  if (!stream) throw InputError(what + ": OpenJPEG could not create a stream");
  opj_stream_set_user_data(stream.get(), &cursor, nullptr);
  opj_stream_set_user_data_length(stream.get(), size);
  opj_stream_set_read_function(stream.get(), readBytes);
  opj_stream_set_skip_function(stream.get(), skipBytes);
  opj_stream_set_seek_function(stream.get(), seekTo);

  opj_image_t* raw = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw)) {
    if (raw) opj_image_destroy(raw);
    throw InputError(what + ": cannot read the JPEG 2000 header" + (error.empty() ? "" : " (" + error + ")"));
  }
  std::unique_ptr<opj_image_t, ImageDeleter> image(raw);
  if (!opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get()))
    throw InputError(what + ": JPEG 2000 decoding failed" + (error.empty() ? "" : " (" + error + ")") +
                     "; the file is probably truncated or corrupt");
  if (image->numcomps < 1 || !image->comps || !image->comps[0].data)
    throw InputError(what + ": the JPEG 2000 image has no samples");

  const opj_image_comp_t& c = image->comps[0];
  Jpeg2000Image out;
  out.width = static_cast<int>(c.w);
  out.height = static_cast<int>(c.h);
  out.components = static_cast<int>(image->numcomps);
  out.precision = static_cast<int>(c.prec);
  out.isSigned = c.sgnd != 0;
  out.samples.assign(c.data, c.data + static_cast<std::size_t>(c.w) * c.h);
  return out;
}

} // namespace jseg
