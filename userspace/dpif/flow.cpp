// Match helpers (see flow.h).
#include "dpif/flow.h"

namespace vsw::dpif {

void Match::normalize() {
  auto* k = reinterpret_cast<unsigned char*>(&key);
  const auto* m = reinterpret_cast<const unsigned char*>(&mask);
  for (std::size_t i = 0; i < sizeof key; ++i) k[i] &= m[i];
  std::memset(key.pad, 0, sizeof key.pad);
  std::memset(mask.pad, 0, sizeof mask.pad);
}

}  // namespace vsw::dpif
