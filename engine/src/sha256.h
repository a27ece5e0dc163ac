// SHA-256 of a byte string as 64 lowercase hex digits: unit checksums, shortened object
// names, and the keys of the rows move_rows moved.
#pragma once

#include <string>
#include <string_view>

namespace tandem {

std::string sha256_hex(std::string_view bytes);

}  // namespace tandem
