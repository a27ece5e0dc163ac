#include "batch/batch_cursor.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tandem/error.h"

namespace tandem {

namespace {

// A key value is whatever bytes its column holds, valid UTF-8 or not, and JSON text takes
// only the former: the cursor keeps each in hex.
std::string to_hex(const std::string& bytes) {
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const unsigned char byte : bytes) hex += fmt::format("{:02x}", byte);
  return hex;
}

std::string from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw nlohmann::json::other_error::create(501, "a key value in after_hex is not hex", nullptr);
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return bytes;
}

}  // namespace

std::string BatchCursor::dump() const {
  nlohmann::json out = {{"pass", pass}, {"changed", changed}, {"after_hex", nullptr}};
  if (!after.empty()) {
    out["after_hex"] = nlohmann::json::array();
    for (const auto& value : after) out["after_hex"].push_back(value ? nlohmann::json(to_hex(*value)) : nlohmann::json(nullptr));
  }
  return out.dump();
}

BatchCursor BatchCursor::parse(const std::string& text) {
  try {
    const auto in = nlohmann::json::parse(text);
    BatchCursor cursor;
    cursor.pass = in.at("pass").get<int>();
    cursor.changed = in.at("changed").get<long long>();
    // "after": the plain values an earlier tandem saved, read as they were written.
    const bool hex = in.contains("after_hex");
    const auto& after = hex ? in.at("after_hex") : in.at("after");
    if (!after.is_null())
      for (const auto& value : after) {
        if (value.is_null())
          cursor.after.push_back(std::nullopt);
        else if (hex)
          cursor.after.push_back(from_hex(value.get<std::string>()));
        else
          cursor.after.push_back(value.is_string() ? value.get<std::string>() : value.dump());
      }
    return cursor;
  } catch (const nlohmann::json::exception& error) {
    throw Error(ErrorKind::step_failed, fmt::format("a stored batch cursor cannot be read ({}): {}", error.what(), text));
  }
}

}  // namespace tandem
