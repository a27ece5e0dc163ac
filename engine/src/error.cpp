#include "tandem/error.h"

#include <fmt/format.h>

namespace tandem {

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return 64;
    case ErrorKind::invalid_unit: return 65;
    case ErrorKind::unreachable: return 69;
    case ErrorKind::lock_held: return 75;
    case ErrorKind::bad_config: return 78;
    case ErrorKind::step_failed:
    case ErrorKind::out_of_order:
    case ErrorKind::checksum_mismatch: return 1;
    case ErrorKind::release_running: return 1;
  }
  return 1;
}

Error::Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}

Error& Error::with_file(std::string file, int line) {
  file_ = std::move(file);
  line_ = line;
  return *this;
}

Error& Error::with_sql(std::string sql) {
  sql_ = std::move(sql);
  return *this;
}

Error& Error::with_code(std::string code) {
  code_ = std::move(code);
  return *this;
}

std::string Error::describe() const {
  std::string text;
  if (file_) text = line_ > 0 ? fmt::format("{}:{}: ", *file_, line_) : fmt::format("{}: ", *file_);
  text += what();
  if (sql_) text += fmt::format("\n  while running: {}", *sql_);
  return text;
}

}  // namespace tandem
