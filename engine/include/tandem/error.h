// The one error type of tandem. Raised where a problem is found, carrying enough
// context (file, line, version, object, SQL) for a message an operator can act on;
// turned into a message and an exit code in one place, the CLI's main.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

namespace tandem {

enum class ErrorKind {
  usage,              // 64: the command line is wrong
  invalid_unit,       // 65: a unit or repository cannot be read or is misaligned
  unreachable,        // 69: a database cannot be reached
  lock_held,          // 75: another run holds the lock past --wait
  bad_config,         // 78: the config file or a URL is wrong
  step_failed,        // 1: a statement failed, a phase rule was broken
  out_of_order,       // 1: a phase asked before the phase it needs
  checksum_mismatch,  // 1: an applied unit was edited
  release_running,    // 1: contract while a live release older than it runs (DESIGN §15)
};

// The exit code the CLI returns for an error of this kind (DESIGN §11).
int exit_code(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message);

  ErrorKind kind() const { return kind_; }

  // Optional context; with_* return *this so a raise site can chain them.
  Error& with_file(std::string file, int line = 0);
  Error& with_sql(std::string sql);
  // The driver's code for a database error (SQLSTATE on PostgreSQL, the error number on
  // MySQL, the extended result code on SQLite), for the dialect to classify.
  Error& with_code(std::string code);

  const std::optional<std::string>& file() const { return file_; }
  int line() const { return line_; }
  const std::optional<std::string>& sql() const { return sql_; }
  const std::string& code() const { return code_; }

  // "file:line: message" followed by the failing SQL when there is one.
  std::string describe() const;

 private:
  ErrorKind kind_;
  std::optional<std::string> file_;
  int line_ = 0;
  std::optional<std::string> sql_;
  std::string code_;
};

}  // namespace tandem
