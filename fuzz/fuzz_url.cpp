// DatabaseUrl::parse and the redaction of what it parsed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tandem::fuzz::url_input(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const tandem::Error&) {
    // A refusal with a kind and a message is the expected answer to bad input.
  }
  return 0;
}
