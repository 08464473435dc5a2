#include "napi/packed_batch.h"

#include <cstring>
#include <string>

#include "napi/errors.h"
#include "redis/command_encoder.h"

namespace ncm::napi {
namespace {

// One argument of the command being encoded.
struct Piece {
  bool packed = false;  // in `text` ...
  const char16_t* units = nullptr;
  size_t unit_count = 0;
  napi_value other = nullptr;   // ... or a value from `others`:
  const void* bytes = nullptr;  // a Uint8Array's bytes, or null for a string
  size_t size = 0;              // UTF-8 or byte size
};

bool BadPlan(Napi::Env env, const char* what) {
  ThrowWithCode(env, "ERR_INVALID_ARG_VALUE", std::string("submitPacked: ") + what, true);
  return false;
}

}  // namespace

bool ReadPackedBatch(const Napi::CallbackInfo& info,
                     std::vector<std::unique_ptr<redis::Request>>* batch) {
  Napi::Env env = info.Env();
  batch->clear();
  napi_typedarray_type plan_type = napi_int8_array;
  size_t plan_capacity = 0;
  void* plan_data = nullptr;
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsNumber() ||
      !info[3].IsArray() ||
      napi_get_typedarray_info(env, info[1], &plan_type, &plan_capacity, &plan_data, nullptr,
                               nullptr) != napi_ok ||
      plan_type != napi_float64_array) {
    ThrowWithCode(env, "ERR_INVALID_ARG_TYPE",
                  "submitPacked(text, plan, planLength, others): expected a string, a "
                  "Float64Array, a number and an array",
                  true);
    return false;
  }
  const double* plan = static_cast<const double*>(plan_data);
  const double plan_length_value = info[2].As<Napi::Number>().DoubleValue();
  if (!(plan_length_value >= 0 && plan_length_value <= static_cast<double>(plan_capacity))) {
    ThrowWithCode(env, "ERR_INVALID_ARG_VALUE", "submitPacked: planLength is out of range", true);
    return false;
  }
  const size_t plan_length = static_cast<size_t>(plan_length_value);
  size_t text_length = 0;
  if (napi_get_value_string_utf16(env, info[0], nullptr, 0, &text_length) != napi_ok) {
    return false;
  }
  std::u16string text(text_length + 1, u'\0');
  size_t copied = 0;
  if (napi_get_value_string_utf16(env, info[0], text.data(), text_length + 1, &copied) != napi_ok ||
      copied != text_length) {
    return false;
  }
  napi_value others = info[3];
  uint32_t others_count = 0;
  napi_get_array_length(env, others, &others_count);

  std::vector<Piece> pieces;
  std::vector<std::unique_ptr<redis::Request>> out;
  size_t at = 0;
  size_t text_at = 0;
  while (at < plan_length) {
    if (plan_length - at < 4) return BadPlan(env, "a command header is cut short");
    const double id = plan[at];
    const double flags = plan[at + 1];
    const double timeout = plan[at + 2];
    const double argc = plan[at + 3];
    at += 4;
    if (!(argc >= 1 && argc <= static_cast<double>(plan_length - at)) ||
        !(id >= 0 && id <= 9007199254740991.0) || !(flags >= 0 && flags <= 255) ||
        !(timeout >= 0 && timeout <= 4294967295.0)) {
      return BadPlan(env, "a command header is out of range");
    }
    const size_t count = static_cast<size_t>(argc);
    pieces.assign(count, Piece{});
    size_t payload = 0;
    for (size_t i = 0; i < count; ++i) {
      const double entry = plan[at + i];
      Piece& piece = pieces[i];
      if (entry >= 0) {
        if (!(entry <= static_cast<double>(text_length - text_at))) {
          return BadPlan(env, "an argument runs past the packed text");
        }
        piece.packed = true;
        piece.units = text.data() + text_at;
        piece.unit_count = static_cast<size_t>(entry);
        text_at += piece.unit_count;
        piece.size = redis::Utf8SizeOfUtf16(piece.units, piece.unit_count);
      } else {
        const double index = -1 - entry;
        if (!(index >= 0 && index < static_cast<double>(others_count))) {
          return BadPlan(env, "an argument refers past the list of long arguments");
        }
        if (napi_get_element(env, others, static_cast<uint32_t>(index), &piece.other) != napi_ok) {
          return false;
        }
        napi_valuetype type = napi_undefined;
        bool is_typed = false;
        napi_typedarray_type ta = napi_int8_array;
        void* data = nullptr;
        if (napi_typeof(env, piece.other, &type) == napi_ok && type == napi_string) {
          if (napi_get_value_string_utf8(env, piece.other, nullptr, 0, &piece.size) != napi_ok) {
            return false;
          }
        } else if (napi_is_typedarray(env, piece.other, &is_typed) == napi_ok && is_typed &&
                   napi_get_typedarray_info(env, piece.other, &ta, &piece.size, &data, nullptr,
                                            nullptr) == napi_ok &&
                   ta == napi_uint8_array) {
          piece.bytes = data;
        } else {
          ThrowWithCode(env, "ERR_INVALID_ARG_TYPE",
                        "command arguments must be strings or Buffers/Uint8Arrays", true);
          return false;
        }
      }
      payload += piece.size;
    }
    at += count;
    auto request = std::make_unique<redis::Request>();
    redis::CommandEncoder encoder(&request->bytes, count, payload);
    for (const Piece& piece : pieces) {
      char* dst = encoder.Next(piece.size);
      if (piece.packed) {
        redis::WriteUtf16AsUtf8(piece.units, piece.unit_count, dst);
      } else if (piece.bytes != nullptr) {
        std::memcpy(dst, piece.bytes, piece.size);
      } else if (piece.size > 0) {
        size_t written = 0;
        // napi writes a NUL after the text: the encoder leaves room for it.
        if (napi_get_value_string_utf8(env, piece.other, dst, piece.size + 1, &written) !=
                napi_ok ||
            written != piece.size) {
          ThrowWithCode(env, "ERR_INVALID_ARG_VALUE", "a command argument could not be read");
          return false;
        }
      }
    }
    encoder.Finish();
    request->id = static_cast<uint64_t>(id);
    request->flags = static_cast<uint8_t>(flags);
    request->timeout_ms = static_cast<uint32_t>(timeout);
    out.push_back(std::move(request));
  }
  if (text_at != text_length) return BadPlan(env, "the packed text is longer than the plan");
  batch->swap(out);
  return true;
}

}  // namespace ncm::napi
