#include "sha256.h"
#include "unit/unit.h"

namespace tandem {

std::string unit_checksum(const std::string& text) {
  std::string normalized;
  normalized.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      normalized += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      normalized += text[i];
    }
  }
  return sha256_hex(normalized);
}

}  // namespace tandem
