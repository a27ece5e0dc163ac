#include "progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>

namespace tandem::cli {

void ProgressDisplay::update(const MigrationFigure& figure) {
  const auto now = std::chrono::steady_clock::now();
  const std::string key = figure.database + ": " + figure.migration;
  auto [it, fresh] = seen_.try_emplace(key, Seen{now, now, figure.completed});
  Seen& seen = it->second;
  const double seconds = std::chrono::duration<double>(now - seen.started).count();
  const double rate = seconds > 0 ? static_cast<double>(figure.completed - seen.completed_at_start) / seconds : 0;
  const long long left = std::max<long long>(figure.needed - figure.completed, 0);
  const std::string eta = rate > 0 && !figure.done ? fmt::format(", {:.0f}s left", static_cast<double>(left) / rate) : "";
  const std::string speed = rate > 0 ? fmt::format(", {:.0f} rows/s", rate) : "";
  const double share = figure.needed > 0 ? std::min(1.0, static_cast<double>(figure.completed) / figure.needed) : 1.0;
  if (terminal_) {
    const int filled = static_cast<int>(share * 30);
    std::cout << fmt::format("\r{} [{}{}] {:>3.0f}% {}/{} rows{}{}\033[K", key, std::string(filled, '#'),
                             std::string(30 - filled, ' '), share * 100, figure.completed, figure.needed, speed, eta)
              << (figure.done ? "\n" : "") << std::flush;
    return;
  }
  if (!fresh && !figure.done && now - seen.printed < std::chrono::seconds(5)) return;
  seen.printed = now;
  std::cout << fmt::format("{}: {}/{} rows ({:.0f}%){}{}\n", key, figure.completed, figure.needed, share * 100, speed,
                           eta);
}

}  // namespace tandem::cli
