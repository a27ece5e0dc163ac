#include "batch/batch_cursor.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hex.h"
#include "tandem/error.h"

namespace tandem {

std::string BatchCursor::dump() const {
  // A key value is whatever bytes its column holds, and JSON text takes valid UTF-8 only.
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
        if (value.is_null()) {
          cursor.after.push_back(std::nullopt);
        } else if (hex) {
          auto bytes = from_hex(value.get<std::string>());
          if (!bytes) throw nlohmann::json::other_error::create(501, "a key value in after_hex is not hex", nullptr);
          cursor.after.push_back(std::move(*bytes));
        } else {
          cursor.after.push_back(value.is_string() ? value.get<std::string>() : value.dump());
        }
      }
    return cursor;
  } catch (const nlohmann::json::exception& error) {
    throw Error(ErrorKind::step_failed, fmt::format("a stored batch cursor cannot be read ({}): {}", error.what(), text));
  }
}

}  // namespace tandem
