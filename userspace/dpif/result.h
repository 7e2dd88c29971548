// The dpif layer uses the userspace-wide result type (util/result.h) under its own names.
#pragma once

#include "util/result.h"

namespace vsw::dpif {
using vsw::Error;
using vsw::make_error;
using vsw::Result;
}  // namespace vsw::dpif
