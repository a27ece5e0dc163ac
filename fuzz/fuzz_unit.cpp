// The unit loader: a unit file's text through load_repositories and validate_units.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tandem::fuzz::unit_input(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const tandem::Error&) {
    // A refusal with a kind and a message is the expected answer to bad input.
  }
  return 0;
}
