#pragma once

namespace tandem {
inline constexpr const char* kToolVersion = "0.1.0";
}
