#include "failpoint.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tandem/error.h"

namespace tandem::failpoint {

namespace {

constexpr auto kHoldLimit = std::chrono::minutes(2);

struct Point {
  bool hold = false;
  Moment moment = Moment::after;
  Site site = Site::step;
  int number = 0;
};

Point parse_point(const std::string& text, const std::string& whole) {
  const auto bad = [&] {
    return Error(ErrorKind::usage,
                 fmt::format("TANDEM_FAILPOINT '{}': '{}' is not [hold_]before_step:N, [hold_]after_step:N, [hold_]before_commit:N, [hold_]after_batch:N, [hold_]after_node:N or [hold_]after_copy:N", whole, text));
  };
  Point point;
  std::string rest = text;
  if (rest.rfind("hold_", 0) == 0) {
    point.hold = true;
    rest.erase(0, 5);
  }
  const size_t colon = rest.find(':');
  if (colon == std::string::npos) throw bad();
  const std::string place = rest.substr(0, colon), number = rest.substr(colon + 1);
  if (place == "before_step" || place == "after_step") {
    point.moment = place == "before_step" ? Moment::before : Moment::after;
    point.site = Site::step;
  } else if (place == "before_commit" || place == "after_batch") {
    point.moment = place == "before_commit" ? Moment::before : Moment::after;
    point.site = Site::batch;
  } else if (place == "after_node" || place == "after_copy") {
    point.moment = Moment::after;
    point.site = place == "after_node" ? Site::node : Site::copy;
  } else {
    throw bad();
  }
  if (number.empty() || number.size() > 9 || number.find_first_not_of("0123456789") != std::string::npos) throw bad();
  point.number = std::stoi(number);
  if (point.number < 1) throw bad();
  return point;
}

std::vector<Point> parse(const std::string& text) {
  std::vector<Point> points;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    points.push_back(parse_point(text.substr(start, comma - start), text));
    start = comma + 1;
  }
  return points;
}

const std::vector<Point>& configured() {
  static const std::vector<Point> points = [] {
    const char* value = std::getenv("TANDEM_FAILPOINT");
    return value && *value ? parse(value) : std::vector<Point>{};
  }();
  return points;
}

void hold() {
  const char* base = std::getenv("TANDEM_FAILPOINT_HOLD");
  if (!base || !*base) throw Error(ErrorKind::usage, "TANDEM_FAILPOINT holds at a hold_ point: set TANDEM_FAILPOINT_HOLD to a path");
  const std::filesystem::path reached = std::string(base) + ".reached", go = std::string(base) + ".go";
  std::ofstream{reached};
  const auto deadline = std::chrono::steady_clock::now() + kHoldLimit;
  while (!std::filesystem::exists(go) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace

void reach(Moment moment, Site site, int number) {
  for (const auto& point : configured()) {
    if (point.moment != moment || point.site != site || point.number != number) continue;
    if (point.hold)
      hold();
    else
      std::raise(SIGKILL);
  }
}

}  // namespace tandem::failpoint
