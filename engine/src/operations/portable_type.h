// The portable column types of DESIGN §2 and their parse.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tandem::ops {

enum class TypeKind {
  integer, bigint, smallint, boolean, string, text, mediumtext, float_, double_, decimal,
  datetime, date, blob, json, enumeration
};

struct PortableType {
  TypeKind kind = TypeKind::text;
  int length = 0;     // string(N)
  int precision = 0;  // decimal(p,s)
  int scale = 0;
  std::vector<std::string> values;  // enum(a,b)
};

// nullopt when `text` is not a portable type.
std::optional<PortableType> parse_portable_type(const std::string& text);

}  // namespace tandem::ops
