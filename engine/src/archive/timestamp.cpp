#include <fmt/format.h>

#include <regex>

#include "tandem/archive.h"

namespace tandem {

std::optional<std::string> parse_timestamp(const std::string& text) {
  static const std::regex form(R"((\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?Z?)?)");
  std::smatch match;
  if (!std::regex_match(text, match, form)) return std::nullopt;
  auto number = [&](int group) { return match[group].matched ? std::stoi(match[group].str()) : 0; };
  const int year = number(1), month = number(2), day = number(3);
  const int hour = number(4), minute = number(5), second = number(6);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}{}", year, month, day, hour, minute, second, match[7].str());
}

}  // namespace tandem
