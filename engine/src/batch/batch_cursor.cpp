#include "batch/batch_cursor.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tandem/error.h"

namespace tandem {

std::string BatchCursor::dump() const {
  nlohmann::json out = {{"pass", pass}, {"changed", changed}, {"after", nullptr}};
  if (!after.empty()) {
    out["after"] = nlohmann::json::array();
    for (const auto& value : after) out["after"].push_back(value ? nlohmann::json(*value) : nlohmann::json(nullptr));
  }
  return out.dump();
}

BatchCursor BatchCursor::parse(const std::string& text) {
  try {
    const auto in = nlohmann::json::parse(text);
    BatchCursor cursor;
    cursor.pass = in.at("pass").get<int>();
    cursor.changed = in.at("changed").get<long long>();
    const auto& after = in.at("after");
    if (!after.is_null())
      for (const auto& value : after) {
        if (value.is_null())
          cursor.after.push_back(std::nullopt);
        else
          cursor.after.push_back(value.is_string() ? value.get<std::string>() : value.dump());
      }
    return cursor;
  } catch (const nlohmann::json::exception& error) {
    throw Error(ErrorKind::step_failed, fmt::format("a stored batch cursor cannot be read ({}): {}", error.what(), text));
  }
}

}  // namespace tandem
