#include "dialect/normalize.h"

#include <fmt/format.h>

#include <cctype>

#include "operations/portable_type.h"

namespace tandem {

std::string DialectNormalizer::canonical_type(const std::string& type) const {
  if (auto portable = ops::parse_portable_type(type)) {
    if (portable->kind == ops::TypeKind::enumeration) return enum_type(portable->values);
    return respell(declared_type(type));
  }
  return respell(type);
}

const DialectNormalizer& normalizer_for(DialectKind kind) { return dialect_of(kind).normalizer(); }

std::string enum_type(const std::vector<std::string>& values) { return fmt::format("enum({})", fmt::join(values, ",")); }

std::optional<std::vector<std::string>> quoted_values(const std::string& list) {
  std::vector<std::string> values;
  size_t at = 0;
  auto skip_space = [&] {
    while (at < list.size() && std::isspace(static_cast<unsigned char>(list[at]))) ++at;
  };
  while (true) {
    skip_space();
    if (at >= list.size() || list[at] != '\'') return std::nullopt;
    std::string value;
    for (++at;; ++at) {
      if (at >= list.size()) return std::nullopt;
      if (list[at] == '\'') {
        if (at + 1 < list.size() && list[at + 1] == '\'') {
          value += list[++at];
          continue;
        }
        ++at;
        break;
      }
      value += list[at];
    }
    values.push_back(std::move(value));
    skip_space();
    if (at == list.size()) return values;
    if (list[at++] != ',') return std::nullopt;
  }
}

std::string squeeze(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    const bool tight = c == ')' || c == ',' || (!out.empty() && (out.back() == '(' || out.back() == ','));
    if (space && !tight) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace tandem
