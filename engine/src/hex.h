// Bytes as lowercase hex digits and back: digests, and key values kept in JSON text
// (batch cursors, the records of moved rows), which holds valid UTF-8 only while a key
// holds whatever bytes its column does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tandem {

std::string to_hex(std::string_view bytes);
// nullopt when `hex` is not an even number of lowercase hex digits.
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace tandem
