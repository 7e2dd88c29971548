// See frame.h.
#include "config/frame.h"

#include <cerrno>

namespace vsw::config {

Result<std::string> encode_frame(const google::protobuf::MessageLite& message) {
  const std::size_t size = message.ByteSizeLong();
  if (size > kMaxMessage)
    return make_error(EMSGSIZE, "message of " + std::to_string(size) + " bytes exceeds the " +
                                    std::to_string(kMaxMessage) + "-byte limit");
  std::string out(kFrameHeader + size, '\0');
  out[0] = static_cast<char>((size >> 24) & 0xff);
  out[1] = static_cast<char>((size >> 16) & 0xff);
  out[2] = static_cast<char>((size >> 8) & 0xff);
  out[3] = static_cast<char>(size & 0xff);
  if (!message.SerializeToArray(out.data() + kFrameHeader, static_cast<int>(size)))
    return make_error(EINVAL, "cannot serialize message");
  return out;
}

}  // namespace vsw::config
