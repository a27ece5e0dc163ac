// What each fuzz target feeds its input through, shared with tests/test_fuzz_regressions.cpp
// so that a kept finding replays through exactly the code the fuzzer ran. Each function
// returns, or throws tandem::Error for input it rejects; anything else (another exception,
// a crash, a hang, a sanitizer report) is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sql/lexer.h"
#include "sql/sql_text.h"
#include "tandem/deployment.h"
#include "tandem/error.h"
#include "tandem/findings.h"
#include "tandem/url.h"
#include "unit/unit.h"

namespace tandem::fuzz {

// A folder of this process for the loaders that read files, removed at exit: under
// $TANDEM_FUZZ_SCRATCH when set, else in memory (/dev/shm) where it can be.
class ScratchFolder {
 public:
  ScratchFolder() {
    std::error_code error;
    std::filesystem::path base = "/dev/shm";
    if (const char* chosen = std::getenv("TANDEM_FUZZ_SCRATCH")) base = chosen;
    else if (!std::filesystem::is_directory(base, error) || access(base.c_str(), W_OK) != 0)
      base = std::filesystem::temp_directory_path();
    path_ = base / ("tandem-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchFolder() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline const std::filesystem::path& scratch_folder() {
  static const ScratchFolder folder;
  return folder.path();
}

inline void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("fuzz harness: cannot write " + path.string());
}

// The first byte picks the dialect, the rest is the SQL: every reader of raw SQL in
// sql/sql_text.h, plus the lexer's own contract (tokens are non-empty and cover the text
// in order, so no reader can loop or skip).
inline void sql_input(std::string_view data) {
  if (data.empty()) return;
  const DialectKind dialect = static_cast<DialectKind>(static_cast<unsigned char>(data[0]) % 3);
  const std::string_view text = data.substr(1);
  size_t offset = 0;
  for (sql::Lexer lexer(text, dialect); !lexer.done();) {
    const sql::Token token = lexer.next();
    if (token.text.empty() || token.offset != offset || token.text.data() != text.data() + offset)
      throw std::logic_error("lexer: tokens do not cover the text in order");
    offset += token.text.size();
  }
  if (offset != text.size()) throw std::logic_error("lexer: tokens stop before the end of the text");
  (void)sql::script_problem(text, dialect);
  (void)sql::expression_problem(text, dialect);
  (void)sql::query_problem(text, dialect);
  (void)sql::normalize(text, dialect);
  for (const auto& statement : sql::split(text, dialect)) {
    (void)sql::classify(statement.text, dialect);
    (void)sql::is_schema_change(statement.text, dialect);
  }
}

// DatabaseUrl::parse, and what is done with a URL afterwards: printing it redacted,
// hiding its password in a driver's message.
inline void url_input(std::string_view data) {
  const std::string text(data);
  (void)redact_passwords(text);
  const DatabaseUrl url = DatabaseUrl::parse(text);
  (void)url.redacted();
  (void)url.hide_password(text);
}

// The text as version 001 of all three repositories, loaded and validated as `tandem
// check` does: load_repositories reads the files, validate_units applies the phase rules.
// Problems are findings, not errors; the function returns the count of error findings.
inline size_t unit_input(std::string_view data) {
  const auto root = scratch_folder() / "repos";
  for (const char* folder : {"expand_repo", "data_migration_repo", "contract_repo"}) {
    std::filesystem::create_directories(root / folder);
    write_text(root / folder / "001_fuzz.yaml", data);
  }
  Findings findings;
  const Repositories repositories = load_repositories(root, findings);
  validate_units(repositories, findings);
  size_t errors = 0;
  for (const auto& finding : findings.items()) errors += finding.severity == Severity::error;
  return errors;
}

// The text as a tandem.yaml, read by Deployment::load.
inline Deployment config_input(std::string_view data) {
  const auto file = scratch_folder() / "tandem.yaml";
  write_text(file, data);
  return Deployment::load(file);
}

}  // namespace tandem::fuzz
