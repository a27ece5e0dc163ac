#include "operations/portable_type.h"

#include <map>
#include <regex>

namespace tandem::ops {

std::optional<PortableType> parse_portable_type(const std::string& text) {
  static const std::map<std::string, TypeKind> plain = {
      {"integer", TypeKind::integer}, {"bigint", TypeKind::bigint},     {"smallint", TypeKind::smallint},
      {"boolean", TypeKind::boolean}, {"text", TypeKind::text},         {"mediumtext", TypeKind::mediumtext},
      {"float", TypeKind::float_},    {"double", TypeKind::double_},    {"datetime", TypeKind::datetime},
      {"date", TypeKind::date},       {"blob", TypeKind::blob},         {"json", TypeKind::json},
  };
  if (auto it = plain.find(text); it != plain.end()) return PortableType{it->second};
  static const std::regex string_type(R"(string\(\s*([1-9][0-9]{0,4})\s*\))");
  static const std::regex decimal_type(R"(decimal\(\s*([1-9][0-9]?)\s*,\s*([0-9][0-9]?)\s*\))");
  static const std::regex enum_type(R"(enum\((.*)\))");
  static const std::regex enum_value(R"(\s*([A-Za-z0-9_-]+)\s*)");
  std::smatch match;
  if (std::regex_match(text, match, string_type)) {
    PortableType type{TypeKind::string};
    type.length = std::stoi(match[1]);
    return type;
  }
  if (std::regex_match(text, match, decimal_type)) {
    PortableType type{TypeKind::decimal};
    type.precision = std::stoi(match[1]);
    type.scale = std::stoi(match[2]);
    if (type.scale > type.precision) return std::nullopt;
    return type;
  }
  if (std::regex_match(text, match, enum_type)) {
    PortableType type{TypeKind::enumeration};
    std::string list = match[1];
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      std::smatch value;
      if (!std::regex_match(item, value, enum_value)) return std::nullopt;
      type.values.push_back(value[1]);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return type;
  }
  return std::nullopt;
}

}  // namespace tandem::ops
